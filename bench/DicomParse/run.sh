#!/usr/bin/env bash
# DicomParse benchmark: header parse (stop before pixel data) of 1,000 synthetic 512x512 CT files,
# Kaapana.Dicom vs pydicom 2.3.1 vs DCMTK dcmdump. See bench/README.md.
#
#   bench/DicomParse/run.sh [extra arguments for the benchmark, e.g. --reps 5, --only ours, --breakdown]
#
# Environment: DICOMPARSE_DATA (default bench/out/DicomParse/ct512), DICOMPARSE_COUNT (default 1000),
# DICOMPARSE_REF: measure Kaapana.Dicom as committed at that git revision (e.g. HEAD, while the work tree does not build),
# DICOMPARSE_LIB: measure another Kaapana.Dicom.csproj (e.g. a prototype copy outside the repo).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${DICOMPARSE_DATA:-$repo/bench/out/DicomParse/ct512}"
count="${DICOMPARSE_COUNT:-1000}"
if [ -n "${DICOMPARSE_REF:-}" ]; then
    rev="$(git -C "$repo" rev-parse --short "$DICOMPARSE_REF^{commit}")"
    snap="$repo/bench/out/DicomParse/lib-$rev"
    if [ ! -f "$snap/Kaapana.Dicom/Kaapana.Dicom.csproj" ]; then
        mkdir -p "$snap"
        git -C "$repo" archive "$rev" Kaapana.Dicom Directory.Build.props | tar -x -C "$snap"
    fi
    DICOMPARSE_LIB="$snap/Kaapana.Dicom/Kaapana.Dicom.csproj"
fi
lib="${DICOMPARSE_LIB:-$repo/Kaapana.Dicom/Kaapana.Dicom.csproj}"
build="$repo/bench/out/DicomParse/build"
[ -n "${DICOMPARSE_LIB:-}" ] && build="$build-$(echo "$lib" | md5sum | cut -c1-8)"

# Tools: Debian's python3 with pydicom 2.3.1 (python3-pydicom) and DCMTK (dcmtk) for dcmdump.
missing=()
/usr/bin/python3 -c 'import pydicom' 2>/dev/null || missing+=(python3-pydicom)
command -v dcmdump >/dev/null || missing+=(dcmtk)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
pyver="$(/usr/bin/python3 -c 'import pydicom; print(pydicom.__version__)')"
[ "$pyver" = "2.3.1" ] || echo "warning: pydicom $pyver, the figures in bench/README.md were taken with 2.3.1" >&2

# (1) Data: generated once, reused while $data/.complete matches the generator version and count.
/usr/bin/python3 "$here/generate.py" "$data" "$count"

# (2) Build in Release into bench/out (the artifacts path keeps Kaapana.Dicom's own bin/obj untouched).
dotnet build "$here/DicomParse.csproj" -c Release --artifacts-path "$build" -p:KaapanaDicomProject="$lib" \
    -nologo -v q -clp:ErrorsOnly >&2
echo "library: $lib" >&2
dll="$build/bin/DicomParse/release/DicomParse.dll"

# (3) Measure: warm-up + 3 timed passes of each, median, files/s and ratios.
exec dotnet "$dll" --data "$data" --scripts "$here" "$@"
