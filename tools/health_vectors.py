#!/usr/bin/env python3
"""Induced-failure and no-failure vectors for the SP 800-90B section 4.4
Repetition Count Test (RCT) and Adaptive Proportion Test (APT).

Writes eight files into testvectors/health/ (relative to the repository root):
    rct_binary_fail.rsp  rct_binary_pass.rsp
    rct_8bit_fail.rsp    rct_8bit_pass.rsp
    apt_binary_fail.rsp  apt_binary_pass.rsp
    apt_8bit_fail.rsp    apt_8bit_pass.rsp

Test semantics (what the Swift implementation must do, and what this script
simulates independently before writing anything):

  RCT: the first sample sets A, B = 1. For each later sample: if it equals A,
       B += 1 and if B >= C the test FAILS at this sample; otherwise A = sample,
       B = 1. The failure offset is the 0-based index of the sample at which B
       reaches C.
  APT: samples are split into consecutive non-overlapping windows of W samples
       starting at index 0. The first sample of a window is A, B = 1; for each
       of the next W-1 samples of the window, if it equals A then B += 1, and if
       B >= C the test FAILS at that sample (failure offset = its 0-based
       index). The reference sample itself is counted.

Only the first failure matters. For extra strictness every vector is built so
that the *other* test never fires anywhere in the stream, so failure_offset is
the first failure of the stream as a whole. Each vector is also checked to be
tight (a failing vector passes with cutoff + 1, a pass vector fails with
cutoff - 1), and the script asserts that a set of deliberately wrong
implementations (MUTANTS below) are caught by the vectors as claimed in the
file headers.

Cutoffs come from tools/health_cutoffs.py (same formulas as cutoffs.rsp).
Deterministic: all filler comes from random.Random(SEED).

Usage:
    python3 tools/health_vectors.py           # (re)write the files
    python3 tools/health_vectors.py --check   # regenerate in memory, compare, exit 1 on mismatch
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import health_cutoffs as hc  # noqa: E402

PROVENANCE_DATE = hc.PROVENANCE_DATE  # 2026-11-27
SCRIPT_PATH = "tools/health_vectors.py"
OUTPUT_RELDIR = "testvectors/health"
SEED = 0x90B_4_4  # fixed seed for all filler; each case derives its own Random


class VectorError(RuntimeError):
    pass


def require(cond: bool, msg: str) -> None:
    # Not `assert`: must also hold under `python3 -O`.
    if not cond:
        raise VectorError(msg)


# --------------------------------------------------------------------------
# Independent reference simulation of the two tests (deliberately literal).
# --------------------------------------------------------------------------


def rct_first_failure(samples: list[int], cutoff: int) -> int | None:
    if not samples:
        return None
    a = samples[0]
    b = 1
    for i in range(1, len(samples)):
        x = samples[i]
        if x == a:
            b += 1
            if b >= cutoff:
                return i
        else:
            a = x
            b = 1
    return None


def apt_first_failure(samples: list[int], window: int, cutoff: int) -> int | None:
    for start in range(0, len(samples), window):
        a = samples[start]
        b = 1
        for i in range(start + 1, min(start + window, len(samples))):
            if samples[i] == a:
                b += 1
                if b >= cutoff:
                    return i
    return None


# Deliberately wrong implementations ("mutants"). Each must disagree with the
# expected result of the vectors listed for it; the file headers cite these.


def _rct_mutant(samples, cutoff, *, b_start=1, no_reset=False, reset_every=None):
    a, b = samples[0], b_start
    for i in range(1, len(samples)):
        if reset_every and i % reset_every == 0:
            a, b = samples[i], b_start
            continue
        if samples[i] == a:
            b += 1
            if b >= cutoff:
                return i
        else:
            a = samples[i]
            if not no_reset:
                b = b_start
    return None


def _apt_mutant(samples, window, cutoff, *, b_start=1, reset_b=True, sticky_a=False, eval_at_end=False):
    a_global = samples[0]
    b = 0
    for start in range(0, len(samples), window):
        a = a_global if sticky_a else samples[start]
        if reset_b:
            b = 0
        b += b_start if samples[start] == a else 0
        end = min(start + window, len(samples))
        for i in range(start + 1, end):
            if samples[i] == a:
                b += 1
                if b >= cutoff and not eval_at_end:
                    return i
        if eval_at_end and b >= cutoff:
            return end - 1
    return None


# name -> (function(samples, rct_c, apt_c, window) -> (test, offset) outcome, vectors it must be caught by)
MUTANTS = {
    "rct: B starts at 0 (off by one)": (
        lambda s, rc, ac, w: _rct_mutant(s, rc, b_start=0), "rct", ["rct_binary_fail", "rct_8bit_fail"]),
    "rct: state reset at APT window boundaries": (
        lambda s, rc, ac, w: _rct_mutant(s, rc, reset_every=w), "rct", ["rct_binary_fail", "rct_8bit_fail"]),
    "rct: B not restarted on a change of value": (
        lambda s, rc, ac, w: _rct_mutant(s, rc, no_reset=True), "rct", ["rct_binary_pass", "rct_8bit_pass"]),
    "apt: reference sample not counted": (
        lambda s, rc, ac, w: _apt_mutant(s, w, ac, b_start=0), "apt", ["apt_binary_fail", "apt_8bit_fail"]),
    "apt: reference sample counted twice": (
        lambda s, rc, ac, w: _apt_mutant(s, w, ac, b_start=2), "apt", ["apt_binary_pass", "apt_8bit_pass"]),
    "apt: B not reset per window": (
        lambda s, rc, ac, w: _apt_mutant(s, w, ac, reset_b=False), "apt", ["apt_binary_pass", "apt_8bit_pass"]),
    "apt: reference taken once, not per window": (
        lambda s, rc, ac, w: _apt_mutant(s, w, ac, sticky_a=True), "apt", ["apt_binary_fail", "apt_8bit_fail"]),
    "apt: cutoff checked only at window end": (
        lambda s, rc, ac, w: _apt_mutant(s, w, ac, eval_at_end=True), "apt", ["apt_binary_fail", "apt_8bit_fail"]),
}


def mutants_caught_by(case) -> list[str]:
    caught = []
    correct = case.failure_offset  # None for pass vectors
    for name, (fn, test, vectors) in MUTANTS.items():
        if case.name not in vectors:
            continue
        got = fn(case.samples, case.rct_cutoff, case.apt_cutoff, case.window)
        require(got != correct, f"{case.name}: mutant '{name}' not caught (gives {got})")
        caught.append(f"{name} -> " + ("no failure" if got is None else f"{test} failure at {got}"))
    return caught


def max_run(samples: list[int]) -> int:
    best = run = 0
    prev = None
    for x in samples:
        run = run + 1 if x == prev else 1
        prev = x
        best = max(best, run)
    return best


def runs_of_length(samples: list[int], length: int) -> list[int]:
    """Start indices of maximal runs of exactly `length`."""
    out = []
    i = 0
    n = len(samples)
    while i < n:
        j = i
        while j + 1 < n and samples[j + 1] == samples[i]:
            j += 1
        if j - i + 1 == length:
            out.append(i)
        i = j + 1
    return out


def window_reference_counts(samples: list[int], window: int) -> list[tuple[int, int, int]]:
    """(window start, reference value, count of reference incl. itself) per window."""
    out = []
    for start in range(0, len(samples), window):
        w = samples[start : start + window]
        out.append((start, w[0], w.count(w[0])))
    return out


# --------------------------------------------------------------------------
# Encoding.
# --------------------------------------------------------------------------


def pack_bits_hex(bits: list[int]) -> str:
    """MSB-first: sample 0 is 0x80 of byte 0; zero-padded to a whole byte."""
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        require(bit in (0, 1), "binary sample out of range")
        if bit:
            out[i // 8] |= 0x80 >> (i % 8)
    return out.hex()


def unpack_bits_hex(hex_str: str, count: int) -> list[int]:
    data = bytes.fromhex(hex_str)
    return [(data[i // 8] >> (7 - i % 8)) & 1 for i in range(count)]


def encode_samples(samples: list[int], bits_per_sample: int) -> str:
    if bits_per_sample == 1:
        text = pack_bits_hex(samples)
        require(unpack_bits_hex(text, len(samples)) == samples, "bit packing round-trip failed")
        # Padding bits must be zero.
        total_bits = len(text) * 4
        require(all(b == 0 for b in unpack_bits_hex(text, total_bits)[len(samples):]), "nonzero pad bits")
        return text
    require(bits_per_sample == 8, "only 1- and 8-bit samples supported")
    require(all(0 <= x <= 255 for x in samples), "8-bit sample out of range")
    return bytes(samples).hex()


# --------------------------------------------------------------------------
# Filler with provable properties.
# --------------------------------------------------------------------------

BALANCED_BYTES = [b for b in range(256) if bin(b).count("1") == 4]  # 70 bytes


def balanced_bit_filler(rng: random.Random, nbits: int) -> list[int]:
    """Bits of random bytes that each contain exactly four 1s (MSB first).

    Max run <= 8 (a run can span at most the tail of one byte (<= 4 equal
    bits) and the head of the next (<= 4)). Any 1024 consecutive filler bits
    hold at most 127 whole bytes plus 8 bits of partial bytes, so either value
    occurs at most 127*4 + 8 = 516 times in them.
    """
    out: list[int] = []
    while len(out) < nbits:
        byte = rng.choice(BALANCED_BYTES)
        out.extend((byte >> (7 - j)) & 1 for j in range(8))
    return out[:nbits]


def permutation_byte_filler(rng: random.Random, n: int) -> list[int]:
    """Concatenated random permutations of 0..255, no two adjacent equal.

    Max run = 1. Any 512 consecutive filler bytes touch at most 3 permutation
    blocks, so any value occurs at most 3 times in them.
    """
    out: list[int] = []
    while len(out) < n:
        perm = list(range(256))
        rng.shuffle(perm)
        while out and perm[0] == out[-1]:
            rng.shuffle(perm)
        out.extend(perm)
    return out[:n]


def insert_blocks(filler: list[int], inserts: list[tuple[int, list[int]]]) -> tuple[list[int], list[int]]:
    """Insert blocks at filler positions (ascending). Returns (samples, final start indices)."""
    samples: list[int] = []
    starts = []
    prev = 0
    for pos, block in inserts:
        require(pos >= prev, "insert positions must ascend")
        samples.extend(filler[prev:pos])
        starts.append(len(samples))
        samples.extend(block)
        prev = pos
    samples.extend(filler[prev:])
    return samples, starts


def binary_insert_point(filler: list[int], target: int, lo: int, hi: int) -> tuple[int, int]:
    """A filler position p in [lo, hi] nearest `target` where a run of value v
    can be inserted without touching an equal neighbour; returns (p, v)."""
    for d in range(0, hi - lo + 1):
        for p in (target - d, target + d):
            if not lo <= p <= hi:
                continue
            if p == 0:
                return p, 1 - filler[0]
            if p == len(filler):
                return p, 1 - filler[-1]
            if filler[p - 1] == filler[p]:
                return p, 1 - filler[p]
    raise VectorError(f"no binary insertion point in [{lo}, {hi}]")


def byte_value_avoiding(rng: random.Random, avoid: set[int]) -> int:
    while True:
        v = rng.randrange(256)
        if v not in avoid:
            return v


def neighbours(filler: list[int], p: int) -> set[int]:
    s = set()
    if p > 0:
        s.add(filler[p - 1])
    if p < len(filler):
        s.add(filler[p])
    return s


# --------------------------------------------------------------------------
# Random compositions (for the APT windows).
# --------------------------------------------------------------------------


def compose(rng: random.Random, total: int, caps: list[int], fixed: dict[int, int] | None = None) -> list[int]:
    """Random parts >= 1, part i <= caps[i], summing to total; `fixed` pins parts."""
    fixed = fixed or {}
    parts = [fixed.get(i, 1) for i in range(len(caps))]
    for i, v in fixed.items():
        require(1 <= v <= caps[i], "fixed part out of range")
    remaining = total - sum(parts)
    free = [i for i in range(len(caps)) if i not in fixed]
    require(0 <= remaining <= sum(caps[i] - parts[i] for i in free), f"composition of {total} infeasible")
    for _ in range(remaining):
        open_parts = [i for i in free if parts[i] < caps[i]]
        parts[rng.choice(open_parts)] += 1
    return parts


def binary_apt_window(rng: random.Random, ref: int, n_ref: int, window: int, max_interior: int,
                      max_edge: int, forced_max_runs: int) -> list[int]:
    """One window starting with `ref`, holding `ref` exactly n_ref times.

    Alternating runs ref, other, ref, other, ... (starts with ref, ends with
    the other value). Interior runs <= max_interior; the window's first and
    last runs <= max_edge so that a run merging across a window boundary is
    at most 2*max_edge long. `forced_max_runs` interior ref-runs are pinned at
    max_interior length (runs one short of the RCT cutoff).
    """
    n_other = window - n_ref
    k = rng.randint(40, 60)  # number of runs of each value
    ref_caps = [max_edge] + [max_interior] * (k - 1)
    oth_caps = [max_interior] * (k - 1) + [max_edge]
    pinned = {i: max_interior for i in rng.sample(range(1, k), forced_max_runs)}
    ref_runs = compose(rng, n_ref, ref_caps, pinned)
    oth_runs = compose(rng, n_other, oth_caps)
    out: list[int] = []
    for r_len, o_len in zip(ref_runs, oth_runs):
        out.extend([ref] * r_len)
        out.extend([1 - ref] * o_len)
    require(len(out) == window and out[0] == ref and out.count(ref) == n_ref, "binary window construction")
    return out


def byte_apt_window(rng: random.Random, ref: int, n_ref: int, window: int, max_run_len: int,
                    pool: list[int], prev_value: int | None) -> list[int]:
    """One 8-bit window starting with `ref`, holding `ref` exactly n_ref times.

    All ref occurrences are packed into runs (1..max_run_len, several pinned at
    max_run_len) separated by short gaps near the start of the window, so the
    n_ref-th occurrence falls mid-window; the rest is tail filler. Filler
    values come from `pool` (which excludes every reference value used in the
    vector) with no two adjacent equal, so filler runs are 1 long.
    """
    k = 20
    pinned = {i: max_run_len for i in rng.sample(range(k), 3)}
    runs = compose(rng, n_ref, [max_run_len] * k, pinned)
    gaps = [rng.randint(1, 8) for _ in range(k - 1)]
    body_len = sum(runs) + sum(gaps)
    tail = window - body_len
    require(tail >= 1, "byte window too small")
    out: list[int] = []
    last = prev_value

    def filler(count: int) -> None:
        nonlocal last
        for _ in range(count):
            v = rng.choice(pool)
            while v == last:
                v = rng.choice(pool)
            out.append(v)
            last = v

    for i, r_len in enumerate(runs):
        out.extend([ref] * r_len)
        last = ref
        if i < k - 1:
            filler(gaps[i])
    filler(tail)
    require(len(out) == window and out[0] == ref and out.count(ref) == n_ref, "byte window construction")
    return out


# --------------------------------------------------------------------------
# Cases.
# --------------------------------------------------------------------------


class Case:
    def __init__(self, name, bits, alpha_exp, h, samples, expected, failure_offset, description):
        self.name = name
        self.bits = bits
        self.alpha_exp = alpha_exp
        self.h = h
        self.samples = samples
        self.expected = expected
        self.failure_offset = failure_offset
        self.description = description  # list of comment lines (without '# ')
        self.rct_cutoff = hc.rct_cutoff(alpha_exp, h)
        self.apt_cutoff = hc.apt_cutoff(alpha_exp, h, bits).cutoff
        self.window = hc.apt_window(bits)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def case_rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def build_rct_binary(fail: bool) -> Case:
    name = "rct_binary_fail" if fail else "rct_binary_pass"
    rng = case_rng(name)
    c_rct = hc.rct_cutoff(20, "1")
    require(c_rct == 21, "expected RCT C=21 for a=20, H=1")
    total = 4096 + c_rct  # 4096 filler samples + the inserted run of 21
    if fail:
        filler = balanced_bit_filler(rng, 4096)
        # Start the run so that it straddles the first APT window boundary
        # (index 1024): the RCT is not windowed and must not reset there.
        p, v = binary_insert_point(filler, 1014, 1004, 1023)
        samples, starts = insert_blocks(filler, [(p, [v] * c_rct)])
        s = starts[0]
        offset = s + c_rct - 1
        desc = [
            f"Filler: 4096 bits = 512 bytes drawn uniformly from the 70 bytes with",
            f"exactly four 1 bits (random.Random seeded from SEED), MSB first. Hence",
            f"filler runs are <= 8 long and any 1024 consecutive filler bits hold",
            f"either value at most 516 times: neither test can fire on the filler.",
            f"Inserted: a run of exactly {c_rct} samples of value {v} at indices",
            f"{s}..{s + c_rct - 1} (both neighbours are {1 - v}), straddling the APT window",
            f"boundary at 1024 (the RCT is continuous and must not reset there).",
            f"Why it fails: B counts the run from 1 at index {s} and reaches",
            f"C = {c_rct} at index {s} + {c_rct - 1} = {offset}, the failure offset.",
            f"sample_count = 4096 + {c_rct} = {total}, not a multiple of 8, so the hex",
            f"carries {(-total) % 8} zero pad bits at the end.",
        ]
    else:
        n_runs = 6
        filler = balanced_bit_filler(rng, total - n_runs * (c_rct - 1) - 1)
        inserts = []
        p0, v0 = binary_insert_point(filler, 0, 0, 0)
        inserts.append((p0, [v0] * (c_rct - 1)))
        # final index of 2nd block = p + 20 (one block inserted before it)
        p1, v1 = binary_insert_point(filler, 1014 - 20, 1004 - 20, 1023 - 20)
        inserts.append((p1, [v1] * (c_rct - 1)))
        p2, v2 = binary_insert_point(filler, 1900, 1800, 2000)
        inserts.append((p2, [v2] * (c_rct - 1)))
        # A pair: 20 x v, one sample of 1-v, 20 x v (B must reset to 1 on change).
        p3, v3 = binary_insert_point(filler, 2900, 2800, 3000)
        inserts.append((p3, [v3] * (c_rct - 1) + [1 - v3] + [v3] * (c_rct - 1)))
        p4, v4 = binary_insert_point(filler, len(filler), len(filler), len(filler))
        inserts.append((p4, [v4] * (c_rct - 1)))
        samples, starts = insert_blocks(filler, inserts)
        offset = None
        run_starts = runs_of_length(samples, c_rct - 1)
        desc = [
            f"Filler: {len(filler)} bits from random bytes with exactly four 1 bits",
            f"(random.Random seeded from SEED), MSB first: filler runs <= 8, and any",
            f"1024 consecutive filler bits hold either value at most 516 times.",
            f"Inserted: {n_runs} runs of exactly {c_rct - 1} = C-1 identical samples, each",
            f"bordered by the opposite value, starting at indices {run_starts}:",
            f"one at index 0 (A is set by the first sample with B = 1), one straddling",
            f"the APT window boundary at 1024, one mid-stream, a pair separated by a",
            f"single opposite sample (the count must restart on a change), and the",
            f"last {c_rct - 1} samples of the stream.",
            f"Why it passes: B never exceeds {c_rct - 1} < C = {c_rct}; per-window APT",
            f"counts stay <= 516 + 2*20 < {hc.apt_cutoff(20, '1', 1).cutoff}.",
            f"sample_count = {total} (same as rct_binary_fail), {(-total) % 8} zero pad bits.",
        ]
        require(len(run_starts) == n_runs, f"expected {n_runs} runs of {c_rct - 1}, found {run_starts}")
    require(len(samples) == total, "rct binary length")
    return Case(name, 1, 20, "1", samples, "rct_fail" if fail else "pass", offset, desc)


def build_rct_8bit(fail: bool) -> Case:
    name = "rct_8bit_fail" if fail else "rct_8bit_pass"
    rng = case_rng(name)
    c_rct = hc.rct_cutoff(20, "2")
    require(c_rct == 11, "expected RCT C=11 for a=20, H=2 (SP 800-90B 4.4.1 example)")
    total = 4096 + c_rct
    if fail:
        filler = permutation_byte_filler(rng, 4096)
        p = 506  # run 506..516 straddles the APT window boundary at 512
        v = byte_value_avoiding(rng, neighbours(filler, p))
        samples, starts = insert_blocks(filler, [(p, [v] * c_rct)])
        s = starts[0]
        offset = s + c_rct - 1
        desc = [
            f"Filler: 4096 bytes = 16 concatenated random permutations of 0x00..0xff",
            f"(random.Random seeded from SEED; no two adjacent bytes equal, also at",
            f"permutation joins). Hence filler runs are 1 long and any 512",
            f"consecutive filler bytes contain any value at most 3 times.",
            f"Inserted: a run of exactly {c_rct} samples of 0x{v:02x} at indices",
            f"{s}..{s + c_rct - 1} (neighbours differ), straddling the APT window",
            f"boundary at 512 (the RCT is continuous and must not reset there).",
            f"Why it fails: B reaches C = {c_rct} at index {s} + {c_rct - 1} = {offset}.",
            f"APT cannot fire: at most 3 + {c_rct} occurrences of any value per window,",
            f"far below {hc.apt_cutoff(20, '2', 8).cutoff}.",
        ]
    else:
        n_runs = 6
        L = c_rct - 1
        filler = permutation_byte_filler(rng, total - n_runs * L - 1)
        inserts = []
        for target, pair in ((0, False), (506 - L, False), (1900, False), (2900, True), (len(filler), False)):
            p = target
            v = byte_value_avoiding(rng, neighbours(filler, p))
            if pair:
                sep = byte_value_avoiding(rng, {v})
                inserts.append((p, [v] * L + [sep] + [v] * L))
            else:
                inserts.append((p, [v] * L))
        samples, starts = insert_blocks(filler, inserts)
        offset = None
        run_starts = runs_of_length(samples, L)
        require(len(run_starts) == n_runs, f"expected {n_runs} runs of {L}, found {run_starts}")
        desc = [
            f"Filler: {len(filler)} bytes of concatenated random permutations of",
            f"0x00..0xff (random.Random seeded from SEED; no two adjacent equal):",
            f"filler runs are 1 long, any value <= 3 times per 512 filler bytes.",
            f"Inserted: {n_runs} runs of exactly {L} = C-1 identical bytes, each",
            f"bordered by different bytes, starting at indices {run_starts}:",
            f"one at index 0, one straddling the APT window boundary at 512, one",
            f"mid-stream, a pair of runs of the same value separated by one different",
            f"byte (the count must restart on a change), and the last {L}",
            f"samples of the stream.",
            f"Why it passes: B never exceeds {L} < C = {c_rct}; APT counts per window are",
            f"at most 3 + 2*{L} + 1, far below {hc.apt_cutoff(20, '2', 8).cutoff}.",
            f"sample_count = {total} (same as rct_8bit_fail).",
        ]
    require(len(samples) == total, "rct 8bit length")
    return Case(name, 8, 20, "2", samples, "rct_fail" if fail else "pass", offset, desc)


def build_apt_binary(fail: bool) -> Case:
    name = "apt_binary_fail" if fail else "apt_binary_pass"
    rng = case_rng(name)
    c_apt = hc.apt_cutoff(20, "1", 1).cutoff
    c_rct = hc.rct_cutoff(20, "1")
    w = hc.apt_window(1)
    require((c_apt, c_rct, w) == (589, 21, 1024), "expected APT C=589, W=1024, RCT C=21")
    if fail:
        plan = [(0, c_apt - 1), (1, c_apt), (0, c_apt - 1)]  # (reference value, count)
    else:
        plan = [(0, c_apt - 1), (0, c_apt - 1), (1, c_apt - 1)]
    samples: list[int] = []
    for ref, n in plan:
        samples.extend(binary_apt_window(rng, ref, n, w, max_interior=c_rct - 1,
                                         max_edge=(c_rct - 1) // 2, forced_max_runs=2))
    offset = None
    if fail:
        # index of the c_apt-th occurrence of the reference in window 1
        start = w
        seen = 0
        for i in range(start, start + w):
            if samples[i] == samples[start]:
                seen += 1
                if seen == c_apt:
                    offset = i
                    break
    counts = window_reference_counts(samples, w)
    count_txt = [f"  window {j} (indices {s}..{s + w - 1}): reference {v} occurs {n} times"
                 for j, (s, v, n) in enumerate(counts)]
    desc = [
        f"Three APT windows of W = {w} bits ({3 * w} samples). Each window is built",
        f"from alternating runs that start with the window's reference value and",
        f"end with the other value, with run lengths a random composition",
        f"(random.Random seeded from SEED), interior runs <= {c_rct - 1} = RCT C-1",
        f"(two reference runs per window pinned at exactly {c_rct - 1}), and each",
        f"window's first and last run <= {(c_rct - 1) // 2}, so a run merging across a",
        f"window boundary is at most {c_rct - 1} long: the RCT (C = {c_rct}) never fires.",
        "Reference counts (counting the reference sample itself):",
        *count_txt,
    ]
    if fail:
        desc += [
            f"Why it fails: window 1 (indices {w}..{2 * w - 1}) has reference value 1,",
            f"which occurs exactly {c_apt} = C times; B reaches C at the {ordinal(c_apt)}",
            f"occurrence, index {offset}, the failure offset. Windows 0 and 2 hold",
            f"their reference C-1 = {c_apt - 1} times and cannot fail. Window 1's",
            f"reference differs from window 0's (catches a reference taken only once).",
        ]
    else:
        desc += [
            f"Why it passes: every window holds its reference exactly C-1 = {c_apt - 1}",
            f"times, so B peaks at {c_apt - 1} < C = {c_apt}. Windows 0 and 1 share the",
            f"reference value 0 (catches a count not reset per window).",
        ]
    return Case(name, 1, 20, "1", samples, "apt_fail" if fail else "pass", offset, desc)


def build_apt_8bit(fail: bool) -> Case:
    name = "apt_8bit_fail" if fail else "apt_8bit_pass"
    rng = case_rng(name)
    c_apt = hc.apt_cutoff(20, "4", 8).cutoff
    c_rct = hc.rct_cutoff(20, "4")
    w = hc.apt_window(8)
    require((c_apt, c_rct, w) == (62, 6, 512), "expected APT C=62, W=512, RCT C=6")
    ref_a, ref_b = 0xA5, 0x3C
    pool = [v for v in range(256) if v not in (ref_a, ref_b)]
    if fail:
        plan = [(ref_a, c_apt - 1), (ref_b, c_apt), (ref_a, c_apt - 1)]
    else:
        plan = [(ref_a, c_apt - 1), (ref_a, c_apt - 1), (ref_b, c_apt - 1)]
    samples: list[int] = []
    for ref, n in plan:
        samples.extend(byte_apt_window(rng, ref, n, w, c_rct - 1, pool, samples[-1] if samples else None))
    offset = None
    if fail:
        seen = 0
        for i in range(w, 2 * w):
            if samples[i] == samples[w]:
                seen += 1
                if seen == c_apt:
                    offset = i
                    break
    counts = window_reference_counts(samples, w)
    count_txt = [f"  window {j} (indices {s}..{s + w - 1}): reference 0x{v:02x} occurs {n} times"
                 for j, (s, v, n) in enumerate(counts)]
    desc = [
        f"Three APT windows of W = {w} bytes ({3 * w} samples). Each window starts",
        f"with its reference byte; all occurrences of the reference are packed",
        f"into 20 runs of 1..{c_rct - 1} bytes (three pinned at {c_rct - 1} = RCT C-1)",
        f"separated by gaps of 1..8 filler bytes near the start of the window,",
        f"followed by filler to the end of the window. Filler bytes are drawn",
        f"(random.Random seeded from SEED) from the 254 values other than 0xa5",
        f"and 0x3c, with no two adjacent equal, so no run anywhere reaches the",
        f"RCT cutoff C = {c_rct} (H = 4).",
        "Reference counts (counting the reference sample itself):",
        *count_txt,
    ]
    if fail:
        desc += [
            f"Why it fails: window 1 (indices {w}..{2 * w - 1}) has reference 0x{ref_b:02x},",
            f"which occurs exactly {c_apt} = C times; B reaches C at the {ordinal(c_apt)}",
            f"occurrence, index {offset} (mid-window, so checking the count only at",
            f"the end of a window gives a wrong offset). Windows 0 and 2 hold their",
            f"reference C-1 = {c_apt - 1} times and cannot fail; window 1's reference",
            f"differs from window 0's (catches a reference taken only once).",
        ]
    else:
        desc += [
            f"Why it passes: every window holds its reference exactly C-1 = {c_apt - 1}",
            f"times, so B peaks at {c_apt - 1} < C = {c_apt}. Windows 0 and 1 share the",
            f"reference 0xa5 (catches a count not reset per window).",
        ]
    return Case(name, 8, 20, "4", samples, "apt_fail" if fail else "pass", offset, desc)


# --------------------------------------------------------------------------
# Verification and rendering.
# --------------------------------------------------------------------------


def verify(case: Case) -> dict:
    s = case.samples
    rct = rct_first_failure(s, case.rct_cutoff)
    apt = apt_first_failure(s, case.window, case.apt_cutoff)
    if case.expected == "pass":
        require(rct is None and apt is None, f"{case.name}: expected pass, got rct={rct} apt={apt}")
        require(case.failure_offset is None, f"{case.name}: pass vector with an offset")
    elif case.expected == "rct_fail":
        require(rct == case.failure_offset, f"{case.name}: RCT failed at {rct}, expected {case.failure_offset}")
        require(apt is None, f"{case.name}: APT fired at {apt} in an RCT vector")
    elif case.expected == "apt_fail":
        require(apt == case.failure_offset, f"{case.name}: APT failed at {apt}, expected {case.failure_offset}")
        require(rct is None, f"{case.name}: RCT fired at {rct} in an APT vector")
    else:
        raise VectorError(f"unknown expectation {case.expected}")
    # Sanity: the failing test must NOT fire with cutoff + 1 (i.e. the vector is
    # exactly at the boundary), and pass vectors must fire with cutoff - 1.
    if case.expected == "rct_fail":
        require(rct_first_failure(s, case.rct_cutoff + 1) is None, f"{case.name}: not tight")
    if case.expected == "apt_fail":
        require(apt_first_failure(s, case.window, case.apt_cutoff + 1) is None, f"{case.name}: not tight")
    if case.expected == "pass":
        tight_rct = case.name.startswith("rct_")
        if tight_rct:
            require(rct_first_failure(s, case.rct_cutoff - 1) is not None, f"{case.name}: not tight")
        else:
            require(apt_first_failure(s, case.window, case.apt_cutoff - 1) is not None, f"{case.name}: not tight")
    return {
        "mutants": mutants_caught_by(case),
        "max_run": max_run(s),
        "max_window_ref_count": max(n for _, _, n in window_reference_counts(s, case.window)),
        "rct_first": rct,
        "apt_first": apt,
    }


def render(case: Case, stats: dict) -> str:
    title = {
        "rct_fail": "Repetition Count Test: induced failure",
        "apt_fail": "Adaptive Proportion Test: induced failure",
        "pass": "no-failure control",
    }[case.expected]
    kind = "binary (1 bit/sample)" if case.bits == 1 else "8-bit"
    lines = [
        f"SP 800-90B section 4.4 health-test vector: {case.name}",
        f"{title}, {kind} samples.",
        "",
        f"Provenance: generated by {SCRIPT_PATH} (Python 3.11, stdlib + mpmath),",
        f"seed SEED = {SEED:#x} (per-case random.Random(f\"{{SEED}}:{case.name}\")),",
        f"date {PROVENANCE_DATE}. Regenerate: `python3 {SCRIPT_PATH}`; verify:",
        f"`python3 {SCRIPT_PATH} --check`. The script simulates both tests",
        f"independently and asserts the expected result before writing.",
        "",
        f"Parameters: alpha = 2^{-case.alpha_exp}, H = {case.h}, bits_per_sample = {case.bits};",
        f"rct_cutoff = 1 + ceil({case.alpha_exp} / {case.h}) = {case.rct_cutoff} (section 4.4.1);",
        f"apt_cutoff = {case.apt_cutoff}, window = {case.window} (section 4.4.2, as in cutoffs.rsp).",
        "",
        "Semantics: RCT - first sample sets A, B = 1; each later sample equal to A",
        "does B += 1 and fails when B >= rct_cutoff, any other sample sets A to it",
        "and B = 1. APT - non-overlapping windows of `window` samples from index 0;",
        "the window's first sample is A with B = 1 (the reference counts); each of",
        "the next window-1 samples equal to A does B += 1 and fails when",
        "B >= apt_cutoff. failure_offset = 0-based index of the first failing",
        "sample; only the first failure matters.",
        "",
        "How it was built:",
        *["  " + d for d in case.description],
        "",
        f"Checked by simulation: max run = {stats['max_run']}, max per-window reference",
        f"count = {stats['max_window_ref_count']}, first RCT failure = {stats['rct_first']},",
        f"first APT failure = {stats['apt_first']}.",
        *([
            "Wrong implementations this vector was checked to catch (simulated):",
            *["  " + m for m in stats["mutants"]],
        ] if stats["mutants"] else []),
        "",
        "Encoding: " + (
            "samples = lowercase hex of the bits packed MSB first (sample 0 is 0x80\n"
            "of byte 0), zero-padded to a whole byte; sample_count = number of bits."
            if case.bits == 1 else
            "samples = lowercase hex, one byte per sample."
        ),
    ]
    out = []
    for line in "\n".join(lines).split("\n"):
        out.append(("# " + line).rstrip() + "\n")
    out.append("\n")
    rec = [
        ("bits_per_sample", case.bits),
        ("alpha_log2", -case.alpha_exp),
        ("min_entropy", case.h),
        ("rct_cutoff", case.rct_cutoff),
        ("apt_cutoff", case.apt_cutoff),
        ("window", case.window),
        ("sample_count", len(case.samples)),
        ("expected", case.expected),
    ]
    if case.failure_offset is not None:
        rec.append(("failure_offset", case.failure_offset))
    rec.append(("samples", encode_samples(case.samples, case.bits)))
    out.extend(f"{k} = {v}\n" for k, v in rec)
    return "".join(out)


BUILDERS = [
    lambda: build_rct_binary(True),
    lambda: build_rct_binary(False),
    lambda: build_rct_8bit(True),
    lambda: build_rct_8bit(False),
    lambda: build_apt_binary(True),
    lambda: build_apt_binary(False),
    lambda: build_apt_8bit(True),
    lambda: build_apt_8bit(False),
]


def generate() -> dict[str, str]:
    files = {}
    for build in BUILDERS:
        case = build()
        stats = verify(case)
        files[case.name + ".rsp"] = render(case, stats)
        print(
            f"{case.name:16s} n={len(case.samples):5d} expected={case.expected:8s} "
            f"offset={case.failure_offset} rct_C={case.rct_cutoff} apt_C={case.apt_cutoff} W={case.window} "
            f"max_run={stats['max_run']} max_ref_count={stats['max_window_ref_count']}",
            file=sys.stderr,
        )
    return files


def parse_rsp(text: str) -> list[dict[str, str]]:
    """Minimal parser of the .rsp format, used to re-verify what was rendered."""
    records, cur = [], {}
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if cur:
                records.append(cur)
                cur = {}
            continue
        k, sep, v = line.partition(" = ")
        require(sep == " = ", f"bad line {line[:40]!r}")
        require(k not in cur, f"duplicate key {k}")
        cur[k] = v
    if cur:
        records.append(cur)
    return records


def reverify_rendered(name: str, text: str) -> None:
    """Decode the rendered file and run the simulation again from the text."""
    (rec,) = parse_rsp(text)
    bits = int(rec["bits_per_sample"])
    n = int(rec["sample_count"])
    if bits == 1:
        require(len(rec["samples"]) == 2 * ((n + 7) // 8), f"{name}: hex length")
        samples = unpack_bits_hex(rec["samples"], n)
    else:
        require(len(rec["samples"]) == 2 * n, f"{name}: hex length")
        samples = list(bytes.fromhex(rec["samples"]))
    require(rec["samples"] == rec["samples"].lower(), f"{name}: hex not lowercase")
    rct = rct_first_failure(samples, int(rec["rct_cutoff"]))
    apt = apt_first_failure(samples, int(rec["window"]), int(rec["apt_cutoff"]))
    exp = rec["expected"]
    off = int(rec["failure_offset"]) if "failure_offset" in rec else None
    got = "pass" if rct is None and apt is None else ("rct_fail" if apt is None or (rct is not None and rct <= apt) else "apt_fail")
    first = None if got == "pass" else min(x for x in (rct, apt) if x is not None)
    require((got, first) == (exp, off), f"{name}: re-parsed file gives {(got, first)}, header says {(exp, off)}")
    require(int(rec["rct_cutoff"]) == hc.rct_cutoff(-int(rec["alpha_log2"]), rec["min_entropy"]), f"{name}: rct cutoff")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="regenerate in memory and compare with the files")
    ap.add_argument("--outdir", type=Path, default=None, help=f"output directory (default <repo>/{OUTPUT_RELDIR})")
    args = ap.parse_args(argv)
    outdir = args.outdir or (repo_root() / OUTPUT_RELDIR)
    try:
        files = generate()
        for name, text in files.items():
            reverify_rendered(name, text)
    except VectorError as e:
        print(f"VECTOR GENERATION FAILED: {e}", file=sys.stderr)
        return 2
    if args.check:
        bad = []
        for name, text in files.items():
            path = outdir / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                bad.append(name)
        if bad:
            print(f"CHECK FAILED: differ or missing: {', '.join(bad)}", file=sys.stderr)
            return 1
        print(f"check OK: {len(files)} files match", file=sys.stderr)
        return 0
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with open(outdir / name, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(f"wrote {len(files)} files to {outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
