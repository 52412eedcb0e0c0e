#!/usr/bin/env bash
# kaapana/threshold-seg: the C# program of this folder as a self-contained single file on a minimal root (../common/build-dotnet-image.sh).
exec bash ../common/build-dotnet-image.sh threshold-seg
