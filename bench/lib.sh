# Shared by the bench/*.sh programs (sourced, not run). Everything happens inside a network
# namespace the bench creates (only `lo` and a veth pair, so nothing can leave the machine):
# BIND 9 started from a temp dir in the foreground, killed by `bench_cleanup`.
#
# Needs root, bind9 and bind9-dnsutils (dig, nsupdate). Set before sourcing: nothing; after
# sourcing: `bench_netns`, then `bench_bind ZONES...`.

BENCH_SECRET=c2VjcmV0LWtleS1mb3ItZGRuc2QtdGVzdHMtMzJieXRlcyE=
BENCH_KEY=ddnsd-key
BIND_PORT=5353
NS=ddnsd-bench-$$
DIR=$(mktemp -d)
BENCH_PIDS=""

# Runs as the EXIT trap, under the scripts' `set -e`: no step may stop it (a process that has
# already exited makes `kill` fail), or the servers and the namespace would be left behind.
bench_cleanup() {
  set +e
  for p in $BENCH_PIDS; do bench_stop "$p"; done
  sleep 0.3
  for p in $BENCH_PIDS; do kill -9 $(pgrep -P "$p") "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
  true
}

# A signal (Ctrl-C, `timeout`) ends the script through its EXIT trap, so the servers and the
# namespace go with it (sh runs EXIT traps on `exit`, not on a fatal signal).
trap 'exit 130' INT TERM HUP

# Stops the background job $1 started with `nx CMD &`: $1 is the subshell, the program is its
# child, so both are signalled (the child first).
bench_stop() {
  # shellcheck disable=SC2046
  kill $(pgrep -P "$1") 2>/dev/null
  kill "$1" 2>/dev/null
  true
}

# Remembers a background process to stop at exit.
bench_track() { BENCH_PIDS="$BENCH_PIDS $1"; }

nx() { ip netns exec "$NS" "$@"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

need() {
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "bench: $c not found (apt-get install bind9 bind9-dnsutils)" >&2; exit 2; }
  done
}

# A namespace with lo and the veth pair v0 (the "WAN" whose addresses change) / v1.
bench_netns() {
  need ip named dig nsupdate
  [ "$(id -u)" = 0 ] || { echo "bench: run as root (network namespaces)" >&2; exit 2; }
  ip netns add "$NS"
  nx ip link set lo up
  nx ip link add v0 type veth peer name v1
  nx ip link set v0 up
  nx ip link set v1 up
  printf '%s\n' "$BENCH_SECRET" > "$DIR/tsig"
  chmod 600 "$DIR/tsig"
}

# BIND serving each zone in "$@" on 127.0.0.1:$BIND_PORT inside the namespace, every name
# updatable with the bench key; returns once every zone answers its SOA.
bench_bind() {
  {
    echo "key \"$BENCH_KEY\" { algorithm hmac-sha256; secret \"$BENCH_SECRET\"; };"
    echo "options { directory \"$DIR\"; pid-file \"$DIR/named.pid\"; listen-on port $BIND_PORT { 127.0.0.1; };"
    echo "  listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; };"
    echo "controls { };"
    for z in "$@"; do
      cat > "$DIR/$z.zone" <<Z
\$TTL 300
@ IN SOA ns1.$z. hostmaster.$z. 1 3600 900 604800 300
  IN NS ns1.$z.
ns1 IN A 127.0.0.1
Z
      echo "zone \"$z\" { type primary; file \"$DIR/$z.zone\"; update-policy { grant $BENCH_KEY zonesub ANY; }; };"
    done
  } > "$DIR/named.conf"
  nx named -g -c "$DIR/named.conf" -u root > "$DIR/named.log" 2>&1 &
  bench_track $!
  for z in "$@"; do
    i=0
    until nx dig +short +time=1 +tries=1 @127.0.0.1 -p "$BIND_PORT" "$z" SOA | grep -q hostmaster; do
      i=$((i + 1))
      [ $i -lt 200 ] || { echo "bench: BIND did not serve $z:" >&2; tail -20 "$DIR/named.log" >&2; exit 1; }
      sleep 0.05
    done
  done
}

# The AAAA set of NAME as BIND serves it (directly, not through any delaying front).
served() { nx dig +short +time=1 +tries=1 @127.0.0.1 -p "$BIND_PORT" "$1" AAAA | sort | tr '\n' ' ' | sed 's/ $//'; }

# The pid of the program started by `ip netns exec` as $1 (its child once exec'd).
inner_pid() { pgrep -P "$1" | head -1 || echo "$1"; }

# min / median / p95 / max of the numbers in file $1, labelled $2.
stats() {
  sort -n "$1" | awk -v what="$2" '{a[NR]=$1} END {p95=int(NR*0.95+0.999); printf "%s over %d changes (ms): min %d  median %d  p95 %d  max %d\n", what, NR, a[1], a[int((NR+1)/2)], a[p95], a[NR]}'
}

