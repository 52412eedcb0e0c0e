#!/usr/bin/env bash
# DICOMweb against Orthanc + its DICOMweb plugin, both holding the same 10,000 instances (bench/DicomWeb/generate.py),
# in one run: QIDO-RS `/studies?PatientName=…&StudyDate=…` latency (p50/p95 over the same query list, one keep-alive
# connection per round) and WADO-RS series retrieval throughput (MB/s, whole multipart body, 4 series of 100 × 512² CT).
#
#   bench/DicomWeb/run.sh [--rounds N]      # default 5 QIDO rounds of 120 queries, 3 WADO rounds of the 4 series
#
# Needs root (Orthanc runs in its own network namespace, see bench/lib/peers.sh). Results: bench/out/DicomWeb/results.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/bench/out/DicomWeb"
data="$out/data"
rounds=5 wrounds=3
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        *) echo "usage: $0 [--rounds N]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (Orthanc's network namespace)" >&2; exit 1; }
for c in storescu Orthanc curl ip; do command -v "$c" >/dev/null || { echo "missing $c (dcmtk, orthanc, curl, iproute2)" >&2; exit 1; }; done
plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -e "$plugin" ] || { echo "missing $plugin (apt-get install orthanc-dicomweb)" >&2; exit 1; }
export TCP_NODELAY=1
mkdir -p "$out"

/usr/bin/python3 "$here/generate.py" "$data"
dotnet build "$repo/Kaapana.Server/Kaapana.Server.csproj" -c Release --artifacts-path "$out/build" -nologo -v q -clp:ErrorsOnly >&2
bindir="$out/build/bin/Kaapana.Server/release"

recv="$out/recv"
source "$here/../lib/peers.sh"
rm -rf "$recv"; mkdir -p "$recv"
trap cleanup EXIT
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- the two servers, filled by storescu
ours_dicom=$(freeport); ours_http=$(freeport)
# Every door but /healthz needs an account: the first-run admin gets a known password, curl sends it as HTTP Basic.
bench_password="Bench-admin-pw-4711"
(cd "$bindir" && exec env Kaapana__AdminPassword="$bench_password" Kaapana__DataDir="$recv/ours" Kaapana__Dicom__Port="$ours_dicom" Kaapana__Dicom__BindAddress=127.0.0.1 \
    Kaapana__Viewer__Enabled=false ASPNETCORE_ENVIRONMENT=Production dotnet Kaapana.Server.dll --urls "http://127.0.0.1:$ours_http" \
    >"$out/ours.log" 2>&1) &
pids+=($!)
setup_netns kdw 199
orthanc_port=4242
start_orthanc_in "$recv/orthanc" DicomWebBench "[\"$plugin\"]" '"DicomWeb": { "Enable": true, "Root": "/dicom-web/" }'
wait_echo 127.0.0.1 "$ours_dicom" KAAPANA 900
echo "filling both archives with $(find "$data" -name '*.dcm' | wc -l) instances" >&2
storescu +sd +r +sp '*.dcm' -aec KAAPANA 127.0.0.1 "$ours_dicom" "$data" &
s1=$!
storescu +sd +r +sp '*.dcm' -aec ORTHANC "$orthanc_host" "$orthanc_port" "$data"
wait "$s1"
sleep 2

ours="http://admin:$bench_password@127.0.0.1:$ours_http/dicomweb"
orthanc="http://$orthanc_host:8042/dicom-web"

# ---------------------------------------------------------------- QIDO
# 120 queries: a surname prefix with a two-year StudyDate range (the shape of a researcher's search).
queries="$out/queries.txt"
/usr/bin/python3 - >"$queries" <<'PY'
import random
r = random.Random(1)
names = ["SMITH", "MUELLER", "GARCIA", "ROSSI", "NOVAK", "KOWALSKI", "DUBOIS", "JANSEN", "SILVA", "NAKAMURA",
         "OKAFOR", "HANSEN", "PETROV", "LEHMANN", "BRAUN", "WAGNER", "SCHMIDT", "MARTIN", "BERNARD", "LARSEN"]
for _ in range(120):
    y = r.randint(2015, 2023)
    print(f"studies?PatientName={r.choice(names)[:r.randint(2, 5)]}*&StudyDate={y}0101-{y + 1}1231")
