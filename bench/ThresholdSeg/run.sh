#!/usr/bin/env bash
# threshold-seg on N CT series through the whole server, against the same image run with `docker run --rm` on the same
# inputs, in one run on the same private daemon.
#
#   bench/ThresholdSeg/run.sh [SERIES=20] [SLICES=64] [SIZE=256] [SLOTS=1]
#
# Engine wall time: from creating the dataset (the series are already in the archive) through freezing it, launching
# the run and executing its items, until the run has ended and all SEG series are ingested (checked: one derived series
# per source). Raw: the sum of `docker run --rm` of kaapana/threshold-seg, one per series, sequential, with the contract's
# flags (no network, read-only root, non-root user, no new privileges, cpu/memory of the manifest) on the very /input
# folders the engine staged (kept with Kaapana:Workflows:KeepWorkFolders). With SLOTS=1 both sides run one container at a time.
#
# Needs: the built server (dotnet build -c Release), the test daemon (scripts/start-dockerd.sh) with kaapana/threshold-seg
# (algorithms/build-images.sh), python3-pydicom, dcmtk (storescu), curl, bc. Scratch in bench/out/threshold-seg.
set -euo pipefail
series_count=${1:-20}
slices=${2:-64}
size=${3:-256}
slots=${4:-1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/bench/out/threshold-seg"
endpoint=${KAAPANA_TEST_DOCKER_HOST:-$("$repo/scripts/start-dockerd.sh")}
docker_cli=(/usr/bin/docker -H "$endpoint")
image=kaapana/threshold-seg:latest
server_dll="$repo/Kaapana.Server/bin/Release/net10.0/Kaapana.Server.dll"
[[ -f $server_dll ]] || { echo "build first: dotnet build Kaapana.sln -c Release" >&2; exit 1; }
"${docker_cli[@]}" image inspect "$image" >/dev/null || { echo "run algorithms/build-images.sh $endpoint" >&2; exit 1; }

rm -rf "$out"; mkdir -p "$out/dicom" "$out/data" "$out/raw"
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true; }
trap cleanup EXIT

/usr/bin/python3 "$here/generate.py" "$out/dicom" "$series_count" "$slices" "$size"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bench_password="Bench-admin-pw-4711"
api="http://admin:$bench_password@127.0.0.1:$port/api"
Kaapana__AdminPassword="$bench_password" Kaapana__DataDir="$out/data" Kaapana__Docker__Endpoint="$endpoint" Kaapana__Docker__InstanceId="bench-ts-$$" \
  Kaapana__Workflows__CpuSlots="$slots" Kaapana__Workflows__KeepWorkFolders=true Serilog__MinimumLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$server_dll" --urls "http://127.0.0.1:$port" --Kaapana:Dicom:Port="$dport" --Kaapana:Dicom:BindAddress=127.0.0.1 \
  >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
TCP_NODELAY=1 storescu -aec KAAPANA +sd +r 127.0.0.1 "$dport" "$out/dicom"
expected=$((series_count * slices))
for _ in $(seq 1 600); do
  stored=$(curl -sf "$api/series?project=default&limit=1000" | json 'sum(s["numberOfInstances"] for s in d["items"])')
  [[ $stored -ge $expected ]] && break
  sleep 0.2
done
[[ $stored -ge $expected ]] || { echo "only $stored of $expected instances arrived" >&2; exit 1; }
algorithm=$(curl -sf -H 'content-type: application/json' -d "{\"image\":\"$image\"}" "$api/algorithms" | json 'd["id"]')
params='{"lower":300,"upper":3071,"label":"Bone"}'

start=$(date +%s.%N)
dataset=$(curl -sf -H 'content-type: application/json' -d '{"name":"threshold-bench"}' "$api/projects/default/datasets" | json 'd["id"]')
uids=$(curl -sf "$api/series?project=default&limit=1000" | json 'json.dumps({"seriesInstanceUIDs":[s["seriesInstanceUID"] for s in d["items"]]})')
curl -sf -H 'content-type: application/json' -d "$uids" "$api/datasets/$dataset/series" >/dev/null
version=$(curl -sf -H 'content-type: application/json' -d '{}' "$api/datasets/$dataset/versions" | json 'd["id"]')
run=$(curl -sf -H 'content-type: application/json' -d "{\"algorithmId\":$algorithm,\"datasetVersionId\":$version,\"parameters\":$params}" "$api/runs" | json 'd["id"]')
while :; do
  state=$(curl -sf "$api/runs/$run" | json 'd["state"]')
  [[ $state == Queued || $state == Running ]] || break
  sleep 0.2
done
derived=$(curl -sf "$api/runs/$run/results" | json 'len(d["derivedSeries"])')
engine=$(echo "$(date +%s.%N) - $start" | bc -l)
items=$(curl -sf "$api/runs/$run" | json 'sum(1 for i in d["items"] if i["state"]=="Succeeded")')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
[[ $state == Succeeded && $derived -eq $series_count ]] || { echo "run $run: $state, $derived derived series of $series_count (see $out/server.log)" >&2; exit 1; }

# The same image on the same staged inputs, one container at a time.
raw=0
for input in "$out"/data/workflows/runs/"$run"/work/*/input; do
  o="$out/raw/$(basename "$(dirname "$input")")"
  mkdir -p "$o"; chown 65534:65534 "$o"
  t0=$(date +%s.%N)
  "${docker_cli[@]}" run --rm --network none --read-only --tmpfs /tmp --user 65534:65534 --security-opt no-new-privileges --cap-drop ALL \
    --cpus 1 --memory 3g -e KAAPANA_PARAM_LOWER=300 -e KAAPANA_PARAM_UPPER=3071 -e KAAPANA_PARAM_LABEL=Bone \
    -v "$input:/input:ro" -v "$o:/output" "$image" >/dev/null
  raw=$(echo "$raw + $(date +%s.%N) - $t0" | bc -l)
done
segs=$(find "$out/raw" -name '*.dcm' | wc -l)

printf 'series %d x %d slices of %dx%d (%d instances), engine slots %d, load average %s\n' "$series_count" "$slices" "$size" "$size" "$expected" "$slots" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'engine (dataset creation -> %d SEG series ingested, %s items succeeded): %.1f s (%.0f ms/series)\n' "$derived" "$items" "$engine" "$(echo "$engine * 1000 / $series_count" | bc -l)"
printf 'raw docker run --rm, sum over %d series (%d SEG files): %.1f s (%.0f ms/series)\n' "$series_count" "$segs" "$raw" "$(echo "$raw * 1000 / $series_count" | bc -l)"
printf 'ratio engine/raw: %.2f\n' "$(echo "$engine / $raw" | bc -l)"
