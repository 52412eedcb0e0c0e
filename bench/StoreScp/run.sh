#!/usr/bin/env bash
# StoreScp benchmark: C-STORE of 1,000 synthetic 512x512 16-bit CT instances (527 MB) with DCMTK `storescu +sd +r`
# (TCP_NODELAY=1) into our SCP (DicomServer + DicomFolderStoreHandler), DCMTK storescp and Orthanc, in one run; then our
# SCU (DicomClient.StoreFilesAsync, one association) against storescu, both into storescp. See bench/README.md.
#
#   bench/StoreScp/run.sh [--reps N] [--only scp|scu] [--no-orthanc] [--delete-between]
#
# Received files go to bench/out/StoreScp/recv (several GB during the run; deleted at its end). Results: results.txt there.
# "SCP CPU" is the receiving process's user+system time per instance (storescp's in the SCU part), from /proc.
# Needs root for Orthanc's network namespace (without root, or with --no-orthanc, Orthanc is skipped).
# Environment: STORESCP_DATA (default bench/out/StoreScp/ct512), STORESCP_COUNT (default 1000), STORESCP_WARMUP (files
# sent to each long-running SCP before timing, default all), STORESCP_REF (measure Kaapana.Dicom as committed at a git
# revision), STORESCP_LIB (another Kaapana.Dicom.csproj), STORESCP_PERF=1 (record `perf` of our SCP during its timed runs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/bench/out/StoreScp"
data="${STORESCP_DATA:-$out/ct512}"
count="${STORESCP_COUNT:-1000}"
warmup="${STORESCP_WARMUP:-$count}"
reps=2 only=all orthanc=1 delete_between=0
while (($#)); do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        --no-orthanc) orthanc=0; shift ;;
        --delete-between) delete_between=1; shift ;;
        *) echo "usage: $0 [--reps N] [--only scp|scu] [--no-orthanc] [--delete-between]" >&2; exit 2 ;;
    esac
done

if [ -n "${STORESCP_REF:-}" ]; then
    rev="$(git -C "$repo" rev-parse --short "$STORESCP_REF^{commit}")"
    snap="$out/lib-$rev"
    if [ ! -f "$snap/Kaapana.Dicom/Kaapana.Dicom.csproj" ]; then
        mkdir -p "$snap"
        git -C "$repo" archive "$rev" Kaapana.Dicom Directory.Build.props | tar -x -C "$snap"
    fi
    STORESCP_LIB="$snap/Kaapana.Dicom/Kaapana.Dicom.csproj"
fi
lib="${STORESCP_LIB:-$repo/Kaapana.Dicom/Kaapana.Dicom.csproj}"
build="$out/build"
[ -n "${STORESCP_LIB:-}" ] && build="$build-$(echo "$lib" | md5sum | cut -c1-8)"

# ---------------------------------------------------------------- tools
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
[ "$(id -u)" -eq 0 ] || { ((orthanc)) && echo "not root: Orthanc (network namespace) skipped" >&2; orthanc=0; }
[ "$only" = scu ] && orthanc=0
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
export TCP_NODELAY=1 # DCMTK and Orthanc leave Nagle on otherwise (~43 ms stall per C-STORE on loopback); ours sets NoDelay

# ---------------------------------------------------------------- data and build
/usr/bin/python3 "$repo/bench/DicomParse/generate.py" "$data" "$count" >&2
bytes=$(find "$data" -maxdepth 1 -name '*.dcm' -printf '%s\n' | awk '{s+=$1} END {print s}')
warmdir="$out/warmup"
rm -rf "$warmdir"; mkdir -p "$warmdir"
find "$data" -maxdepth 1 -name '*.dcm' | sort | sed -n "1,${warmup}p" | xargs -r ln -t "$warmdir" # sed: no SIGPIPE

dotnet build "$here/StoreScp.csproj" -c Release --artifacts-path "$build" -p:KaapanaDicomProject="$lib" \
    -nologo -v q -clp:ErrorsOnly >&2
dll="$build/bin/StoreScp/release/StoreScp.dll"
echo "library: $lib" >&2

recv="$out/recv"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peers.sh"
prepare_receive_dir
trap cleanup EXIT

hz=$(getconf CLK_TCK)
results="$out/results.txt"
: >"$results"
tsv="$out/results.tsv"
: >"$tsv"
# record NAME REP SECONDS INSTANCES SCP_CPU_TICKS
record() {
    awk -v n="$1" -v r="$2" -v s="$3" -v c="$4" -v b="$bytes" -v t="$5" -v hz="$hz" -v total="$count" 'BEGIN {
        cpu = t >= 0 ? sprintf("%.2f", t / hz * 1000 / total) : "-";
        printf "%-34s rep %s  %6.2f s  %7.1f inst/s  %6.1f MB/s  SCP CPU %s ms/inst  (%d of %d stored)\n",
            n, r, s, total / s, b / 1e6 / s, cpu, c, total }' | tee -a "$results"
    printf '%s\t%s\t%s\n' "$(echo "$1" | sed 's/^ *//')" "$2" "$3" >>"$tsv"
    [ "$4" -eq "$count" ] || { echo "FAILED: $1 stored $4 of $count" >&2; exit 1; }
}

