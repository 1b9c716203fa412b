#!/bin/sh
# Benchmark against other clients, run by hand as root (prints figures; not a test):
#   cargo build --release --example tencent_emu && bench/peers.sh [BINARY] [CHANGES] [IDLE_SECONDS]
# Needs bind9, bind9-dnsutils, inadyn and python3 (a venv with PyPI's `ddns` is made under
# target/bench-venv on first use).
#
# Part 1, latency: in ONE network namespace (lo and a veth pair only, /etc/netns/NS/resolv.conf
# pointing at the namespace's own loopback, so nothing can leave the machine), ddnsd as a daemon
# and inadyn 2.10 (Debian's, `period = 5`, `iface = v0`) watch the same interface through the
# same CHANGES renumberings (default 20). inadyn speaks only dyndns2-style HTTP, so both publish
# through the same local dyndns2 server (bench/dyndns2_shim.py), which replaces the name's AAAA
# in BIND 9 with nsupdate before it answers: same protocol, same server, same path, each client
# with its own name. Latency = `ip addr` change → the new AAAA served by BIND (dig every 10 ms).
# Then both idle for IDLE_SECONDS (default 60): RSS and CPU of each.
#
# Part 2, API calls per change: ddnsd (`run --once`, as from a timer) and NewFuture's `ddns`
# 4.2.0 (PyPI; run once per change, as from its scheduler) against the test suite's Tencent
# Cloud emulator (bench/tencent_emu.rs), each with its own record: the calls of the first
# publication (record absent) and of each of 3 changes, by API action.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-target/release/ddnsd}")
CHANGES=${2:-20}
IDLE=${3:-60}
EMU=$(realpath "${EMU:-$(dirname "$BIN")/examples/tencent_emu}")
. "$HERE/lib.sh"
need inadyn python3
[ -x "$EMU" ] || { echo "bench: $EMU missing: cargo build --release --example tencent_emu" >&2; exit 2; }
cleanup() {
  bench_cleanup
  rm -rf "/etc/netns/$NS"
}
trap cleanup EXIT
bench_netns
mkdir -p "/etc/netns/$NS"
echo "nameserver 127.0.0.1" > "/etc/netns/$NS/resolv.conf"
bench_bind z0.test
export RUST_BACKTRACE=0
SHIM_PORT=8053

nx python3 "$HERE/dyndns2_shim.py" $SHIM_PORT bench bench-pass $BIND_PORT "$BENCH_KEY:$BENCH_SECRET" 2>"$DIR/shim.log" &
bench_track $!

cat > "$DIR/ddnsd.toml" <<CFG
[daemon]
state_file = "$DIR/ddnsd-state.json"
[sources.wan6]
kind = "interface"
interface = "v0"
[providers.shim]
kind = "dyndns2"
server = "http://127.0.0.1:$SHIM_PORT/nic/update"
username = "bench"
password = "bench-pass"
[[records]]
name = "ddnsd.z0.test"
provider = "shim"
sources = ["wan6"]
ttl = 60
CFG
# inadyn: no checkip server is contacted with `iface`; every name is an IP literal; the only
# name it resolves (its hostname, once at start) goes to the namespace's own loopback.
cat > "$DIR/inadyn.conf" <<CFG
period = 5
allow-ipv6 = true
custom bench {
  ssl = false
  ddns-server = "127.0.0.1:$SHIM_PORT"
  ddns-path = "/nic/update?hostname=%h&myip=%i"
  username = bench
  password = bench-pass
  hostname = inadyn.z0.test
  iface = v0
}
CFG

nx ip -6 addr add 2001:db8:100::1/64 dev v0 nodad
nx "$BIN" run -c "$DIR/ddnsd.toml" >/dev/null 2>"$DIR/ddnsd.log" &
DOUTER=$!
bench_track $DOUTER
nx inadyn -n -f "$DIR/inadyn.conf" -C "$DIR/inadyn-cache" -P "$DIR/inadyn.pid" -l notice >"$DIR/inadyn.log" 2>&1 &
IOUTER=$!
bench_track $IOUTER
i=0
until [ "$(served ddnsd.z0.test)" = 2001:db8:100::1 ] && [ "$(served inadyn.z0.test)" = 2001:db8:100::1 ]; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "not published:"; tail "$DIR/ddnsd.log" "$DIR/inadyn.log" "$DIR/shim.log"; exit 1; }
  sleep 0.05
done
DPID=$(inner_pid $DOUTER)
IPID=$(inner_pid $IOUTER)

