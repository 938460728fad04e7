#!/usr/bin/env bash
# Builds the QRNG library's DocC documentation (Sources/QRNG/QRNG.docc and the comments on the public API) with
# the toolchain's docc, without the swift-docc-plugin dependency, and reports DocC's warnings (broken symbol links,
# undocumented parameters).
#
#   tools/build_docs.sh [OUTPUT]      # default .build/QRNG.doccarchive
#   docc preview ... or serve OUTPUT with any static web server
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-.build/QRNG.doccarchive}
docc=$(command -v docc || echo "$(dirname "$(command -v swift)")/docc")
swift package dump-symbol-graph >/dev/null
graphs=$(find .build -path '*/symbolgraph' -type d | head -n 1)
"$docc" convert Sources/QRNG/QRNG.docc --additional-symbol-graph-dir "$graphs" \
    --fallback-display-name QRNG --fallback-bundle-identifier org.qrng.QRNG --output-path "$output" 2>&1 |
    grep -E '^(warning|error)' || true
echo "documentation: $output"
