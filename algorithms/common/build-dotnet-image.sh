#!/usr/bin/env bash
# Builds a C# algorithm (algorithms/<name>/<name>.csproj) into an image without a registry (FIELD-NOTES "Docker"):
# `dotnet publish` self-contained single file, then an image FROM scratch holding that file, the shared libraries
# `ldd` lists for it, the optional codec libraries Kaapana.Dicom loads at run time, /input, /output, /tmp and passwd
# entries. Called from the algorithm's build.sh (so from its folder) by ../build-images.sh with IMAGE and DOCKER set.
#
#   bash ../common/build-dotnet-image.sh NAME
#
# Build output goes to algorithms/bin/dotnet (git-ignored, outside every image folder, so it does not change their
# source hash), shared by all C# algorithms: Kaapana.Dicom compiles once, and a warm rebuild is incremental.
set -euo pipefail
trap 'echo "build-dotnet-image.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
name=$1
: "${IMAGE:?IMAGE (the tag to create) must be set: run this through algorithms/build-images.sh}"
DOCKER=${DOCKER:-/usr/bin/docker}
folder=$(pwd)
algorithms=$(cd .. && pwd)
project="$folder/$name.csproj"
[[ -f $project ]] || { echo "build-dotnet-image.sh: $project not found" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "build-dotnet-image.sh: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
command -v ldd >/dev/null || { echo "build-dotnet-image.sh: ldd not found (Debian package libc-bin)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
publish="$work/publish"
# InvariantGlobalization: no ICU in the image. PublishTrimmed stays off: Kaapana.Dicom uses reflection-free code, but
# trimming warnings from its dependencies are not worth the ~10 MB it would save.
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet publish "$project" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:InvariantGlobalization=true -p:DebugType=none \
  --artifacts-path "$algorithms/bin/dotnet" -o "$publish" -v quiet -nologo >&2
binary="$publish/$name"
[[ -x $binary ]] || { echo "build-dotnet-image.sh: dotnet publish did not produce $binary" >&2; exit 1; }

root="$work/context/rootfs"
mkdir -p "$root/usr/local/bin" "$root/lib/x86_64-linux-gnu" "$root/lib64" "$root/input" "$root/output" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp "$binary" "$root/usr/local/bin/$name"

# The libraries a file needs (ldd resolves them transitively), copied under their sonames.
copy_libraries() { # copy_libraries FILE
  local line so path
  while read -r line; do
    if [[ $line =~ ^([^[:space:]]+)[[:space:]]=\>[[:space:]](/[^[:space:]]+) ]]; then
      so=${BASH_REMATCH[1]} path=${BASH_REMATCH[2]}
      cp -L "$path" "$root/lib/x86_64-linux-gnu/$so"
    elif [[ $line =~ ^(/[^[:space:]]*ld-linux[^[:space:]]*) ]]; then
      cp -L "${BASH_REMATCH[1]}" "$root/lib64/$(basename "${BASH_REMATCH[1]}")"
    fi
  done < <(ldd "$1")
}
copy_libraries "$binary"
# Loaded with dlopen, not linked: zlib (deflate), OpenSSL's libcrypto (the runtime's hashes, e.g. SHA-256 for derived
# UIDs; it aborts the process when missing), and JPEG 2000 / JPEG-LS decoding when the host has them (test.sh installs
# both); without the codecs such inputs fail with a message naming the Debian package.
required="libz.so.1 libssl.so.3 libcrypto.so.3"
for lib in $required libopenjp2.so.7 libcharls.so.2; do
  # awk reads to the end: leaving early would kill ldconfig with SIGPIPE, and pipefail would end this script.
  path=$(/sbin/ldconfig -p | awk -v so="$lib" '$1 == so && /x86-64/ && !found { print $NF; found = 1 }')
  if [[ -n $path ]]; then
    cp -L "$path" "$root/lib/x86_64-linux-gnu/$lib"
    copy_libraries "$path"
  elif [[ " $required " == *" $lib "* ]]; then
    echo "build-dotnet-image.sh: $lib not found (Debian packages zlib1g, libssl3)" >&2
    exit 1
  else
    echo "build-dotnet-image.sh: note: $lib not on this machine, images decode without it" >&2
  fi
done
printf 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

cat >"$work/context/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
# The root file system is read-only at run time: a single-file bundle that needs extracting may only use /tmp.
ENV DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp LD_LIBRARY_PATH=/lib/x86_64-linux-gnu DOTNET_gcServer=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/$name"]
DOCKERFILE
label=()
[[ -f $folder/manifest.json ]] && label=(--label "org.kaapana.algorithm=$(cat "$folder/manifest.json")")
"$DOCKER" build --quiet "${label[@]}" -t "$IMAGE" "$work/context" >/dev/null
echo "build-dotnet-image.sh: $IMAGE: $(du -sh "$root" | cut -f1) root file system ($(du -h "$root/usr/local/bin/$name" | cut -f1) program)" >&2
