#!/usr/bin/env bash
# Archive ingest over the network: `storescu +sd +r` of 1,000 generated 512x512 16-bit CT instances into our full server
# (Kaapana.Server: DICOM receiver -> ingest -> archive files + SQLite index), DCMTK `storescp` (files only) and Orthanc
# (SQLite index), in one run; optionally 4 concurrent storescu processes into ours and `storescp --fork`.
#
#   bench/ArchiveIngest/run.sh                   # 2 repetitions: ours (ProcessCrashSafe), ours (PowerLossSafe), storescp, Orthanc; then 4 concurrent
#   bench/ArchiveIngest/run.sh --reps 3 --no-orthanc --no-powerloss --no-concurrent
#
# Env: ARCHIVE_DATA (the 1,000 files; default bench/out/StoreScp/ct512, shared with bench/StoreScp and made by
# bench/DicomParse/generate.py if missing), ARCHIVE_REF (build the server as committed at a git revision), ARCHIVE_BASE (a second
# revision run in every repetition as "before"), ARCHIVE_COUNT (default 1000), ARCHIVE_WARMUP (instances sent before the timed
# run, the first of the set with other UIDs; default 1000 or ARCHIVE_COUNT if less), ARCHIVE_CONCURRENT (processes, default 4).
# 10,000 instances: ARCHIVE_DATA=bench/out/StoreScp/ct10k ARCHIVE_COUNT=10000 (5.3 GB, generated once); each receiver's
# files are deleted after it was counted, so the receive file system holds one run at a time.
# Needs root for Orthanc's network namespace (skipped otherwise). Results: bench/out/ArchiveIngest/results.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/bench/out/ArchiveIngest"
data="${ARCHIVE_DATA:-$repo/bench/out/StoreScp/ct512}"
count="${ARCHIVE_COUNT:-1000}"
warm="${ARCHIVE_WARMUP:-1000}"; ((warm <= count)) || warm=$count
nconc="${ARCHIVE_CONCURRENT:-4}"
reps=2 orthanc=1 powerloss=1 concurrent=1
while (($#)); do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --no-orthanc) orthanc=0; shift ;;
        --no-powerloss) powerloss=0; shift ;;
        --no-concurrent) concurrent=0; shift ;;
        *) echo "usage: $0 [--reps N] [--no-orthanc] [--no-powerloss] [--no-concurrent]" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"

# ---------------------------------------------------------------- tools
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
[ "$(id -u)" -eq 0 ] || { ((orthanc)) && echo "not root: Orthanc (network namespace) skipped" >&2; orthanc=0; }
missing=()
/usr/bin/python3 -c 'import pydicom' 2>/dev/null || missing+=(python3-pydicom)
command -v storescu >/dev/null || missing+=(dcmtk)
command -v curl >/dev/null || missing+=(curl)
((orthanc)) && { command -v Orthanc >/dev/null || missing+=(orthanc); command -v ip >/dev/null || missing+=(iproute2); }
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export TCP_NODELAY=1 # DCMTK and Orthanc leave Nagle on otherwise; our sockets set NoDelay

