#!/bin/sh
# Benchmark, run by hand as root (prints figures; not a test):
#   cargo build --release && bench/latency.sh [target/release/ddnsd] [IDLE_SECONDS]
# In a fresh network namespace with BIND 9 serving example.test on 127.0.0.1 (apt-get install
# bind9 bind9-dnsutils), ddnsd runs as a daemon with an interface source and the rfc2136
# provider. It measures, over 20 changes each:
#   1. `ip addr add` (nodad, old address removed) → the new AAAA served by BIND;
#   2. an address with duplicate address detection: the moment it stops being tentative →
#      served by BIND;
# (BIND is polled with dig every 10 ms), then the daemon's CPU seconds and peak RSS over
# IDLE_SECONDS (default 60) of idling.
set -eu
BIN=$(realpath "${1:-target/release/ddnsd}")
IDLE=${2:-60}
NS=ddnsd-bench-$$
DIR=$(mktemp -d)
PORT=5353
SECRET=c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=
# $PID and $NPID are the subshells of `nx CMD &`; the programs are their children, so the
# children are signalled first (killing only the subshell left the daemon running).
cleanup() {
  # shellcheck disable=SC2046
  [ -n "${PID:-}" ] && kill $(pgrep -P "$PID") "$PID" 2>/dev/null
  # shellcheck disable=SC2046
  [ -n "${NPID:-}" ] && kill $(pgrep -P "$NPID") "$NPID" 2>/dev/null
  sleep 0.2; ip netns del "$NS" 2>/dev/null; rm -rf "$DIR"
}
trap cleanup EXIT
ip netns add "$NS"
nx() { ip netns exec "$NS" "$@"; }
nx ip link set lo up
nx ip link add v0 type veth peer name v1
nx ip link set v0 up; nx ip link set v1 up

cat > "$DIR/example.test.zone" <<Z
\$TTL 300
@ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
  IN NS ns1.example.test.
ns1 IN A 127.0.0.1
Z
cat > "$DIR/named.conf" <<C
key "ddnsd-key" { algorithm hmac-sha256; secret "$SECRET"; };
options { directory "$DIR"; pid-file "$DIR/named.pid"; listen-on port $PORT { 127.0.0.1; };
  listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; };
controls { };
zone "example.test" { type primary; file "$DIR/example.test.zone";
  update-policy { grant ddnsd-key zonesub ANY; }; };
C
nx named -g -c "$DIR/named.conf" -u root > "$DIR/named.log" 2>&1 &
NPID=$!
served() { nx dig +short +time=1 +tries=1 @127.0.0.1 -p $PORT host.example.test AAAA; }
for _ in $(seq 100); do nx dig +short @127.0.0.1 -p $PORT example.test SOA | grep -q hostmaster && break; sleep 0.05; done

printf '%s\n' "$SECRET" > "$DIR/tsig"; chmod 600 "$DIR/tsig"
cat > "$DIR/ddnsd.toml" <<CFG
[daemon]
state_file = "$DIR/state.json"
[sources.wan6]
kind = "interface"
interface = "v0"
[providers.bind]
kind = "rfc2136"
server = "127.0.0.1:$PORT"
zone = "example.test"
tsig_name = "ddnsd-key"
tsig_secret_file = "$DIR/tsig"
[[records]]
name = "host.example.test"
provider = "bind"
sources = ["wan6"]
ttl = 60
CFG
nx ip -6 addr add 2001:db8:100::1/64 dev v0 nodad
RUST_BACKTRACE=0 nx "$BIN" run -c "$DIR/ddnsd.toml" 2>"$DIR/log" &
PID=$!
for _ in $(seq 200); do [ "$(served)" = "2001:db8:100::1" ] && break; sleep 0.05; done

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_served() { while [ "$(served)" != "$1" ]; do sleep 0.01; done; }
stats() { sort -n "$1" | awk -v what="$2" '{a[NR]=$1} END {p95=int(NR*0.95+0.999); printf "%s over %d changes (ms): min %d  median %d  p95 %d  max %d\n", what, NR, a[1], a[int((NR+1)/2)], a[p95], a[NR]}'; }

prev=2001:db8:100::1
: > "$DIR/lat"
for i in $(seq 2 21); do
  new=2001:db8:100::$(printf %x "$i")
  t0=$(now_ms)
  nx ip -6 addr add "$new/64" dev v0 nodad
  nx ip -6 addr del "$prev/64" dev v0
  wait_served "$new"
  echo $(( $(now_ms) - t0 )) >> "$DIR/lat"
  prev=$new
  sleep 1
done
stats "$DIR/lat" "ip addr add → served by BIND"

: > "$DIR/dad"
for i in $(seq 1 20); do
  new=2001:db8:200::$(printf %x "$i")
  nx ip -6 addr add "$new/64" dev v0
  nx ip -6 addr del "$prev/64" dev v0
  while nx ip -6 addr show dev v0 | grep "$new/" | grep -q tentative; do sleep 0.002; done
  t0=$(now_ms)
  wait_served "$new"
  echo $(( $(now_ms) - t0 )) >> "$DIR/dad"
  prev=$new
  sleep 1
done
stats "$DIR/dad" "DAD complete → served by BIND"

# The daemon runs as a child of `ip netns exec`; find its pid.
DPID=$(pgrep -P "$PID" ddnsd || echo "$PID")
read_cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
c0=$(read_cpu); r0=$(awk '/VmRSS/ {print $2}' "/proc/$DPID/status")
sleep "$IDLE"
c1=$(read_cpu)
hz=$(getconf CLK_TCK)
echo "idle ${IDLE} s: cpu $(awk "BEGIN {printf \"%.3f\", ($c1 - $c0) / $hz}") s; RSS $(awk '/VmRSS/ {print $2}' "/proc/$DPID/status") kB (at start of idle $r0 kB); peak RSS $(awk '/VmHWM/ {print $2}' "/proc/$DPID/status") kB"
echo "binary: $(stat -c %s "$BIN") bytes ($BIN)"