# Median of the numbers in file $1.
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# "RSS kB, peak kB, threads" of pid $1.
rss_of() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} /^Threads/ {t=$2} END {printf "%d %d %d", r, h, t}' "/proc/$1/status"; }

# CPU seconds (user + system) used so far by pid $1.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_to_s() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", t / hz}'; }

# Resident memory of pid $1 by where it lives, from /proc/PID/smaps (kB): the executable's own
# pages, shared libraries (libc, ld.so, libgcc), the malloc heap ([heap] plus glibc's mmap'd
# arenas and large blocks, which are anonymous), thread stacks ([stack] and anonymous mappings
# preceded by a guard page), and the rest.
breakdown() {
  awk -v bin="$2" '
    /^[0-9a-f]+-[0-9a-f]+ / {
      perms = $2; path = $6
      if (path == bin || (bin != "" && index(path, bin) == 1)) cat = "binary"
      else if (path ~ /\.so/) cat = "libraries"
      else if (path == "[heap]") cat = "heap"
      else if (path == "[stack]") cat = "stacks"
      else if (path ~ /^\[(vdso|vvar|vsyscall|vvar_vclock)\]/) cat = "kernel"
      else if (path == "" && perms == "---p") { cat = "guard"; prev_guard = 1; next }
      else if (path == "" && prev_guard) cat = "stacks"
      else if (path == "") cat = "anon"
      else cat = "other"
      prev_guard = 0
      next
    }
    /^Rss:/ { rss[cat] += $2; total += $2 }
    END {
      printf "RSS %d kB = binary %d + libraries %d + heap %d + anonymous (mmap: arenas, big blocks) %d + thread stacks %d + kernel %d + other %d\n", total, rss["binary"], rss["libraries"], rss["heap"], rss["anon"], rss["stacks"], rss["kernel"], rss["other"]
    }' "/proc/$1/smaps"
}

# The zones of the fleet configs: z0.test … z9.test.
FLEET_ZONES="z0.test z1.test z2.test z3.test z4.test z5.test z6.test z7.test z8.test z9.test"

# Writes to $1 a config publishing $3 records (h0.z0.test, h0.z1.test, …, spread over the ten
# zones) over RFC 2136 to 127.0.0.1:$2, each record's AAAA = the prefix of v0's address + its
# own host part (one `prefix` source per record, all from one interface source), so a
# renumbering of v0 changes every record in one pass. One provider without `zone`: the zones are
# found by SOA queries on the first pass and remembered (state hints) after that.
gen_fleet_config() {
  {
    cat <<CFG
[daemon]
state_file = "$DIR/state.json"
[sources.wan6]
kind = "interface"
interface = "v0"
[providers.bind]
kind = "rfc2136"
server = "127.0.0.1:$2"
tsig_name = "$BENCH_KEY"
tsig_secret_file = "$DIR/tsig"
CFG
    i=0
    while [ $i -lt "$3" ]; do
      printf '[sources.p%d]\nkind = "prefix"\nfrom = "wan6"\nsuffix = "::1:%x"\n' $i $((i + 1))
      printf '[[records]]\nname = "h%d.z%d.test"\nprovider = "bind"\nsources = ["p%d"]\nttl = 60\n' $((i / 10)) $((i % 10)) $i
      i=$((i + 1))
    done
  } > "$1"
}

# Writes to $1 a config with one interface source (v0) and one rfc2136 provider publishing
# host.z0.test to 127.0.0.1:$2.
gen_single_config() {
  cat > "$1" <<CFG
[daemon]
state_file = "$DIR/state1.json"
[sources.wan6]
kind = "interface"
interface = "v0"
[providers.bind]
kind = "rfc2136"
server = "127.0.0.1:$2"
zone = "z0.test"
tsig_name = "$BENCH_KEY"
tsig_secret_file = "$DIR/tsig"
[[records]]
name = "host.z0.test"
provider = "bind"
sources = ["wan6"]
ttl = 60
CFG
}

# How many of the fleet's records BIND serves with prefix $1 (e.g. 2001:db8:7::), counted from
# one zone transfer per zone (AXFR, run in parallel).
fleet_served() {
  digs=""
  for z in $FLEET_ZONES; do
    nx dig +noall +answer +time=2 +tries=1 @127.0.0.1 -p "$BIND_PORT" "$z" AXFR > "$DIR/axfr.$z" &
    digs="$digs $!"
  done
  # shellcheck disable=SC2086
  wait $digs
  cat "$DIR"/axfr.*.test | awk -v p="$1" '$4 == "AAAA" && index($5, p) == 1' | wc -l
}
