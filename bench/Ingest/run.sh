#!/usr/bin/env bash
# bench/Ingest on a fresh journaled ext4 (loop device, as root; see bench/lib/peers.sh), so file creation does not pay
# for inodes deleted by earlier runs or sessions. Arguments go to the benchmark, e.g.
#
#   bench/Ingest/run.sh --count 2000 --concurrent-count 2000 --prefill 200000
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/bench/out/Ingest"
recv="$out/fs"
mkdir -p "$out"
source "$here/../lib/peers.sh"
prepare_receive_dir
trap cleanup EXIT
dotnet run -c Release --project "$here" -- --data "$recv/data" "$@"