: > "$DIR/lat.ddnsd"
: > "$DIR/lat.inadyn"
prev=2001:db8:100::1
n=2
while [ $n -le $((CHANGES + 1)) ]; do
  new=2001:db8:100::$(printf %x $n)
  t0=$(now_ms)
  nx ip -6 addr add "$new/64" dev v0 nodad
  nx ip -6 addr del "$prev/64" dev v0
  dd=""; di=""
  while [ -z "$dd" ] || [ -z "$di" ]; do
    t=$(now_ms)
    [ -n "$dd" ] || { [ "$(served ddnsd.z0.test)" = "$new" ] && dd=$((t - t0)); } || true
    [ -n "$di" ] || { [ "$(served inadyn.z0.test)" = "$new" ] && di=$((t - t0)); } || true
    [ $((t - t0)) -lt 30000 ] || { echo "change $n not published in 30 s"; exit 1; }
    sleep 0.01
  done
  echo "$dd" >> "$DIR/lat.ddnsd"
  echo "$di" >> "$DIR/lat.inadyn"
  prev=$new
  n=$((n + 1))
  # Changes land at a random phase of inadyn's 5 s period.
  sleep "$(awk -v s="$(date +%N)" 'BEGIN {srand(s); printf "%.2f", 1 + rand() * 5}')"
done
stats "$DIR/lat.ddnsd" "ddnsd (daemon, netlink events)  change → served by BIND"
stats "$DIR/lat.inadyn" "inadyn 2.10 (period = 5)         change → served by BIND"
md=$(median "$DIR/lat.ddnsd"); mi=$(median "$DIR/lat.inadyn")
echo "median ratio inadyn / ddnsd: $(awk -v a="$mi" -v b="$md" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')×"

cd0=$(cpu_ticks "$DPID"); ci0=$(cpu_ticks "$IPID")
sleep "$IDLE"
cd1=$(cpu_ticks "$DPID"); ci1=$(cpu_ticks "$IPID")
set -- $(rss_of "$DPID")
echo "ddnsd  idle ${IDLE} s: RSS $1 kB (peak $2 kB), cpu $(ticks_to_s $((cd1 - cd0))) s"
set -- $(rss_of "$IPID")
echo "inadyn idle ${IDLE} s: RSS $1 kB (peak $2 kB), cpu $(ticks_to_s $((ci1 - ci0))) s"
bench_stop "$DOUTER"; bench_stop "$IOUTER"

# Part 2: API calls per change against the Tencent emulator.
VENV="$HERE/../target/bench-venv"
if [ ! -x "$VENV/bin/ddns" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q ddns==4.2.0
fi
SID=AKIDbenchbenchbenchbenchbenchbench
SKEY=benchbenchbenchbenchbenchbenchbe
nx "$EMU" "$SID" "$SKEY" z0.test > "$DIR/emu.out" 2>"$DIR/emu.err" &
EOUTER=$!
bench_track $EOUTER
i=0
until grep -q '^endpoint ' "$DIR/emu.out"; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done
ENDPOINT=$(awk '/^endpoint / {print $2}' "$DIR/emu.out")
EPID=$(inner_pid $EOUTER)
calls() {
  before=$(grep -c '^calls ' "$DIR/emu.out" || true)
  kill -USR1 "$EPID"
  until [ "$(grep -c '^calls ' "$DIR/emu.out" || true)" -gt "$before" ]; do sleep 0.02; done
  grep '^calls ' "$DIR/emu.out" | tail -1 | cut -d' ' -f2-
}
cat > "$DIR/tc.toml" <<CFG
[daemon]
state_file = "$DIR/tc-state.json"
[sources.wan6]
kind = "interface"
interface = "v0"
[providers.tencent]
kind = "tencentcloud"
secret_id = "$SID"
secret_key_env = "BENCH_TC_KEY"
endpoint = "$ENDPOINT"
[[records]]
name = "ddnsd.z0.test"
provider = "tencent"
sources = ["wan6"]
ttl = 600
CFG
# ddns: the address from the interface (no public IP lookup), the emulator as endpoint, its
# cache in the temp dir; `ddns` runs no update check.
cat > "$DIR/ddns.json" <<CFG
{
  "dns": "tencentcloud",
  "id": "$SID",
  "token": "$SKEY",
  "endpoint": "$ENDPOINT",
  "ipv4": [],
  "ipv6": ["ddns.z0.test"],
  "index6": ["shell:ip -6 addr show dev v0 scope global | awk '/inet6/ {sub(\"/.*\", \"\", \$2); print \$2; exit}'"],
  "ttl": 600,
  "cache": "$DIR/ddns.cache",
  "log": {"level": "INFO", "file": "$DIR/ddns.log"}
}
CFG
calls > /dev/null
for step in create 1 2 3; do
  if [ "$step" != create ]; then
    nx ip -6 addr add "2001:db8:300::$step/64" dev v0 nodad
    nx ip -6 addr del "$prev/64" dev v0
    prev=2001:db8:300::$step
  fi
  nx env BENCH_TC_KEY="$SKEY" "$BIN" run --once -c "$DIR/tc.toml" > "$DIR/tc.out" 2>&1 || { cat "$DIR/tc.out"; exit 1; }
  c_d=$(calls)
  nx "$VENV/bin/ddns" -c "$DIR/ddns.json" > "$DIR/ddns.out" 2>&1 || { cat "$DIR/ddns.out" "$DIR/ddns.log"; exit 1; }
  c_p=$(calls)
  label=$([ "$step" = create ] && echo "first publication" || echo "change $step")
  echo "tencentcloud calls, $label: ddnsd $c_d | ddns $c_p"
done
