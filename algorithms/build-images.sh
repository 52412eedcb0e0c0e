#!/usr/bin/env bash
# Builds the algorithm images under algorithms/ into a Docker daemon, offline (no registry is reachable).
#
#   algorithms/build-images.sh [unix:///path/docker.sock]     (default: $KAAPANA_TEST_DOCKER_HOST, then $DOCKER_HOST)
#
# Every folder holding a build.sh or a Dockerfile is one image:
#   algorithms/<name>/       -> kaapana/<name>        (algorithms/busybox is the base every other image starts FROM)
#   algorithms/test/<name>/  -> kaapana-test/<name>   (tiny images the workflow tests run)
# An image is tagged :src-<hash> (hash of its folder, of the paths its optional `hash-inputs` file lists, and of the base
# image) and :latest. When the :src-<hash> tag exists the build is skipped, so a second run takes about a second and a
# changed source rebuilds. A manifest.json in the folder becomes the image's org.kaapana.algorithm label.
# A folder with build.sh builds the image itself: it is called with IMAGE (the tag to create), DOCKER (the CLI) and
# DOCKER_HOST set, from within its folder.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DOCKER_HOST=${1:-${KAAPANA_TEST_DOCKER_HOST:-${DOCKER_HOST:-}}}
[[ -n $DOCKER_HOST ]] || { echo "build-images.sh: no Docker endpoint: pass one or run scripts/start-dockerd.sh" >&2; exit 1; }
# Debian's CLI matches the daemon's API (1.41); another docker on PATH may be newer than the daemon speaks.
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=$(command -v docker) || { echo "build-images.sh: docker CLI not found: install docker.io" >&2; exit 1; }
export DOCKER

# Concurrent test runs share the daemon: one build at a time.
lock_dir=${KAAPANA_TEST_DOCKER_STATE:-/var/lib/kaapana-test-docker}
mkdir -p "$lock_dir" 2>/dev/null || lock_dir=${TMPDIR:-/tmp}
exec 9>"$lock_dir/build-images.lock"
flock 9

# Hash of a folder's files (names and contents), the paths listed in its hash-inputs, and any extra words given.
source_hash() { # source_hash DIR [EXTRA...]
  local dir=$1
  shift
  {
    (cd "$dir" && find . -type f -not -path "./bin/*" -not -path "./obj/*" -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) # a C# algorithm's build output is not source
    if [[ -f $dir/hash-inputs ]]; then
      while IFS= read -r path; do
        [[ -z $path || $path == \#* ]] && continue
        path=$(cd "$dir" && realpath -m "$path")
        [[ -e $path ]] || { echo "build-images.sh: $dir/hash-inputs names a missing path: $path" >&2; exit 1; }
        if [[ -d $path ]]; then # a .NET project: its build output is not source
          find "$path" -type f -not -path "$path/*bin/*" -not -path "$path/*obj/*" -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
        else
          sha256sum "$path"
        fi
      done <"$dir/hash-inputs"
    fi
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-16
}

build() { # build DIR REPOSITORY [BASE_ID]
  local dir=$1 repo=$2 base=${3:-}
  local hash image start
  hash=$(source_hash "$dir" "$base")
  image="$repo:src-$hash"
  if "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
    echo "build-images.sh: $image is up to date" >&2
  else
    start=$EPOCHREALTIME
    if [[ -f $dir/build.sh ]]; then
      (cd "$dir" && IMAGE="$image" bash ./build.sh) >&2
    else
      local label=()
      [[ -f $dir/manifest.json ]] && label=(--label "org.kaapana.algorithm=$(cat "$dir/manifest.json")")
      "$DOCKER" build --quiet --label "org.kaapana.source-hash=$hash" "${label[@]}" -t "$image" "$dir" >/dev/null
    fi
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 || { echo "build-images.sh: building $dir did not produce $image" >&2; exit 1; }
    echo "build-images.sh: built $image in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }") s" >&2
  fi
  "$DOCKER" tag "$image" "$repo:latest"
}

build "$here/busybox" kaapana/busybox
base_id=$("$DOCKER" image inspect --format '{{.Id}}' kaapana/busybox:latest)

for dir in "$here"/*/ "$here"/test/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  [[ $name == busybox || $name == test ]] && continue
  [[ -f $dir/build.sh || -f $dir/Dockerfile ]] || continue
  if [[ $dir == "$here"/test/* ]]; then repo=kaapana-test/$name; else repo=kaapana/$name; fi
  build "$dir" "$repo" "$base_id"
done