# ---------------------------------------------------------------- data and build
/usr/bin/python3 "$repo/bench/DicomParse/generate.py" "$data" "$count" >&2
bytes=$(find "$data" -maxdepth 1 -name '*.dcm' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f", s}')
# relabel DIR N DIGIT: the first N files with other UIDs (the UID root's last digit 1 -> DIGIT, same length), made once.
relabel() {
    [ "$(cat "$1/.complete" 2>/dev/null)" = "$2 $count $(cat "$data/.complete")" ] && return 0
    rm -rf "$1"; mkdir -p "$1"
    /usr/bin/python3 - "$data" "$1" "$2" "$3" <<'EOF'
import os, sys
src, dst, n_, digit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
a = b"1.2.826.0.1.3680043.9.7421"
b = a[:-1] + digit
for n in sorted(n for n in os.listdir(src) if n.endswith(".dcm"))[:n_]:
    d = open(os.path.join(src, n), "rb").read()
    hdr, pix = d[:16384], d[16384:]   # UIDs are in the header; leave the pixel data alone
    open(os.path.join(dst, n), "wb").write(hdr.replace(a, b) + pix)
EOF
    echo "$2 $count $(cat "$data/.complete")" >"$1/.complete"
}
# Warm-up set, so the timed run into a warmed-up server stores new instances instead of answering duplicates.
warmset="$out/warmup-uids"
relabel "$warmset" "$warm" 2
# Second warm-up of our server only (ARCHIVE_SETTLE instances with a third UID root): the runtime promotes hot methods to
# tier-1 code only after it has counted their calls, and counting starts once start-up's JIT has quietened, i.e. during the
# rest after the first warm-up. Without this pass that promotion (hundreds of methods) ran inside the timed run: 10-16% of
# the server's samples were the JIT. A server that has been receiving for a minute has finished it.
settle="${ARCHIVE_SETTLE:-300}"; ((settle <= count)) || settle=$count
settleset="$out/settle-uids"
((settle > 0)) && relabel "$settleset" "$settle" 3
# Split for the concurrent runs: NCONC folders of hard links.
split="$out/split"
rm -rf "$split"
for i in $(seq 0 $((nconc - 1))); do mkdir -p "$split/$i"; done
find "$data" -maxdepth 1 -name '*.dcm' | sort | awk -v n="$nconc" -v s="$split" '{print "ln " $0 " " s "/" (NR - 1) % n "/"}' | sh

# ARCHIVE_REF=REV: build the server as committed at REV (a git archive snapshot) instead of the work tree.
# ARCHIVE_BASE=REV: also build REV and run it in every repetition next to the server under test ("before" in the results),
# so before and after are measured in the same run, alternating, under the same load.
build_server() { # REV or "" (work tree); sets built_bindir
    local src="$repo" build="$out/build" rev
    if [ -n "$1" ]; then
        rev="$(git -C "$repo" rev-parse --short "$1^{commit}")"
        src="$out/src-$rev" build="$out/build-$rev"
        if [ ! -f "$src/Kaapana.Server/Kaapana.Server.csproj" ]; then
            mkdir -p "$src"
            git -C "$repo" archive "$rev" Directory.Build.props Kaapana.Dicom Kaapana.Core Kaapana.Web Kaapana.Server | tar -x -C "$src"
        fi
    fi
    echo "server: $src" >&2
    dotnet build "$src/Kaapana.Server/Kaapana.Server.csproj" -c Release --artifacts-path "$build" -nologo -v q -clp:ErrorsOnly >&2
    built_bindir="$build/bin/Kaapana.Server/release"
}
build_server "${ARCHIVE_REF:-}"; bindir="$built_bindir"
base_bindir=""
if [ -n "${ARCHIVE_BASE:-}" ]; then build_server "$ARCHIVE_BASE"; base_bindir="$built_bindir"; fi
dll="$bindir/Kaapana.Server.dll"

recv="$out/recv"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peers.sh"
prepare_receive_dir
trap cleanup EXIT

hz=$(getconf CLK_TCK)
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
results="$out/results.txt"; : >"$results"
tsv="$out/results.tsv"; : >"$tsv"
# record NAME REP SECONDS INSTANCES CPU_TICKS EXTRA
record() {
    awk -v n="$1" -v r="$2" -v s="$3" -v c="$4" -v b="$bytes" -v t="$5" -v hz="$hz" -v total="$count" -v x="${6:-}" 'BEGIN {
        cpu = t >= 0 ? sprintf("%.2f", t / hz * 1000 / total) : "-";
        printf "%-36s rep %s  %6.2f s  %7.1f inst/s  %6.1f MB/s  receiver CPU %s ms/inst  (%d of %d stored)%s\n",
            n, r, s, total / s, b / 1e6 / s, cpu, c, total, x }' | tee -a "$results"
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$tsv"
    [ "$4" -eq "$count" ] || { echo "FAILED: $1 stored $4 of $count" >&2; exit 1; }
}
storescu_to() { storescu +sd +r +sp '*.dcm' -aec "$3" "$1" "$2" "$4"; }
# Reads the timed files into the page cache right before a timed run, so no receiver's run includes storescu reading them
# from disk (the first run after other work on the machine did: 1.6-2 s instead of 1 s, the receiver idle).
preload() { find "$data" -maxdepth 1 -name '*.dcm' -exec cat {} + >/dev/null; }
storescu_conc() { # host port aet: NCONC processes over the split folders, wall time of all
    local ps=() i
    for i in $(seq 0 $((nconc - 1))); do storescu_to "$1" "$2" "$3" "$split/$i" & ps+=($!); done
    for i in "${ps[@]}"; do wait "$i"; done
}
nfiles() { find "$1/" -type f -name "$2" | wc -l; }

