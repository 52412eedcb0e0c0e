#!/usr/bin/env bash
# Engine overhead per item: N items of kaapana-test/trivial (exits 0 at once) as one run through the full server
# (REST, Hangfire jobs, staging, Docker, results back), against `docker run --rm --network none` of the same image in a
# loop, in one run, on the same daemon.
#
#   bench/WorkflowOverhead/run.sh [N=200] [SLOTS=1]
#
# Needs: the built server (dotnet build -c Release), the test daemon (scripts/start-dockerd.sh) with its images
# (algorithms/build-images.sh), dcmtk (dcmodify), python3 (JSON), curl. Scratch in bench/out/workflow-overhead.
set -euo pipefail
n=${1:-200}
slots=${2:-1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/bench/out/workflow-overhead"
endpoint=${KAAPANA_TEST_DOCKER_HOST:-$("$repo/scripts/start-dockerd.sh")}
docker_cli=(/usr/bin/docker -H "$endpoint")
server_dll="$repo/Kaapana.Server/bin/Release/net10.0/Kaapana.Server.dll"
[[ -f $server_dll ]] || { echo "build first: dotnet build Kaapana.sln -c Release" >&2; exit 1; }
"${docker_cli[@]}" image inspect kaapana-test/trivial:latest >/dev/null || { echo "run algorithms/build-images.sh $endpoint" >&2; exit 1; }

rm -rf "$out"; mkdir -p "$out/dicom" "$out/data"
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true; }
trap cleanup EXIT

# N single-instance series: one sample CT copied, each with new study/series/instance UIDs.
src=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
for i in $(seq 1 "$n"); do cp "$src" "$out/dicom/$i.dcm"; done
dcmodify -q -nb -gst -gse -gin "$out"/dicom/*.dcm
(cd "$out/dicom" && zip -q ../series.zip ./*.dcm)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Every door but /healthz needs an account: the first-run admin gets a known password, curl sends it as HTTP Basic.
bench_password="Bench-admin-pw-4711"
api="http://admin:$bench_password@127.0.0.1:$port/api"
Kaapana__AdminPassword="$bench_password" Kaapana__DataDir="$out/data" Kaapana__Docker__Endpoint="$endpoint" Kaapana__Docker__InstanceId="bench-$$" \
  Kaapana__Workflows__CpuSlots="$slots" Serilog__MinimumLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$server_dll" --urls "http://127.0.0.1:$port" --Kaapana:Dicom:Port="$dport" --Kaapana:Dicom:BindAddress=127.0.0.1 \
  >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
curl -sf -F "files=@$out/series.zip" "$api/uploads?project=default" >/dev/null
dataset=$(curl -sf -H 'content-type: application/json' -d '{"name":"bench"}' "$api/projects/default/datasets" | json 'd["id"]')
series=$(curl -sf "$api/series?project=default&limit=$((n + 10))" | json 'json.dumps({"seriesInstanceUIDs":[s["seriesInstanceUID"] for s in d["items"]]})')
curl -sf -H 'content-type: application/json' -d "$series" "$api/datasets/$dataset/series" >/dev/null
version=$(curl -sf -H 'content-type: application/json' -d '{}' "$api/datasets/$dataset/versions" | json 'd["id"]')
algorithm=$(curl -sf -H 'content-type: application/json' \
  -d '{"image":"kaapana-test/trivial:latest","manifest":{"name":"trivial","version":"1","input":{"scope":"series"}}}' "$api/algorithms" | json 'd["id"]')

start=$(date +%s.%N)
run=$(curl -sf -H 'content-type: application/json' -d "{\"algorithmId\":$algorithm,\"datasetVersionId\":$version}" "$api/runs" | json 'd["id"]')
while :; do
  state=$(curl -sf "$api/runs/$run" | json 'd["state"]')
  [[ $state == Queued || $state == Running ]] || break
  sleep 0.2
done
engine=$(echo "$(date +%s.%N) - $start" | bc -l)
items=$(curl -sf "$api/runs/$run" | json 'sum(1 for i in d["items"] if i["state"]=="Succeeded")')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

start=$(date +%s.%N)
for _ in $(seq 1 "$n"); do "${docker_cli[@]}" run --rm --network none kaapana-test/trivial:latest; done
raw=$(echo "$(date +%s.%N) - $start" | bc -l)

printf 'items %d (%s succeeded, run state %s), engine slots %d\n' "$n" "$items" "$state" "$slots"
printf 'engine: %.1f s (%.0f ms/item)\nraw docker run --rm loop: %.1f s (%.0f ms/item)\nratio engine/raw: %.2f\n' \
  "$engine" "$(echo "$engine * 1000 / $n" | bc -l)" "$raw" "$(echo "$raw * 1000 / $n" | bc -l)" "$(echo "$engine / $raw" | bc -l)"
