#!/usr/bin/env bash
# Runs dieharder, ent and rngtest on the stream `qrng serve` serves through a FIFO and prints one summary table.
# The work is done by run_batteries.py (Python 3, standard library only), whose header documents the options,
# the order of the readers and the PASS / WEAK / FAIL bands; `tools/run_batteries.sh --help` lists the options.
#
#   tools/run_batteries.sh --quick                       # dieharder -d 0, ent 1 MB, rngtest 200 blocks
#   tools/run_batteries.sh --dieharder-tests 0,1,2,3     # a named subset of dieharder
#   tools/run_batteries.sh -- --seed 7 --extractor von-neumann --allow-simulated   # options for qrng serve
set -euo pipefail
command -v python3 >/dev/null || { echo "run_batteries: needs python3 (apt-get install python3)" >&2; exit 2; }
exec python3 "$(dirname "$0")/run_batteries.py" "$@"
