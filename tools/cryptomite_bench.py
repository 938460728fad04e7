#!/usr/bin/env python3
"""Times cryptomite 0.3.0's Toeplitz extractor on this machine, for comparison with `qrng bench extract/toeplitz`
run just before or after (same machine, same load). Never part of qrng itself.

Usage: pip install cryptomite==0.3.0; python3 tools/cryptomite_bench.py [--seconds 3]
Prints, for (n, m) = (1024, 512), (4096, 2048), (65536, 32768), (2^20, 2^19), the input rate in Mbit/s.
"""
import random
import sys
import time

try:
    import cryptomite
except ImportError:
    sys.exit("cryptomite is not installed: pip install cryptomite==0.3.0")


def rate(n, m, seconds):
    rng = random.Random(n)
    seed = [rng.getrandbits(1) for _ in range(n + m - 1)]
    block = [rng.getrandbits(1) for _ in range(n)]
    extractor = cryptomite.Toeplitz(n, m)
    extractor.extract(block, seed)  # warm-up
    blocks = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        extractor.extract(block, seed)
        blocks += 1
    elapsed = time.perf_counter() - start
    return blocks * n / elapsed / 1e6


if __name__ == "__main__":
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 3.0
    for n in (1 << 10, 1 << 12, 1 << 16, 1 << 20):
        print(f"cryptomite toeplitz n={n:>8} m={n // 2:>8}: {rate(n, n // 2, seconds):8.3f} Mbit/s of input")
