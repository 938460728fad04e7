#!/usr/bin/env python3
"""Exact NIST SP 800-90B section 4.4 health-test cutoffs.

Writes testvectors/health/cutoffs.rsp (relative to the repository root).

Repetition Count Test (SP 800-90B section 4.4.1):
    C = 1 + ceil(-log2(alpha) / H)
  alpha is always 2^-a with a an integer, so -log2(alpha) = a exactly, and H
  is parsed from its decimal string with fractions.Fraction, so the ceiling is
  computed in exact rational arithmetic (a = 30, H = 0.3 gives 1 + 100 = 101).

Adaptive Proportion Test (SP 800-90B section 4.4.2):
    W = 1024 if bits_per_sample == 1 else 512
    C = min { c : P[Binomial(W, p) >= c] <= alpha },  p = 2^-H
  i.e. 1 + CRITBINOM(W, 2^-H, 1 - alpha) in Excel notation, which is how the
  standard's Table 2 is defined. The binomial tail is computed with mpmath at
  PRIMARY_DPS significant digits and independently at CHECK_DPS digits; the
  two must select the same cutoff. When H is an integer, p is rational and
  the decision is additionally re-done in exact Fraction arithmetic.

For every row the script prints to stderr the relative distance of the tail
at C and at C-1 from alpha, flagging rows within BORDERLINE_REL of alpha.

Self-checks (the script exits non-zero if any fails):
  * SP 800-90B Table 2 (alpha = 2^-20) is reproduced:
      binary, W = 1024: H = 0.2 -> 941, 0.4 -> 840, 0.6 -> 748, 0.8 -> 664,
                        1 -> 589
      non-binary, W = 512: H = 0.5 -> 410, 1 -> 311, 2 -> 177, 4 -> 62, 8 -> 13
  * the section 4.4.1 worked example: alpha = 2^-20, H = 2 -> RCT C = 11.

Usage:
    python3 tools/health_cutoffs.py           # (re)write the .rsp file
    python3 tools/health_cutoffs.py --check   # recompute, compare, exit 1 on mismatch
    python3 tools/health_cutoffs.py --stdout  # print the file instead of writing it

Standard library + mpmath only; output is deterministic (no timestamps other
than the fixed provenance date below).
"""

from __future__ import annotations

import argparse
import math
import sys
from fractions import Fraction
from pathlib import Path

import mpmath

PROVENANCE_DATE = "2026-11-27"
SCRIPT_PATH = "tools/health_cutoffs.py"
OUTPUT_RELPATH = "testvectors/health/cutoffs.rsp"

PRIMARY_DPS = 80
CHECK_DPS = 120
BORDERLINE_REL = Fraction(1, 10**6)

ALPHA_EXPONENTS = (20, 30, 40)
BINARY_H = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "1")
NONBINARY_BITS = 8
NONBINARY_H = ("0.5", "1", "2", "3", "4", "5", "6", "7", "7.5", "8")

# SP 800-90B Table 2 (alpha = 2^-20): {(bits_per_sample, H): APT cutoff}.
TABLE2 = {
    (1, "0.2"): 941,
    (1, "0.4"): 840,
    (1, "0.6"): 748,
    (1, "0.8"): 664,
    (1, "1"): 589,
    (NONBINARY_BITS, "0.5"): 410,
    (NONBINARY_BITS, "1"): 311,
    (NONBINARY_BITS, "2"): 177,
    (NONBINARY_BITS, "4"): 62,
    (NONBINARY_BITS, "8"): 13,
}
# Section 4.4.1 worked example: (alpha exponent, H) -> RCT cutoff.
RCT_EXAMPLES = {(20, "2"): 11}


class SelfCheckError(RuntimeError):
    pass


def parse_entropy(h: str) -> Fraction:
    value = Fraction(h)
    if value <= 0:
        raise ValueError(f"min-entropy must be positive, got {h!r}")
    return value


def apt_window(bits_per_sample: int) -> int:
    """SP 800-90B section 4.4.2: W = 1024 for binary sources, 512 otherwise."""
    return 1024 if bits_per_sample == 1 else 512


def rct_cutoff(alpha_exp: int, h: str) -> int:
    """C = 1 + ceil(a / H), exact (alpha = 2^-a)."""
    q = Fraction(alpha_exp) / parse_entropy(h)
    return 1 + math.ceil(q)  # math.ceil on a Fraction is exact


