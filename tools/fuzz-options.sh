#!/usr/bin/env bash
# Fuzzes every command's options for longer than the default suite does: OptionFuzzTests with its runs
# multiplied (default 30: 1,200 parsed argument lists per command and about 6,000 runs of the commands).
# Usage: tools/fuzz-options.sh [MULTIPLIER]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
QRNG_FUZZ_RUNS="${1:-30}" swift test --skip-build --filter OptionFuzzTests
