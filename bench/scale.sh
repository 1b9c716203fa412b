#!/bin/sh
# Benchmark, run by hand as root (prints figures; not a test):
#   cargo build --release --example delay_proxy && bench/scale.sh [BINARY] [RECORDS] [RTT_MS] [RENUMBERINGS]
# Needs bind9 and bind9-dnsutils.
#
# In a fresh network namespace: BIND 9 serving ten zones (z0.test … z9.test) behind
# bench/delay_proxy.rs, a UDP/TCP front that adds RTT_MS (default 50) of round trip (and one
# more for each TCP handshake). ddnsd runs as a daemon publishing RECORDS records (default
# 1000, spread over the ten zones; each record = the prefix of v0's address + its own host
# part) over RFC 2136 through that front. Each renumbering of v0 (default 5) is timed from the
# `ip addr` change until BIND serves all RECORDS new addresses (every zone transferred with AXFR
# straight from BIND every ~20 ms), with the DNS messages ddnsd sent for it (counted by the
# front) and the pass's own duration from ddnsd's log.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-target/release/ddnsd}")
RECORDS=${2:-1000}
RTT=${3:-50}
ROUNDS=${4:-5}
PROXY=$(realpath "${PROXY:-$(dirname "$BIN")/examples/delay_proxy}")
. "$HERE/lib.sh"
[ -x "$PROXY" ] || { echo "bench: $PROXY missing: cargo build --release --example delay_proxy" >&2; exit 2; }
trap bench_cleanup EXIT
bench_netns
# shellcheck disable=SC2086
bench_bind $FLEET_ZONES
export RUST_BACKTRACE=0
FRONT=5354

nx "$PROXY" "127.0.0.1:$FRONT" "127.0.0.1:$BIND_PORT" "$RTT" > "$DIR/proxy.out" 2>&1 &
POUTER=$!
bench_track $POUTER
sleep 0.3
PPID_=$(inner_pid $POUTER)
# Prints the front's counts since the last call.
front_counts() {
  before=$(wc -l < "$DIR/proxy.out")
  kill -USR1 "$PPID_"
  until [ "$(wc -l < "$DIR/proxy.out")" -gt "$before" ]; do sleep 0.02; done
  tail -1 "$DIR/proxy.out"
}
# Round trip through the front, as dig sees it.
t0=$(now_ms)
nx dig +short +tries=1 @127.0.0.1 -p "$FRONT" z0.test SOA > /dev/null
echo "front: $(( $(now_ms) - t0 )) ms for one SOA query over UDP through the front (RTT $RTT ms)"

gen_fleet_config "$DIR/fleet.toml" "$FRONT" "$RECORDS"
nx ip -6 addr add 2001:db8:1::1/64 dev v0 nodad
front_counts > /dev/null
t0=$(now_ms)
nx "$BIN" run -c "$DIR/fleet.toml" >/dev/null 2>"$DIR/ddnsd.log" &
bench_track $!
wait_fleet() {
  i=0
  until [ "$(fleet_served "$1")" -ge "$RECORDS" ]; do
    i=$((i + 1)); [ $i -lt 3000 ] || { echo "not all published:"; tail "$DIR/ddnsd.log"; exit 1; }
    sleep 0.01
  done
}
wait_fleet 2001:db8:1::
echo "first publication of $RECORDS records (zones found by SOA queries): $(( $(now_ms) - t0 )) ms from start; $(sleep 1; front_counts)"

: > "$DIR/lat"
n=2
while [ $n -le $((ROUNDS + 1)) ]; do
  sleep 1
  front_counts > /dev/null
  lines=$(wc -l < "$DIR/ddnsd.log")
  t0=$(now_ms)
  nx ip -6 addr add "2001:db8:$n::1/64" dev v0 nodad
  nx ip -6 addr del "2001:db8:$((n - 1))::1/64" dev v0
  wait_fleet "2001:db8:$n::"
  ms=$(( $(now_ms) - t0 ))
  echo "$ms" >> "$DIR/lat"
  sleep 0.5
  pass=$(tail -n +"$((lines + 1))" "$DIR/ddnsd.log" | grep -o 'ms=[0-9]*' | tail -1 || true)
  echo "renumbering $((n - 1)): all $RECORDS served in $ms ms (pass $pass); ddnsd sent: $(front_counts)"
  n=$((n + 1))
done
stats "$DIR/lat" "renumbering → all $RECORDS records served (RTT $RTT ms)"
