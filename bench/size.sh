#!/bin/sh
# Benchmark, run by hand (prints figures; not a test; no root needed):
#   bench/size.sh [TARGET...]
# For each TARGET (default: x86_64-unknown-linux-musl, then the host's
# x86_64-unknown-linux-gnu) builds the release binary twice — the default feature set
# (everything) and the minimal one (`--no-default-features`: no HTTP — RFC 2136 only, no
# HTTP providers, http sources, webhooks or heartbeats —, no e-mail notifications, no
# `completions`/`man` subcommands) — and prints each stripped size, its largest sections
# (`size -A`) and whether it is static. With `cargo bloat` installed (`cargo install
# cargo-bloat`) it also prints the 15 largest crates of the default musl build.
#
# The musl target needs `rustup target add x86_64-unknown-linux-musl` and Debian's musl-tools
# (ring's C code is compiled with x86_64-linux-musl-gcc); when either is missing the musl
# builds are skipped with a message. Each build is a full LTO link (minutes on 2 cores); the
# copies are kept under target/size/.
set -eu
cd "$(dirname "$0")/.."
TARGETS=${*:-x86_64-unknown-linux-musl x86_64-unknown-linux-gnu}
# Built with symbols (and stripped copies measured), so `cargo bloat` below reuses the build.
export CARGO_PROFILE_RELEASE_STRIP=false
OUT=target/size
mkdir -p "$OUT"
LIMIT=$((3 * 1024 * 1024))

usable() {
  case "$1" in
    *-musl)
      rustup target list --installed 2>/dev/null | grep -qx "$1" \
        || { echo "size: skipped $1: target not installed (rustup target add $1)"; return 1; }
      command -v x86_64-linux-musl-gcc >/dev/null 2>&1 \
        || { echo "size: skipped $1: x86_64-linux-musl-gcc missing (apt-get install musl-tools)"; return 1; }
      ;;
  esac
  return 0
}

report() { # FILE LABEL
  bytes=$(stat -c %s "$1")
  kind=$(file -b "$1" | grep -o -E 'statically linked|static-pie linked|dynamically linked' || echo '?')
  verdict=""
  case "$2" in *musl*) [ "$bytes" -le $LIMIT ] && verdict=" (target ≤ 3 MiB: met)" || verdict=" (target ≤ 3 MiB: NOT met)" ;; esac
  printf '%-40s %9d bytes = %s MiB, %s%s\n' "$2" "$bytes" "$(awk -v b="$bytes" 'BEGIN {printf "%.2f", b / 1048576}')" "$kind" "$verdict"
  size -A "$1" | awk '$1 ~ /^\./ && $2 > 16384 {printf "    %-20s %8d\n", $1, $2}'
}

for t in $TARGETS; do
  usable "$t" || continue
  for set in default minimal; do
    flags=""
    [ $set = minimal ] && flags="--no-default-features"
    # shellcheck disable=SC2086
    cargo build -q --release --locked --bin ddnsd --target "$t" $flags
    cp "target/$t/release/ddnsd" "$OUT/ddnsd-$t-$set"
    # What the release profile's `strip = true` gives.
    strip "$OUT/ddnsd-$t-$set"
  done
  for set in default minimal; do report "$OUT/ddnsd-$t-$set" "$t $set"; done
done

if cargo bloat --version >/dev/null 2>&1 && usable x86_64-unknown-linux-musl >/dev/null; then
  echo "largest crates, default features, x86_64-unknown-linux-musl (cargo bloat, .text only):"
  cargo bloat -q --release --locked --bin ddnsd \
    --target x86_64-unknown-linux-musl --crates -n 15 2>/dev/null | sed 's/^/  /'
else
  echo "(cargo bloat not installed: cargo install cargo-bloat for the per-crate breakdown)"
fi