def _binomial_upper_tails(w: int, p, dps: int) -> list:
    """tails[c] = P[Binomial(w, p) >= c] for c = 0..w+1, as mpf at `dps` digits."""
    with mpmath.workdps(dps):
        p = mpmath.mpf(p)
        q = 1 - p
        pmf = [mpmath.mpf(math.comb(w, k)) * p**k * q ** (w - k) for k in range(w + 1)]
        tails = [mpmath.mpf(0)] * (w + 2)
        acc = mpmath.mpf(0)
        for k in range(w, -1, -1):  # sum smallest terms first
            acc += pmf[k]
            tails[k] = acc
        return tails


def _p_of(h: Fraction, dps: int):
    with mpmath.workdps(dps + 10):
        return mpmath.power(2, -(mpmath.mpf(h.numerator) / h.denominator))


def _smallest_cutoff(tails, alpha) -> int:
    # tails is non-increasing in c, tails[w+1] = 0 <= alpha, so this is defined.
    for c, t in enumerate(tails):
        if t <= alpha:
            return c
    raise AssertionError("unreachable: P[X >= W+1] = 0")


def _exact_cutoff_rational(w: int, p: Fraction, alpha: Fraction) -> tuple[int, Fraction, Fraction]:
    q = 1 - p
    pmf = [math.comb(w, k) * p**k * q ** (w - k) for k in range(w + 1)]
    tails = [Fraction(0)] * (w + 2)
    acc = Fraction(0)
    for k in range(w, -1, -1):
        acc += pmf[k]
        tails[k] = acc
    for c, t in enumerate(tails):
        if t <= alpha:
            return c, t, tails[c - 1] if c > 0 else Fraction(1)
    raise AssertionError("unreachable")


def apt_cutoff_reference_counted(alpha_exp: int, h: str, bits_per_sample: int) -> int:
    """Informational only (NOT written as apt_cutoff).

    The APT count B includes the reference sample, so under an IID model with
    P[A] = p it is distributed as 1 + Binomial(W-1, p); the smallest c with
    P[B >= c] <= alpha is then 1 + min{k : P[Binomial(W-1, p) >= k] <= alpha}.
    The standard's Table 2 uses Binomial(W, p) instead; this function exists
    so the report can show where the two models disagree.
    """
    hf = parse_entropy(h)
    w = apt_window(bits_per_sample)
    with mpmath.workdps(PRIMARY_DPS):
        alpha = mpmath.ldexp(mpmath.mpf(1), -alpha_exp)
        tails = _binomial_upper_tails(w - 1, _p_of(hf, PRIMARY_DPS), PRIMARY_DPS)
        return 1 + _smallest_cutoff(tails, alpha)


class AptResult:
    def __init__(self, cutoff, tail_at_c, tail_at_c_minus_1, exact_checked):
        self.cutoff = cutoff
        self.tail_at_c = tail_at_c  # mpf
        self.tail_at_c_minus_1 = tail_at_c_minus_1  # mpf
        self.exact_checked = exact_checked


def apt_cutoff(alpha_exp: int, h: str, bits_per_sample: int) -> AptResult:
    hf = parse_entropy(h)
    w = apt_window(bits_per_sample)
    results = {}
    for dps in (PRIMARY_DPS, CHECK_DPS):
        with mpmath.workdps(dps):
            alpha = mpmath.ldexp(mpmath.mpf(1), -alpha_exp)
            tails = _binomial_upper_tails(w, _p_of(hf, dps), dps)
            c = _smallest_cutoff(tails, alpha)
            results[dps] = (c, tails[c], tails[c - 1] if c > 0 else mpmath.mpf(1))
    c_primary = results[PRIMARY_DPS][0]
    c_check = results[CHECK_DPS][0]
    if c_primary != c_check:
        raise SelfCheckError(
            f"APT cutoff unstable under precision: a={alpha_exp} bits={bits_per_sample} "
            f"H={h}: {c_primary} at {PRIMARY_DPS} digits vs {c_check} at {CHECK_DPS}"
        )
    exact_checked = False
    if hf.denominator == 1:
        # p = 2^-H is rational: redo the decision with no rounding at all.
        p_exact = Fraction(1, 2 ** hf.numerator)
        c_exact, _, _ = _exact_cutoff_rational(w, p_exact, Fraction(1, 2**alpha_exp))
        if c_exact != c_primary:
            raise SelfCheckError(
                f"APT cutoff disagrees with exact rational computation: a={alpha_exp} "
                f"bits={bits_per_sample} H={h}: mpmath {c_primary} vs exact {c_exact}"
            )
        exact_checked = True
    _, t_c, t_cm1 = results[CHECK_DPS]
    return AptResult(c_primary, t_c, t_cm1, exact_checked)