# ---------------------------------------------------------------- our server
# A fresh process and data folder per timed run (the data folder is fixed at startup): started, warmed up with the
# warm-up set (1,000 other instances: tier-1 JIT, SQLite and pools), 2 s of rest, then timed.
start_ours() { # run-name durability [bindir]
    local dir="$recv/ours.$1" bin="${3:-$bindir}" http try
    # A free port may be taken by someone else before the server binds it (other work on the machine): then start again.
    for try in 1 2 3; do
        rm -rf "$dir"; mkdir -p "$dir"
        ours_port=$(freeport); http=$(freeport)
        (cd "$bin" && exec env Kaapana__DataDir="$dir" Kaapana__Dicom__Port="$ours_port" Kaapana__Dicom__BindAddress=127.0.0.1 \
            Kaapana__Dicom__AETitle=KAAPANA Kaapana__Archive__Durability="$2" ASPNETCORE_ENVIRONMENT=Production \
            dotnet "$bin/Kaapana.Server.dll" --urls "http://127.0.0.1:$http" >"$out/ours-$1.log" 2>&1) &
        ours_pid=$!; pids+=("$ours_pid")
        for _ in $(seq 1 600); do
            echoscu -to 2 -aec KAAPANA 127.0.0.1 "$ours_port" 2>/dev/null && { ours_dir="$dir"; return 0; }
            kill -0 "$ours_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$ours_pid" 2>/dev/null; wait "$ours_pid" 2>/dev/null || true
        echo "server did not start (attempt $try, see $out/ours-$1.log)" >&2
    done
    return 1
}
stop_ours() { kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true; }
# Instances in our index: rows of the instance table (found by name), read after the server stopped.
ours_count() {
    /usr/bin/python3 - "$ours_dir/kaapana.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
names = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
t = next(n for n in names if n.lower() in ("instances", "instance"))
print(db.execute(f'select count(*) from "{t}"').fetchone()[0])
EOF
}
hwm() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; } # MB

run_ours() { # rep durability concurrent(0/1) [bindir of the "before" build]
    local name="ours.$2.$1" label t0 t1 c0 c1 n h0 h1 total
    ((${3:-0})) && name="ours.$2.conc$1"
    [ -n "${4:-}" ] && name="before.$2.$1"
    start_ours "$name" "$2" "${4:-}"
    storescu_to 127.0.0.1 "$ours_port" KAAPANA "$warmset"
    if ((settle > 0)); then sleep 2; storescu_to 127.0.0.1 "$ours_port" KAAPANA "$settleset"; fi
    h0=$(hwm "$ours_pid"); sleep 2; sync
    preload; c0=$(ticks "$ours_pid"); t0=$(now)
    if ((${3:-0})); then storescu_conc 127.0.0.1 "$ours_port" KAAPANA; else storescu_to 127.0.0.1 "$ours_port" KAAPANA "$data"; fi
    t1=$(now); c1=$(ticks "$ours_pid"); h1=$(hwm "$ours_pid")
    stop_ours
    total=$(ours_count); n=$((total - warm - settle)) # the warm-ups' instances are in the index too
    rm -rf "$ours_dir"
    label="ours, Kaapana.Server, $2"; ((${3:-0})) && label="$nconc x storescu -> ours, $2"
    [ -n "${4:-}" ] && label="before ($ARCHIVE_BASE), Kaapana.Server, $2"
    record "$label" "$1" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0)) "  peak RSS ${h1} MB (after warm-up ${h0} MB)"
}

