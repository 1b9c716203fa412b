#!/bin/sh
# Benchmark, run by hand as root (prints figures; not a test):
#   cargo build --release && bench/lan.sh [target/release/ddnsd] [HOSTS] [ROUNDS]
# A router namespace with a bridge br-lan, radvd (apt-get install radvd) and BIND 9 (bind9
# bind9-dnsutils) serving example.test on 127.0.0.1; HOSTS (default 50) host namespaces on
# the bridge, each forming a stable-privacy address (addr_gen_mode 3, the hardest kind: no
# address can be predicted) plus a temporary one it does not prefer (use_tempaddr 1). ddnsd
# runs as a daemon in the router namespace with one `neighbors` source and one record per
# host. Each round renumbers the LAN — the router takes the new prefix's ::1 and deprecates
# the old one, radvd advertises the new prefix and deprecates the old (SIGHUP) — and measures
# the time until BIND serves every one of the HOSTS names in the new prefix (polled with one
# AXFR every 20 ms), then checks each served address is that host's stable one. Between
# rounds the hosts are left alone for a while, so the router's neighbour table garbage-collects
# quiet entries as on a real LAN. KEEP_LOG=PATH keeps the daemon's log (DDNSD_LOG_LEVEL sets
# its level, default info).
set -eu
BIN=$(realpath "${1:-target/release/ddnsd}")
HOSTS=${2:-50}
ROUNDS=${3:-5}
R=ddnsd-lanb-$$
DIR=$(mktemp -d)
PORT=5353
SECRET=c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=
cleanup() {
  # Every process this script started runs in the router namespace: end exactly those.
  pids=$(ip netns pids "$R" 2>/dev/null || true)
  [ -n "$pids" ] && kill $pids 2>/dev/null
  sleep 0.3
  [ -n "${KEEP_LOG:-}" ] && cp "$DIR/log" "$KEEP_LOG"
  for i in $(seq "$HOSTS"); do ip netns del "$R-h$i" 2>/dev/null || true; done
  ip netns del "$R" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
nx() { ip netns exec "$R" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

ip netns add "$R"
nx ip link set lo up
nx ip link add br-lan type bridge
nx ip link set br-lan up
nx sysctl -q -w net.ipv6.conf.all.forwarding=1
for i in $(seq "$HOSTS"); do
  H="$R-h$i"
  ip netns add "$H"
  ip -n "$H" link set lo up
  nx ip link add "l$i" type veth peer name eth0 netns "$H"
  nx ip link set "l$i" master br-lan up
  ip -n "$H" link set eth0 address "$(printf '52:54:00:00:%02x:%02x' $((i / 256)) $((i % 256)))"
  ip netns exec "$H" sysctl -q -w net.ipv6.conf.eth0.addr_gen_mode=3 net.ipv6.conf.eth0.use_tempaddr=1
  ip -n "$H" link set eth0 up
done

radvd_conf() { # NEW OLD
  {
    echo "interface br-lan { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4;"
    echo "  prefix $1::/64 { AdvOnLink on; AdvAutonomous on; AdvPreferredLifetime 300; AdvValidLifetime 600; };"
    [ -n "${2:-}" ] && echo "  prefix $2::/64 { AdvOnLink on; AdvAutonomous on; AdvPreferredLifetime 0; AdvValidLifetime 600; };"
    echo "};"
  } > "$DIR/radvd.conf"
}
nx ip -6 addr add 2001:db8:1::1/64 dev br-lan nodad
radvd_conf 2001:db8:1
nx radvd -n -C "$DIR/radvd.conf" -p "$DIR/radvd.pid" -m logfile -l "$DIR/radvd.log" &
for _ in $(seq 100); do [ -s "$DIR/radvd.pid" ] && break; sleep 0.05; done

cat > "$DIR/example.test.zone" <<Z
\$TTL 300
@ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
  IN NS ns1.example.test.
ns1 IN A 127.0.0.1
Z
cat > "$DIR/named.conf" <<C
key "ddnsd-key" { algorithm hmac-sha256; secret "$SECRET"; };
options { directory "$DIR"; pid-file "$DIR/named.pid"; listen-on port $PORT { 127.0.0.1; };
  listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; allow-transfer { any; }; };
controls { };
zone "example.test" { type primary; file "$DIR/example.test.zone";
  update-policy { grant ddnsd-key zonesub ANY; }; };
C
nx named -g -c "$DIR/named.conf" -u root > "$DIR/named.log" 2>&1 &
for _ in $(seq 100); do nx dig +short @127.0.0.1 -p $PORT example.test SOA | grep -q hostmaster && break; sleep 0.05; done

# Every host's stable (non-temporary) address in a prefix, once usable: "N ADDR" lines.
stable_of() {
  for i in $(seq "$HOSTS"); do
    a=$(ip -n "$R-h$i" -6 addr show dev eth0 | awk -v p="$1:" '/inet6/ && /scope global/ && !/temporary/ && !/tentative/ && index($2, p) == 1 {split($2, x, "/"); print x[1]}')
    [ -n "$a" ] && echo "$i $a"
  done
}
wait_slaac() { # PREFIX
  for _ in $(seq 300); do [ "$(stable_of "$1" | wc -l)" -eq "$HOSTS" ] && return; sleep 0.05; done
  echo "hosts did not form addresses in $1" >&2; exit 1
}
# "N ADDR" for every hN.example.test AAAA that BIND serves.
served() {
  nx dig +nocmd +noall +answer +time=1 +tries=1 @127.0.0.1 -p $PORT example.test AXFR |
    awk '$4 == "AAAA" {n = $1; sub(/^h/, "", n); sub(/\.example\.test\.$/, "", n); print n, $5}' | sort -n
}
wait_all_in() { # PREFIX LIMIT_MS -> prints elapsed ms since T0
  while :; do
    c=$(served | awk -v p="$1:" 'index($2, p) == 1' | wc -l)
    [ "$c" -eq "$HOSTS" ] && { echo $(( $(now_ms) - T0 )); return; }
    [ $(( $(now_ms) - T0 )) -gt "$2" ] && { echo "timeout: $c of $HOSTS served in $1" >&2; exit 1; }
    sleep 0.02
  done
}

wait_slaac 2001:db8:1
printf '%s\n' "$SECRET" > "$DIR/tsig"; chmod 600 "$DIR/tsig"
{
  printf '[daemon]\nstate_file = "%s/state.json"\n\n[sources.lan6]\nkind = "interface"\ninterface = "br-lan"\n\n' "$DIR"
  printf '[providers.bind]\nkind = "rfc2136"\nserver = "127.0.0.1:%s"\nzone = "example.test"\ntsig_name = "ddnsd-key"\ntsig_secret_file = "%s/tsig"\n\n' "$PORT" "$DIR"
  for i in $(seq "$HOSTS"); do
    printf '[sources.h%d]\nkind = "neighbors"\ninterface = "br-lan"\nfrom = "lan6"\nmac = "%s"\n\n' "$i" "$(printf '52:54:00:00:%02x:%02x' $((i / 256)) $((i % 256)))"
    printf '[[records]]\nname = "h%d.example.test"\nprovider = "bind"\nsources = ["h%d"]\nttl = 60\n\n' "$i" "$i"
  done
} > "$DIR/ddnsd.toml"
T0=$(now_ms)
RUST_BACKTRACE=0 nx "$BIN" --log-level "${DDNSD_LOG_LEVEL:-info}" run -c "$DIR/ddnsd.toml" 2>"$DIR/log" &
st=$(wait_all_in 2001:db8:1 20000) || exit 1
echo "start-up: all $HOSTS names served after $st ms (daemon start included)"

: > "$DIR/lat"
old=2001:db8:1
for r in $(seq 2 $((ROUNDS + 1))); do
  new=2001:db8:$r
  radvd_conf "$new" "$old"
  T0=$(now_ms)
  kill -HUP "$(cat "$DIR/radvd.pid")"
  nx ip -6 addr add "$new::1/64" dev br-lan nodad
  nx ip -6 addr change "$old::1/64" dev br-lan valid_lft 600 preferred_lft 0
  ms=$(wait_all_in "$new" 20000) || exit 1
  echo "$ms" >> "$DIR/lat"
  echo "round $((r - 1)): renumbered $old::/64 → $new::/64: all $HOSTS names serve the new prefix after $ms ms"
  # Each served address is that host's stable address (never its temporary one).
  wait_slaac "$new"
  served > "$DIR/served"; stable_of "$new" > "$DIR/stable"
  if ! cmp -s "$DIR/served" "$DIR/stable"; then
    echo "served addresses differ from the hosts' stable ones:" >&2
    diff "$DIR/served" "$DIR/stable" >&2 || true
    exit 1
  fi
  nx ip -6 addr del "$old::1/64" dev br-lan
  old=$new
  sleep 5
done
sort -n "$DIR/lat" | awk -v n="$HOSTS" '{a[NR]=$1} END {printf "renumbering → all %d names serve the new prefix, over %d rounds (ms): min %d  median %d  max %d\n", n, NR, a[1], a[int((NR+1)/2)], a[NR]}'