def rows():
    """All (alpha_exp, bits_per_sample, H-string) rows, in output order."""
    for a in ALPHA_EXPONENTS:
        for h in BINARY_H:
            yield a, 1, h
        for h in NONBINARY_H:
            yield a, NONBINARY_BITS, h


def compute_all(report=sys.stderr):
    table = []
    borderline = []
    model_diffs = []
    for a, bits, h in rows():
        rct = rct_cutoff(a, h)
        apt = apt_cutoff(a, h, bits)
        w = apt_window(bits)
        alt = apt_cutoff_reference_counted(a, h, bits)
        if alt != apt.cutoff:
            model_diffs.append((a, bits, h, apt.cutoff, alt))
        with mpmath.workdps(CHECK_DPS):
            alpha = mpmath.ldexp(mpmath.mpf(1), -a)
            margin_c = (alpha - apt.tail_at_c) / alpha  # >= 0 by construction
            margin_cm1 = (apt.tail_at_c_minus_1 - alpha) / alpha  # > 0 by construction
            is_border = min(margin_c, margin_cm1) < mpmath.mpf(BORDERLINE_REL.numerator) / BORDERLINE_REL.denominator
            if report is not None:
                print(
                    f"a={a:2d} bits={bits} H={h:<4} W={w:4d} rct={rct:4d} apt={apt.cutoff:4d} | "
                    f"P[X>=C]={mpmath.nstr(apt.tail_at_c, 8)} (alpha-P)/alpha={mpmath.nstr(margin_c, 8)} | "
                    f"P[X>=C-1]={mpmath.nstr(apt.tail_at_c_minus_1, 8)} (P-alpha)/alpha={mpmath.nstr(margin_cm1, 8)}"
                    f"{' | exact-rational-checked' if apt.exact_checked else ''}"
                    f"{f' | 1+Bin(W-1) model: {alt}' if alt != apt.cutoff else ''}"
                    f"{' | BORDERLINE' if is_border else ''}",
                    file=report,
                )
        if is_border:
            borderline.append((a, bits, h))
        table.append(
            {
                "alpha_log2": -a,
                "bits_per_sample": bits,
                "min_entropy": h,
                "window": w,
                "rct_cutoff": rct,
                "apt_cutoff": apt.cutoff,
            }
        )
    if report is not None:
        if borderline:
            print(f"BORDERLINE rows (within {float(BORDERLINE_REL):g} relative of alpha): {borderline}", file=report)
        else:
            print(f"no borderline rows (all tails differ from alpha by >= {float(BORDERLINE_REL):g} relative)", file=report)
        print(
            f"informational: in {len(model_diffs)} of {len(table)} rows the 1 + Binomial(W-1, p) model "
            f"(B counts the reference sample) would give a cutoff one higher than Table 2's Binomial(W, p) "
            f"definition used here: {[(a, b, h) for a, b, h, _, _ in model_diffs]}",
            file=report,
        )
    return table


def self_check(table) -> None:
    by_key = {(r["alpha_log2"], r["bits_per_sample"], r["min_entropy"]): r for r in table}
    failures = []
    for (bits, h), expected in TABLE2.items():
        got = by_key[(-20, bits, h)]["apt_cutoff"]
        if got != expected:
            failures.append(f"Table 2: bits={bits} H={h} expected APT C={expected}, got {got}")
    for (a, h), expected in RCT_EXAMPLES.items():
        got = rct_cutoff(a, h)
        if got != expected:
            failures.append(f"4.4.1 example: a={a} H={h} expected RCT C={expected}, got {got}")
    # The brief's exactness example for the RCT.
    if rct_cutoff(30, "0.3") != 101:
        failures.append(f"RCT a=30 H=0.3 expected 101, got {rct_cutoff(30, '0.3')}")
    if failures:
        raise SelfCheckError("SELF-CHECK FAILED:\n  " + "\n  ".join(failures))


