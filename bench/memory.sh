#!/bin/sh
# Benchmark, run by hand as root (prints figures; not a test):
#   cargo build --release && bench/memory.sh [BINARY] [IDLE_SECONDS] [RECORDS]
# (BINARY defaults to target/release/ddnsd; a musl build is measured the same way:
#  bench/memory.sh target/x86_64-unknown-linux-musl/release/ddnsd). Needs bind9 and
# bind9-dnsutils.
#
# In a fresh network namespace with BIND 9 serving ten zones on 127.0.0.1:
#   1. idle: the daemon with one interface source and one rfc2136 provider publishes one
#      record, then idles IDLE_SECONDS (default 30); prints its RSS, where the resident pages
#      live (/proc/PID/smaps: binary, libraries, heap, anonymous mappings, thread stacks),
#      threads and CPU;
#   2. load: the daemon publishes RECORDS records (default 1000) over the ten zones (one
#      prefix source per record), then v0 is renumbered twice; prints the peak RSS (VmHWM)
#      over all of it and the RSS once idle again.
# To see what the heap holds, run the daemon under `heaptrack` (see docs/design/performance.md).
set -eu
HERE=$(dirname "$0")
BIN=$(realpath "${1:-target/release/ddnsd}")
IDLE=${2:-30}
RECORDS=${3:-1000}
. "$HERE/lib.sh"
trap bench_cleanup EXIT
bench_netns
# shellcheck disable=SC2086
bench_bind $FLEET_ZONES
export RUST_BACKTRACE=0

echo "binary: $(stat -c %s "$BIN") bytes ($BIN; $(file -b "$BIN" | cut -d, -f1-2))"

# 1. Idle with one record.
gen_single_config "$DIR/single.toml" "$BIND_PORT"
nx ip -6 addr add 2001:db8:100::1/64 dev v0 nodad
nx "$BIN" run -c "$DIR/single.toml" >/dev/null 2>"$DIR/single.log" &
OUTER=$!
bench_track $OUTER
i=0
until [ "$(served host.z0.test)" = "2001:db8:100::1" ]; do
  i=$((i + 1)); [ $i -lt 400 ] || { echo "not published:"; cat "$DIR/single.log"; exit 1; }
  sleep 0.05
done
PID=$(inner_pid $OUTER)
c0=$(cpu_ticks "$PID")
sleep "$IDLE"
c1=$(cpu_ticks "$PID")
set -- $(rss_of "$PID")
echo "idle (1 interface source, 1 rfc2136 provider, 1 record), after ${IDLE} s: RSS $1 kB, peak $2 kB, threads $3, cpu $(ticks_to_s $((c1 - c0))) s"
echo "  $(breakdown "$PID" "$BIN")"
bench_stop "$OUTER"
wait "$OUTER" 2>/dev/null || true
nx ip -6 addr del 2001:db8:100::1/64 dev v0

# 2. Publishing RECORDS records, then two renumberings.
gen_fleet_config "$DIR/fleet.toml" "$BIND_PORT" "$RECORDS"
nx ip -6 addr add 2001:db8:1::1/64 dev v0 nodad
t0=$(now_ms)
nx "$BIN" run -c "$DIR/fleet.toml" >/dev/null 2>"$DIR/fleet.log" &
OUTER=$!
bench_track $OUTER
wait_fleet() {
  i=0
  until [ "$(fleet_served "$1")" -ge "$RECORDS" ]; do
    i=$((i + 1)); [ $i -lt 1200 ] || { echo "not all published:"; tail "$DIR/fleet.log"; exit 1; }
    sleep 0.02
  done
}
wait_fleet 2001:db8:1::
echo "load: $RECORDS records published from start in $(( $(now_ms) - t0 )) ms"
PID=$(inner_pid $OUTER)
for n in 2 3; do
  nx ip -6 addr add "2001:db8:$n::1/64" dev v0 nodad
  nx ip -6 addr del "2001:db8:$((n - 1))::1/64" dev v0
  t0=$(now_ms)
  wait_fleet "2001:db8:$n::"
  echo "load: renumbering $((n - 1)) of $RECORDS records served in $(( $(now_ms) - t0 )) ms"
done
sleep 2
set -- $(rss_of "$PID")
echo "load ($RECORDS records): peak RSS $2 kB; RSS after $1 kB, threads $3"
echo "  $(breakdown "$PID" "$BIN")"
