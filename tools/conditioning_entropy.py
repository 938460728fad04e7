#!/usr/bin/env python3
"""Writes testvectors/conditioning/sha256_output_entropy.rsp: SP 800-90B section 3.1.5.1.2's output entropy
of a vetted conditioning component, computed directly from the formula with mpmath at 100 digits, so that the
powers of two need no logarithmic rearrangement (qrng's Swift code carries them as logarithms).

  P_high = 2^-h_in;  P_low = (1 - P_high) / (2^n_in - 1);  n = min(n_out, nw)
  psi = 2^(n_in - n) * P_low + P_high
  U = 2^(n_in - n) + sqrt(2 * n * 2^(n_in - n) * ln 2)
  omega = U * P_low
  h_out = -log2(max(psi, omega))

Usage: python3 tools/conditioning_entropy.py [--check]
"""
import pathlib
import sys

import mpmath

mpmath.mp.dps = 100
PATH = pathlib.Path(__file__).resolve().parent.parent / "testvectors" / "conditioning" / "sha256_output_entropy.rsp"
CASES = [(256, 256), (256, 128), (512, 256), (512, 320), (512, 384), (512, 511), (1024, 256), (1024, 512),
         (1024, 900), (4096, 3000), (320, 320), (264, 200), (8, 8), (2048, 0.5), (512, 0)]


def output_entropy(n_in, h_in, n_out=256, nw=256):
    n_in = mpmath.mpf(n_in)
    h_in = mpmath.mpf(h_in)
    p_high = mpmath.power(2, -h_in)
    p_low = (1 - p_high) / (mpmath.power(2, n_in) - 1)
    n = min(n_out, nw)
    psi = mpmath.power(2, n_in - n) * p_low + p_high
    u = mpmath.power(2, n_in - n) + mpmath.sqrt(2 * n * mpmath.power(2, n_in - n) * mpmath.log(2))
    omega = u * p_low
    return -mpmath.log(max(psi, omega), 2)


def render():
    lines = [
        "# SP 800-90B section 3.1.5.1.2: min-entropy of a vetted conditioning component's output, SHA-256",
        "# (n_out = nw = 256). Provenance: tools/conditioning_entropy.py (mpmath, 100 digits, 2026-11-27), the",
        "# formula evaluated directly; see the script for the formula.",
        "",
    ]
    for n_in, h_in in CASES:
        lines += [f"input_bits = {n_in}", f"input_entropy = {h_in}",
                  f"output_entropy = {mpmath.nstr(output_entropy(n_in, h_in), 15)}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if PATH.read_text() == text else 1)
    PATH.write_text(text)
    print(text)