HEADER = f"""\
# NIST SP 800-90B section 4.4 health-test cutoffs
#
# Provenance: generated by {SCRIPT_PATH} (Python 3.11, stdlib + mpmath);
# regenerate with `python3 {SCRIPT_PATH}`, verify with
# `python3 {SCRIPT_PATH} --check`. Date: {PROVENANCE_DATE}.
#
# Repetition Count Test, SP 800-90B section 4.4.1:
#   rct_cutoff = 1 + ceil(-log2(alpha) / H)
#   alpha = 2^alpha_log2 exactly, H = min_entropy parsed as an exact decimal
#   (fractions.Fraction), so the ceiling is exact (e.g. a=30, H=0.3 -> 101).
#
# Adaptive Proportion Test, SP 800-90B section 4.4.2:
#   window = 1024 if bits_per_sample == 1 else 512
#   apt_cutoff = smallest integer c with P[Binomial(window, 2^-H) >= c] <= alpha
#              = 1 + CRITBINOM(window, 2^-H, 1 - alpha)   (Excel notation)
#   (This is the standard's own Table 2 definition and is what is written
#   here. Note: the count B includes the reference sample, so under an IID
#   model B ~ 1 + Binomial(W-1, p); that model would give a cutoff one higher
#   in some rows, e.g. binary H=1 alpha=2^-20 -> 590; the script reports those
#   rows on stderr, but they are not used.)
#   Binomial tails computed with mpmath at {PRIMARY_DPS} significant digits and
#   re-checked at {CHECK_DPS} digits (identical cutoffs required); rows with an
#   integer H were also re-checked in exact rational arithmetic.
#
# Self-checks performed by the script before writing (it fails otherwise):
#   SP 800-90B Table 2 (alpha = 2^-20) is reproduced exactly:
#     binary, window 1024:    H = 0.2 -> 941, 0.4 -> 840, 0.6 -> 748,
#                             0.8 -> 664, 1 -> 589
#     non-binary, window 512: H = 0.5 -> 410, 1 -> 311, 2 -> 177, 4 -> 62,
#                             8 -> 13
#   section 4.4.1 worked example: alpha = 2^-20, H = 2 -> rct_cutoff = 11.
#
# Format: '#' lines are comments; records are groups of 'key = value' lines
# separated by blank lines. Keys: alpha_log2 (alpha = 2^alpha_log2),
# bits_per_sample, min_entropy (H, bits per sample, decimal string),
# window (APT window size W), rct_cutoff, apt_cutoff.
# Rows: alpha_log2 in {{-20, -30, -40}} x (bits_per_sample = 1 with
# H in {{{", ".join(BINARY_H)}}}, and bits_per_sample = {NONBINARY_BITS} with
# H in {{{", ".join(NONBINARY_H)}}}).
"""

KEY_ORDER = ("alpha_log2", "bits_per_sample", "min_entropy", "window", "rct_cutoff", "apt_cutoff")


def render(table) -> str:
    parts = [HEADER]
    for r in table:
        parts.append("\n" + "".join(f"{k} = {r[k]}\n" for k in KEY_ORDER))
    return "".join(parts)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="recompute and compare with the committed file")
    ap.add_argument("--stdout", action="store_true", help="write the file contents to stdout instead")
    ap.add_argument("--quiet", action="store_true", help="do not print the per-row margin report")
    ap.add_argument("--output", type=Path, default=None, help=f"output path (default: <repo>/{OUTPUT_RELPATH})")
    args = ap.parse_args(argv)

    out = args.output or (repo_root() / OUTPUT_RELPATH)
    try:
        table = compute_all(report=None if args.quiet else sys.stderr)
        self_check(table)
    except SelfCheckError as e:
        print(str(e), file=sys.stderr)
        return 2
    text = render(table)
    print("self-check OK: SP 800-90B Table 2 and the 4.4.1 example reproduced", file=sys.stderr)

    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            existing = out.read_text(encoding="utf-8")
        except FileNotFoundError:
            print(f"CHECK FAILED: {out} does not exist", file=sys.stderr)
            return 1
        if existing != text:
            print(f"CHECK FAILED: {out} differs from the recomputed contents", file=sys.stderr)
            return 1
        print(f"check OK: {out} matches", file=sys.stderr)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {out} ({len(table)} records)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
