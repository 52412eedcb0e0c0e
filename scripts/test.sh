#!/usr/bin/env bash
# The project's test command (README, CI): installs the Debian packages the tests call,
# builds the solution, runs every test and ends with one line: "N passed, N failed".
# Exits non-zero if the build fails or any test fails.
set -euo pipefail

# Debian packages the tests use. Later work adds to this one list.
APT_PACKAGES="dcmtk python3-pydicom docker-compose orthanc orthanc-dicomweb iproute2 libcharls2 libopenjp2-7 dicom3tools libgdcm-tools chromium busybox-static docker.io curl"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Reports one failure in the counts line CI reads, then stops.
fail() {
  echo "test.sh: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

missing=()
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    fail "need root (or sudo) to install: ${missing[*]}"
  fi
  "${as_root[@]}" apt-get update || fail "apt-get update failed"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
    fail "apt-get install ${missing[*]} failed"
fi

command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is not on PATH"

dotnet build Kaapana.sln -c Release || fail "build failed"

# The workflow tests run containers on a private Docker daemon, with the images built from algorithms/.
KAAPANA_TEST_DOCKER_HOST=$(scripts/start-dockerd.sh) || fail "the Docker daemon did not start (scripts/start-dockerd.sh)"
export KAAPANA_TEST_DOCKER_HOST
algorithms/build-images.sh "$KAAPANA_TEST_DOCKER_HOST" || fail "building the algorithm images failed (algorithms/build-images.sh)"

results="$PWD/TestResults"
rm -rf "$results"
# A failing test must not stop the script before the counts are read.
test_rc=0
dotnet test Kaapana.sln -c Release --no-build \
  --logger "trx;LogFileName=results.trx" --results-directory "$results" || test_rc=$?

# Sum the ResultSummary/Counters of every TRX; errors, timeouts and aborts count as failures.
counter() { # counter NAME "<Counters .../>"
  local value
  value=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2")
  echo "${value:-0}"
}
passed=0
failed=0
trx_count=0
while IFS= read -r -d '' trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
  [[ -n $counters ]] || continue
  trx_count=$((trx_count + 1))
  passed=$((passed + $(counter passed "$counters")))
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters")))
done < <(find "$results" -name '*.trx' -print0 2>/dev/null)

if ((test_rc != 0 && failed == 0)); then
  # The run broke without a failed test to show for it (no TRX, crashed test host, ...).
  echo "test.sh: dotnet test exited $test_rc (TRX files read: $trx_count)" >&2
  failed=1
fi

echo "$passed passed, $failed failed"
((failed == 0))
