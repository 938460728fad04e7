#!/usr/bin/env bash
# Runs the BB84 example of Sources/QRNG/QRNG.docc/FeedingABB84Engine.md end to end and prints one round: a pool
# kept filled by the simulated pipeline (pseudo-random, seeded), uniform and biased (p_Z = 0.9) basis choices,
# sifting, and Toeplitz privacy amplification with a seed drawn from the pool.
#
#   tools/bb84_example.sh
#
# The example's code lives in Tests/QRNGTests/Consumers/BB84ExampleTests.swift, which also checks that the article
# shows that code word for word; this script runs those tests with QRNG_EXAMPLE_VERBOSE set, so they print.
set -euo pipefail
cd "$(dirname "$0")/.."
set +e
QRNG_EXAMPLE_VERBOSE=1 swift test --filter BB84ExampleTests 2>&1 |
    grep -vE '^(\[|Building|Build complete|Compiling|Linking|Test Suite|	 Executed|◇|↳)'
exit "${PIPESTATUS[0]}"