# ---------------------------------------------------------------- SCPs
ours_port=11112 dcmtk_port=11113 orthanc_port=4242
# Each SCP writes into a fixed path that is a symlink; every timed run points it at a fresh, empty directory (fresh_dir).
# Received files are deleted at the end, not between runs (unless --delete-between): this root file system is ext4 without
# a journal, where creating a file within ~30 s of deleting many others scans past each recently deleted inode
# (recently_deleted/find_get_block_common took 30-40% of our SCP's samples after deleting 1,000 files, for storescp too).
fresh_dir() { # link run-name
    ((delete_between)) && rm -rf "$recv/$1".*
    mkdir -p "$recv/$1.$2"; ln -sfn "$recv/$1.$2" "$recv/$1"; sync
}
fresh_dir ours warmup; fresh_dir storescp warmup
start_ours() {
    DOTNET_gcServer=0 dotnet "$dll" scp --dir "$recv/ours" --port "$ours_port" --aet KAAPANA >"$out/ours-scp.log" 2>&1 &
    ours_pid=$!; pids+=("$ours_pid")
    wait_echo 127.0.0.1 "$ours_port" KAAPANA
}
# +B: write the data set exactly as received (no re-encoding), the closest to our streaming handler. storescp writes
# straight to the final name and does not fsync (nor does DicomFolderStoreHandler, which writes a temp file and renames it).
start_storescp() {
    storescp -od "$recv/storescp" +B -aet STORESCP "$dcmtk_port" >"$out/storescp.log" 2>&1 &
    dcmtk_pid=$!; pids+=("$dcmtk_pid")
    wait_echo 127.0.0.1 "$dcmtk_port" STORESCP
}
# Orthanc has no bind-address option: it runs in a private network namespace reached over a veth pair (as
# Kaapana.Tests/Interop/TestNetworkNamespace.cs does), with its SQLite index and storage in a fresh folder per run.
start_orthanc() { start_orthanc_in "$recv/orthanc.$1" StoreScpBench; } # fresh storage folder per run
stop_orthanc() { kill "$orthanc_pid"; wait "$orthanc_pid" 2>/dev/null || true; }
orthanc_count() { curl -sf "http://$orthanc_host:8042/statistics" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'; }
nfiles() { find "$1/" -maxdepth 1 -type f -name "$2" | wc -l; }

storescu_to() { # host port aet dir
    storescu +sd +r +sp '*.dcm' -aec "$3" "$1" "$2" "$4"
}

# One timed storescu run into a target: before it, the target gets a fresh directory (--delete-between: the previous run's
# files are deleted) and dirty pages are written back (sync). Timed: the storescu process, start to exit.
run_scp() { # target rep
    local t0 t1 c0 c1 n
    case "$1" in
        ours)
            fresh_dir ours "$2"
            c0=$(ticks "$ours_pid"); t0=$(now)
            storescu_to 127.0.0.1 "$ours_port" KAAPANA "$data"
            t1=$(now); c1=$(ticks "$ours_pid"); n=$(nfiles "$recv/ours" '*.dcm')
            record "storescu -> ours (DicomServer)" "$2" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0)) ;;
        storescp)
            fresh_dir storescp "$2"
            c0=$(ticks "$dcmtk_pid"); t0=$(now)
            storescu_to 127.0.0.1 "$dcmtk_port" STORESCP "$data"
            t1=$(now); c1=$(ticks "$dcmtk_pid"); n=$(nfiles "$recv/storescp" '*')
            record "storescu -> storescp +B" "$2" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0)) ;;
        orthanc)
            ((delete_between)) && rm -rf "$recv"/orthanc.*
            start_orthanc "$2"; sync
            c0=$(ticks "$orthanc_pid"); t0=$(now)
            storescu_to "$orthanc_host" "$orthanc_port" ORTHANC "$data"
            t1=$(now); c1=$(ticks "$orthanc_pid"); n=$(orthanc_count)
            stop_orthanc
            record "storescu -> Orthanc (veth)" "$2" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0)) ;;
    esac
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; load average $(cut -d' ' -f1-3 /proc/loadavg); $count files, $bytes bytes" | tee -a "$results"
start_storescp
if [ "$only" != scu ]; then
    start_ours
    ((orthanc)) && setup_netns kbs 199
    # Warm-up of the long-running SCPs (our JIT; both: the first association's setup); its files are deleted before each run.
    storescu_to 127.0.0.1 "$ours_port" KAAPANA "$warmdir"
    storescu_to 127.0.0.1 "$dcmtk_port" STORESCP "$warmdir"
    perf_pid=""
    if [ "${STORESCP_PERF:-}" = 1 ]; then
        echo "perf: our SCP needs DOTNET_PerfMapEnabled=1; restarting it with that" >&2
        kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true
        # W^X off: with it on, JIT code lives in a memfd double mapping that perf cannot match with /tmp/perf-PID.map.
        export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0; start_ours; unset DOTNET_PerfMapEnabled DOTNET_EnableWriteXorExecute
        fresh_dir ours warmup2 # not over the first warm-up's files: replacing them would delete 1,000 inodes
        storescu_to 127.0.0.1 "$ours_port" KAAPANA "$warmdir"
    fi
    # Tiered JIT compiles hot methods at tier 1 in the background some 100 ms after the calls are counted: let it finish.
    sleep 2
    targets=(ours storescp); ((orthanc)) && targets+=(orthanc)
    for rep in $(seq 1 "$reps"); do
        # Rotate the order each repetition so no target always runs right after another one's write-back.
        k=$(( (rep - 1) % ${#targets[@]} ))
        order=("${targets[@]:k}" "${targets[@]:0:k}")
        for t in "${order[@]}"; do
            if [ "$t" = ours ] && [ "${STORESCP_PERF:-}" = 1 ]; then
                perf record -F 999 -g -p "$ours_pid" -o "$out/perf.data" >/dev/null 2>&1 & perf_pid=$!
                sleep 0.3
                run_scp "$t" "$rep"
                kill -INT "$perf_pid"; wait "$perf_pid" || true
                echo "perf data: $out/perf.data (perf report -i $out/perf.data --no-children)" >&2
            else
                run_scp "$t" "$rep"
            fi
        done
    done
    kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true
fi

# ---------------------------------------------------------------- SCUs into storescp
if [ "$only" != scp ]; then
    for rep in $(seq 1 "$reps"); do
        order=(ours storescu); ((rep % 2)) || order=(storescu ours)
        for s in "${order[@]}"; do
            fresh_dir storescp "scu-$s-$rep"
            c0=$(ticks "$dcmtk_pid"); t0=$(now)
            if [ "$s" = ours ]; then
                line=$(dotnet "$dll" scu --dir "$data" --port "$dcmtk_port" --aet STORESCP)
            else
                storescu_to 127.0.0.1 "$dcmtk_port" STORESCP "$data"
            fi
            t1=$(now); c1=$(ticks "$dcmtk_pid"); n=$(nfiles "$recv/storescp" '*')
            if [ "$s" = ours ]; then
                record "ours (StoreFilesAsync) -> storescp" "$rep" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0))
                inner=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
                record "  same, in-process (no start/JIT)" "$rep" "$inner" "$n" -1
            else
                record "storescu -> storescp" "$rep" "$(echo "$t1 - $t0" | bc)" "$n" $((c1 - c0))
            fi
        done
    done
fi

# ---------------------------------------------------------------- ratios (same run, per repetition)
echo
awk -F'\t' '
    function median(name,   n, i, j, v, x) {
        n = 0
        for (i = 1; i <= nrep; i++) if ((name, i) in t) v[++n] = t[name, i] + 0
        for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        return n == 0 ? 0 : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
    }
    function line(label, o, d, h, s, u, i) {
        if (o && d) printf "%s: ours SCP / storescp = %.2f", label, d / o
        if (o && h) printf ", ours SCP / Orthanc = %.2f", h / o
        if (o && d) printf "  (throughput ratios)\n"
        if (s && u) printf "%s: ours SCU / storescu = %.2f (process wall), %.2f (in-process)\n", label, s / u, s / i
    }
    { t[$1, $2] = $3; if ($2 + 0 > nrep) nrep = $2 + 0 }
    END {
        O = "storescu -> ours (DicomServer)"; D = "storescu -> storescp +B"; H = "storescu -> Orthanc (veth)"
        S = "storescu -> storescp"; U = "ours (StoreFilesAsync) -> storescp"; I = "same, in-process (no start/JIT)"
        for (r = 1; r <= nrep; r++) line("rep " r, t[O, r], t[D, r], t[H, r], t[S, r], t[U, r], t[I, r])
        if (nrep > 1) line("median of " nrep, median(O), median(D), median(H), median(S), median(U), median(I))
    }' "$tsv" | tee -a "$results"
echo "results: $results" >&2
release_receive_dir # all received files (several GB)
