#!/usr/bin/env bash
# One timed `storescu` of the 1,000 files into a fresh server under `perf record`, after run.sh's warm-up, and where its
# CPU went by library (and our frames, inclusive). Run bench/ArchiveIngest/run.sh once first (data, warm-up set, build).
#
#   bench/ArchiveIngest/profile.sh                       # the server run.sh built last (bench/out/ArchiveIngest/build)
#   ARCHIVE_BIN=bench/out/ArchiveIngest/build-REV/bin/Kaapana.Server/release bench/ArchiveIngest/profile.sh
#   bench/ArchiveIngest/profile.sh DOTNET_TieredPGO=1    # extra environment for the server
#
# Prints wall time and the server's CPU ms per instance (user+sys); leaves perf.data and the report in
# bench/out/ArchiveIngest/profile/. Needs `perf` (Debian linux-perf) and root or perf_event_paranoid <= 1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/bench/out/ArchiveIngest"
bindir="${ARCHIVE_BIN:-$out/build/bin/Kaapana.Server/release}"
data="${ARCHIVE_DATA:-$repo/bench/out/StoreScp/ct512}"
prof="$out/profile"
[ -f "$bindir/Kaapana.Server.dll" ] || { echo "no server build in $bindir: run run.sh first" >&2; exit 1; }
[ -d "$out/warmup-uids" ] || { echo "no warm-up set: run run.sh first" >&2; exit 1; }
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
export TCP_NODELAY=1
rm -rf "$prof"; mkdir -p "$prof"
recv="$out/recv"
source "$here/../lib/peers.sh"
prepare_receive_dir
trap cleanup EXIT

freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(freeport) http=$(freeport)
# W^X off so perf can resolve JIT-compiled frames through the perf map.
(cd "$bindir" && exec env "$@" DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 Kaapana__DataDir="$recv/ours" \
    Kaapana__Dicom__Port="$port" Kaapana__Dicom__BindAddress=127.0.0.1 ASPNETCORE_ENVIRONMENT=Production \
    dotnet Kaapana.Server.dll --urls "http://127.0.0.1:$http" >"$prof/server.log" 2>&1) &
pid=$!; pids+=("$pid")
wait_echo 127.0.0.1 "$port" KAAPANA 600
storescu +sd +r +sp '*.dcm' -aec KAAPANA 127.0.0.1 "$port" "$out/warmup-uids"
# The second warm-up of run.sh (tier-1 JIT settles), unless ARCHIVE_SETTLE=0.
if [ "${ARCHIVE_SETTLE:-300}" != 0 ] && [ -d "$out/settle-uids" ]; then sleep 2; storescu +sd +r +sp '*.dcm' -aec KAAPANA 127.0.0.1 "$port" "$out/settle-uids"; fi
find "$data" -maxdepth 1 -name '*.dcm' -exec cat {} + >/dev/null # the timed files in the page cache
sleep 2; sync
perf record -F 999 -g -p "$pid" -o "$prof/perf.data" >/dev/null 2>&1 &
perfpid=$!
sleep 0.5
c0=$(ticks "$pid"); t0=$(now)
storescu +sd +r +sp '*.dcm' -aec KAAPANA 127.0.0.1 "$port" "$data"
t1=$(now); c1=$(ticks "$pid")
kill -INT "$perfpid"; wait "$perfpid" || true
n=$(find "$data" -maxdepth 1 -name '*.dcm' | wc -l)
awk -v s="$(echo "$t1 - $t0" | bc)" -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
    'BEGIN { printf "%d instances in %.2f s (%.0f/s); server CPU %.2f ms/instance\n", n, s, n / s, t / hz * 1000 / n }' | tee "$prof/summary.txt"
perf script -i "$prof/perf.data" 2>/dev/null >"$prof/perf.txt"
/usr/bin/python3 - "$prof/perf.txt" <<'EOF' | tee -a "$prof/summary.txt"
import collections, re, sys
libs, ours, total = collections.Counter(), collections.Counter(), 0
for stack in open(sys.argv[1]).read().split("\n\n"):
    frames = stack.strip().split("\n")[1:]
    if not frames: continue
    total += 1
    top = frames[0]
    m = re.search(r"\[((?:Microsoft|System|Kaapana|Hangfire)[A-Za-z.]*)\]", top)
    libs["managed " + m.group(1) if m else (re.search(r"\(([^)]+)\)\s*$", top) or [None, "?"])[1].split("/")[-1]] += 1
    seen = set()
    for f in frames:
        m = re.search(r"(Kaapana\.[A-Za-z0-9_.+<>]+::[A-Za-z0-9_<>]+)", f)
        if m and m.group(1) not in seen: seen.add(m.group(1)); ours[m.group(1)] += 1
print(f"{total} samples; by library (self):")
for k, v in libs.most_common(15): print(f"  {100 * v / total:5.1f}%  {k}")
print("our methods (inclusive):")
for k, v in ours.most_common(20): print(f"  {100 * v / total:5.1f}%  {k}")
EOF
kill "$pid"; wait "$pid" 2>/dev/null || true
release_receive_dir