PY
qido_round() { # base-url -> one time_total per line (one curl process, keep-alive)
    local cfg="$out/curl.cfg"
    : >"$cfg"
    while read -r q; do printf 'url = "%s/%s"\noutput = "/dev/null"\n' "$1" "$q" >>"$cfg"; done <"$queries"
    curl -s -K "$cfg" -H 'Accept: application/dicom+json' -w '%{http_code} %{time_total}\n'
}
count_results() { # base-url -> total matches over the query list (the two servers must agree)
    local n=0 q
    while read -r q; do
        n=$((n + $(curl -s -H 'Accept: application/dicom+json' "$1/$q" | /usr/bin/python3 -c 'import json,sys; t=sys.stdin.read(); print(len(json.loads(t)) if t.strip() else 0)')))
    done <"$queries"
    echo "$n"
}
results="$out/results.txt"
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$results"
echo "QIDO matches over the query list: ours $(count_results "$ours"), Orthanc $(count_results "$orthanc")" | tee -a "$results"
: >"$out/qido-ours.txt"; : >"$out/qido-orthanc.txt"
qido_round "$ours" >/dev/null; qido_round "$orthanc" >/dev/null # warm-up
for r in $(seq 1 "$rounds"); do
    if ((r % 2)); then qido_round "$ours" >>"$out/qido-ours.txt"; qido_round "$orthanc" >>"$out/qido-orthanc.txt"
    else qido_round "$orthanc" >>"$out/qido-orthanc.txt"; qido_round "$ours" >>"$out/qido-ours.txt"; fi
done
pct() { # file percentile -> seconds (every status must be 200 or 204)
    if awk '$1 != 200 && $1 != 204 { bad = 1 } END { exit !bad }' "$1"; then echo "ERR"; return; fi
    awk '{ print $2 }' "$1" | sort -g | awk -v p="$2" '{ v[NR] = $1 } END { i = int(p * NR + 0.999999); if (i < 1) i = 1; printf "%.4f", v[i] }'
}
o50=$(pct "$out/qido-ours.txt" 0.5) o95=$(pct "$out/qido-ours.txt" 0.95)
h50=$(pct "$out/qido-orthanc.txt" 0.5) h95=$(pct "$out/qido-orthanc.txt" 0.95)
{
    echo "QIDO /studies?PatientName=X*&StudyDate=range, $rounds rounds x $(wc -l <"$queries") queries:"
    printf '  ours     p50 %6.1f ms  p95 %6.1f ms\n' "$(echo "$o50*1000" | bc)" "$(echo "$o95*1000" | bc)"
    printf '  Orthanc  p50 %6.1f ms  p95 %6.1f ms\n' "$(echo "$h50*1000" | bc)" "$(echo "$h95*1000" | bc)"
    printf '  ratio ours/Orthanc: p50 %.3f  p95 %.3f  (target p95 <= 0.333)\n' "$(echo "$o50/$h50" | bc -l)" "$(echo "$o95/$h95" | bc -l)"
} | tee -a "$results"

# ---------------------------------------------------------------- WADO-RS series retrieval
wado() { # base-url study series accept -> "bytes seconds"
    curl -s -o /dev/null -H "Accept: $4" -w '%{http_code} %{size_download} %{time_total}\n' "$1/studies/$2/series/$3"
}
accept_star='multipart/related; type="application/dicom"; transfer-syntax=*'
accept_plain='multipart/related; type="application/dicom"'
orthanc_accept="$accept_star"
read -r st se < <(head -n 1 "$data/big-series.tsv")
[ "$(wado "$orthanc" "$st" "$se" "$orthanc_accept" | cut -d' ' -f1)" = 200 ] || orthanc_accept="$accept_plain"
: >"$out/wado-ours.txt"; : >"$out/wado-orthanc.txt"
for r in $(seq 0 "$wrounds"); do # round 0 warms up
    while read -r st se; do
        o=$(wado "$ours" "$st" "$se" "$accept_star"); h=$(wado "$orthanc" "$st" "$se" "$orthanc_accept")
        ((r)) && { echo "$o" >>"$out/wado-ours.txt"; echo "$h" >>"$out/wado-orthanc.txt"; }
    done <"$data/big-series.tsv"
done
mbps() { awk '$1 != 200 { bad++ } { b += $2; t += $3 } END { if (bad) print "ERR"; else printf "%.1f", b / 1e6 / t }' "$1"; }
wo=$(mbps "$out/wado-ours.txt") wh=$(mbps "$out/wado-orthanc.txt")
{
    echo "WADO-RS series retrieval (4 series x 100 x 512² CT, $wrounds rounds; Orthanc Accept: $orthanc_accept):"
    echo "  ours $wo MB/s, Orthanc $wh MB/s, ratio $(echo "$wo/$wh" | bc -l | cut -c1-5) (target >= 1.5)"
} | tee -a "$results"
echo "results: $results" >&2
