#!/bin/sh
# Run by hand as root: time from `ip addr add` to the daemon's publish log line over 20
# changes (min/median/p95/max), then peak RSS and CPU seconds over IDLE seconds idle.
#   cargo build --release && bench/latency.sh [target/release/ddnsd] [IDLE]
set -eu
BIN=$(realpath "${1:-target/release/ddnsd}")
IDLE=${2:-60}
NS=ddnsd-bench-$$
DIR=$(mktemp -d)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
ip netns add "$NS"
nx() { ip netns exec "$NS" "$@"; }
nx ip link set lo up
nx ip link add v0 type veth peer name v1
nx ip link set v0 up; nx ip link set v1 up
cat > "$DIR/ddnsd.toml" <<CFG
[daemon]
state_file = "$DIR/state.json"
[sources.wan6]
kind = "interface"
interface = "v0"
family = "ipv6"
[providers.p]
kind = "dry-run"
[[records]]
name = "host.example.test"
provider = "p"
sources = ["wan6"]
CFG
nx ip -6 addr add 2001:db8:100::1/64 dev v0 nodad
RUST_BACKTRACE=0 nx "$BIN" --log-format json run -c "$DIR/ddnsd.toml" 2>"$DIR/log" &
PID=$!
sleep 1
prev=2001:db8:100::1
: > "$DIR/lat"
for i in $(seq 2 21); do
  new=2001:db8:100::$(printf %x "$i")
  t0=$(date +%s%N)
  nx ip -6 addr add "$new/64" dev v0 nodad
  nx ip -6 addr del "$prev/64" dev v0
  while ! grep -q "\"addrs\":\"$new\"" "$DIR/log"; do sleep 0.005; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >> "$DIR/lat"
  prev=$new
  sleep 0.8
done
sort -n "$DIR/lat" | awk '{a[NR]=$1} END {p95=int(NR*0.95+0.999); printf "publish latency over %d changes (ms): min %d  median %d  p95 %d  max %d\n", NR, a[1], a[int((NR+1)/2)], a[p95], a[NR]}'
# The daemon runs as a child of `ip netns exec`; find its pid.
DPID=$(pgrep -P "$PID" ddnsd || echo "$PID")
read_cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
c0=$(read_cpu)
sleep "$IDLE"
c1=$(read_cpu)
hz=$(getconf CLK_TCK)
echo "idle ${IDLE} s: cpu $(awk "BEGIN {printf \"%.3f\", ($c1 - $c0) / $hz}") s; peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$DPID/status")"