# ---------------------------------------------------------------- storescp (long-running, fresh output folder per run)
fresh_dir() { mkdir -p "$recv/$1.$2"; ln -sfn "$recv/$1.$2" "$recv/$1"; sync; }
start_storescp() { # link port extra-args...
    local link="$1" port="$2"; shift 2
    fresh_dir "$link" warmup
    storescp -od "$recv/$link" +B -aet STORESCP "$@" "$port" >"$out/$link.log" 2>&1 &
    pids+=($!); eval "${link//-/_}_pid=$!"
    wait_echo 127.0.0.1 "$port" STORESCP 600
    storescu_to 127.0.0.1 "$port" STORESCP "$warmset"
}
run_storescp() { # rep concurrent(0/1)
    local t0 t1 c0 c1 n link=storescp port=$dcmtk_port pid
    ((${2:-0})) && { link=storescp-fork; port=$fork_port; }
    pid=$(eval echo "\$${link//-/_}_pid")
    fresh_dir "$link" "$1"
    preload; c0=$(ticks "$pid"); t0=$(now)
    if ((${2:-0})); then storescu_conc 127.0.0.1 "$port" STORESCP; else storescu_to 127.0.0.1 "$port" STORESCP "$data"; fi
    t1=$(now); c1=$(ticks "$pid"); n=$(nfiles "$recv/$link" '*')
    if ((${2:-0})); then
        record "$nconc x storescu -> storescp +B --fork" "$1" "$(echo "$t1 - $t0" | bc)" "$n" -1
    else
        record "storescp +B (files only)" "$1" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0))
    fi
    rm -rf "$recv/$link.$1"
}

# ---------------------------------------------------------------- Orthanc (as bench/StoreScp: private netns over a veth)
orthanc_port=4242
start_orthanc() { start_orthanc_in "$recv/orthanc.$1" ArchiveIngestBench; }
run_orthanc() { # rep
    local t0 t1 c0 c1 n
    start_orthanc "$1"; sync
    preload; c0=$(ticks "$orthanc_pid"); t0=$(now)
    storescu_to "$orthanc_host" "$orthanc_port" ORTHANC "$data"
    t1=$(now); c1=$(ticks "$orthanc_pid")
    n=$(curl -sf "http://$orthanc_host:8042/statistics" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])')
    kill "$orthanc_pid"; wait "$orthanc_pid" 2>/dev/null || true
    rm -rf "$recv/orthanc.$1"
    record "Orthanc 1.10.1 (veth, SQLite index)" "$1" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0))
}

# ---------------------------------------------------------------- runs
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; load average $(cut -d' ' -f1-3 /proc/loadavg); $count files, $bytes bytes" | tee -a "$results"
dcmtk_port=$(freeport)
start_storescp storescp "$dcmtk_port"
((orthanc)) && setup_netns kai 198
targets=(ours storescp); [ -n "$base_bindir" ] && targets+=(before); ((powerloss)) && targets+=(ours-pls); ((orthanc)) && targets+=(orthanc)
for rep in $(seq 1 "$reps"); do
    k=$(( (rep - 1) % ${#targets[@]} ))
    for t in "${targets[@]:k}" "${targets[@]:0:k}"; do
        case "$t" in
            ours) run_ours "$rep" ProcessCrashSafe ;;
            before) run_ours "$rep" ProcessCrashSafe 0 "$base_bindir" ;;
            ours-pls) run_ours "$rep" PowerLossSafe ;;
            storescp) run_storescp "$rep" ;;
            orthanc) run_orthanc "$rep" ;;
        esac
    done
done
if ((concurrent)); then
    fork_port=$(freeport)
    start_storescp storescp-fork "$fork_port" --fork
    for rep in $(seq 1 "$reps"); do
        if ((rep % 2)); then run_ours "$rep" ProcessCrashSafe 1; run_storescp "$rep" 1
        else run_storescp "$rep" 1; run_ours "$rep" ProcessCrashSafe 1; fi
    done
fi
"$here/ratios.sh" "$tsv" | tee -a "$results"
echo "results: $results" >&2
release_receive_dir
