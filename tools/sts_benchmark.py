#!/usr/bin/env python3
"""Times `qrng test` against sp80022suite (NIST STS 2.1.2's C code) on the same data in the same run.

    swift build -c release --scratch-path .build-sts
    python3 tools/sts_benchmark.py [--qrng .build-sts/release/qrng] [--sequences 100] [--length 1000000]

Data: `--sequences` sequences of xoshiro256** output (seed 1, the bits qrng's tests use), written to a temporary
file. qrng is timed as a whole process (reading the file, all 15 tests, the report), once for the first sequence
and once for all of them, best of `--repeats` runs, by the clock and by CPU time (user + system; on a machine shared
with other work the CPU time is the steadier figure). sp80022suite is timed per call on each sequence's bits
(one byte per bit, converted before the clock starts), in CPU time, for all 15 tests with NIST STS's defaults; the
non-overlapping template test reads the 148 templates from a temporary templates/ folder, as NIST STS does.
Needs `pip install sp80022suite` (only for the baseline; --no-baseline skips it).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sts_vectors  # noqa: E402


def xoshiro_bytes(seed, count):
    """The first `count` bytes of the xoshiro256** stream that sts_vectors.xoshiro_bits gives as bits."""
    words = (count + 7) // 8
    bits = sts_vectors.xoshiro_bits(seed, 0)  # checks the generator is importable
    del bits
    mask = (1 << 64) - 1
    state = seed

    def splitmix():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    s0, s1, s2, s3 = (splitmix() for _ in range(4))
    out = bytearray()
    for _ in range(words):
        result = ((((s1 * 5) & mask) << 7 | ((s1 * 5) & mask) >> 57) & mask) * 9 & mask
        t = (s1 << 17) & mask
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & mask
        out += result.to_bytes(8, "big")
    return bytes(out[:count])


def time_qrng(qrng, path, length, sequences, repeats):
    """The best wall-clock time and the best CPU time (user + system) of `repeats` runs."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([qrng, "test", path, "--length", str(length), "--sequences", str(sequences), "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best_wall = min(best_wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best_wall, best_cpu


def time_suite(sequences_bits):
    import sp80022suite as s
    calls = [
        ("Frequency", lambda d: s.frequency(d)), ("BlockFrequency", lambda d: s.block_frequency(128, d)),
        ("CumulativeSums", lambda d: s.cumulative_sums(d)), ("Runs", lambda d: s.runs(d)),
        ("LongestRun", lambda d: s.longest_run_of_ones(d)), ("Rank", lambda d: s.rank(d)),
        ("FFT", lambda d: s.discrete_fourier_transform(d)),
        ("NonOverlappingTemplate", lambda d: s.non_overlapping_template_matchings(9, d)),
        ("OverlappingTemplate", lambda d: s.overlapping_template_matchings(9, d)),
        ("Universal", lambda d: s.universal(d)), ("ApproximateEntropy", lambda d: s.approximate_entropy(10, d)),
        ("RandomExcursions", lambda d: s.random_excursions(d)),
        ("RandomExcursionsVariant", lambda d: s.random_excursions_variant(d)),
        ("Serial", lambda d: s.serial(16, d)), ("LinearComplexity", lambda d: s.linear_complexity(500, d)),
    ]
    per_test = {name: 0.0 for name, _ in calls}
    with sts_vectors.nist_templates():
        for data in sequences_bits:
            for name, call in calls:
                # CPU time of this process, which the other work on a shared machine disturbs less than the clock.
                start = time.process_time()
                try:
                    call(data)
                except ValueError:
                    pass  # too few cycles for the excursion tests: the time spent still counts
                per_test[name] += time.process_time() - start
    return per_test


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qrng", default=".build-sts/release/qrng")
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--length", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    arguments = parser.parse_args()

    total_bits = arguments.sequences * arguments.length
    packed = xoshiro_bytes(1, (total_bits + 7) // 8)
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(packed)
        path = f.name
    try:
        one, one_cpu = time_qrng(arguments.qrng, path, arguments.length, 1, arguments.repeats)
        many, many_cpu = time_qrng(arguments.qrng, path, arguments.length, arguments.sequences, arguments.repeats)
        print("qrng test, 1 sequence of %d bits: %.3f s wall, %.3f s CPU (whole process, best of %d)"
              % (arguments.length, one, one_cpu, arguments.repeats))
        print("qrng test, %d sequences of %d bits: %.3f s wall, %.3f s CPU (%.1f ms CPU per sequence)"
              % (arguments.sequences, arguments.length, many, many_cpu, 1000 * many_cpu / arguments.sequences))
        if not arguments.no_baseline:
            import numpy as np
            n = arguments.length
            bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8))
            sequences = [bits[i * n:(i + 1) * n].tobytes() for i in range(arguments.sequences)]
            first = time_suite(sequences[:1])
            print("sp80022suite (NIST STS 2.1.2 C code), 1 sequence, all 15 tests: %.3f s CPU" % sum(first.values()))
            print("  " + ", ".join("%s %.3f" % (name, t) for name, t in first.items()))
            thirteen = sum(t for name, t in first.items() if name not in ("RandomExcursions", "RandomExcursionsVariant"))
            print("  the 13 tests other than the random excursions tests: %.3f s" % thirteen)
            if arguments.sequences > 1:
                total = sum(time_suite(sequences).values())
                print("sp80022suite, %d sequences, all 15 tests: %.3f s CPU" % (arguments.sequences, total))
                print("ratio of CPU times (sp80022suite / qrng) for %d sequences: %.1f"
                      % (arguments.sequences, total / many_cpu))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
