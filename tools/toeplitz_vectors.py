#!/usr/bin/env python3
"""Generate qrng's Toeplitz extractor known-answer vectors, each computed twice.

Writes
    testvectors/toeplitz/toeplitz.rsp             random (input, seed) pairs of many sizes
    testvectors/toeplitz/toeplitz_structured.rsp  hand-checkable cases, each explained

Convention (fixed by the project, and the one cryptomite 0.3.0 computes):
    input x of n bits, seed s of N = n + m - 1 bits, output y of m bits, 1 <= m <= n,
        y_i = XOR_{j=0}^{n-1} T[i][j] & x_j
        T[i][j] = s[i - j]              if i >= j
        T[i][j] = s[N - (j - i)]        if i <  j
    so column 0 of T is s[0..m-1] and row 0 is s[0], s[N-1], s[N-2], ..., s[m].

Every record is computed by `toeplitz_formula` below (the formula, literally, O(n*m)) and by cryptomite
0.3.0's `cryptomite.Toeplitz(n_1=n, m=m).extract(input1=x, input2=s)` (both take lists of 0/1 ints, bit 0
first; the result is a list of m bits, bit 0 first). The script stops with an error if they ever differ.
The structured cases are checked a third time against the output their comment derives by hand.

Packing in the files: a bit string is packed MSB-first (bit 0 is 0x80 of byte 0), zero-padded to a whole
byte, written as lowercase hex.

Usage:
    python3 tools/toeplitz_vectors.py            # regenerate both files
    python3 tools/toeplitz_vectors.py --check    # regenerate in memory, fail if the files differ

Needs `pip install cryptomite==0.3.0`. Output is deterministic: every record's bits come from its own
random.Random seeded with a fixed string, so rerunning gives byte-identical files.
"""
from __future__ import annotations

import argparse
import os
import random
import sys

CRYPTOMITE_VERSION = "0.3.0"
DATE = "2026-11-27"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "testvectors", "toeplitz")
SCRIPT = "tools/toeplitz_vectors.py"


def load_cryptomite():
    try:
        import cryptomite
        from cryptomite import Toeplitz
    except ImportError:
        sys.exit(
            "error: cryptomite is not installed; it is needed to cross-check every vector.\n"
            f"       install it with:  pip install cryptomite=={CRYPTOMITE_VERSION}"
        )
    version = getattr(cryptomite, "__version__", "unknown")
    if version != CRYPTOMITE_VERSION:
        sys.exit(
            f"error: found cryptomite {version}, but the vectors are checked against {CRYPTOMITE_VERSION}.\n"
            f"       install it with:  pip install cryptomite=={CRYPTOMITE_VERSION}"
        )
    return Toeplitz


# ---------------------------------------------------------------------------------------------------------
# The two computations
# ---------------------------------------------------------------------------------------------------------

def toeplitz_entry(s: list[int], n: int, m: int, i: int, j: int) -> int:
    """T[i][j] exactly as the project's convention states it."""
    N = n + m - 1
    if i >= j:
        return s[i - j]
    return s[N - (j - i)]


def toeplitz_formula(x: list[int], s: list[int], n: int, m: int) -> list[int]:
    """y_i = XOR over j of T[i][j] & x_j, computed entry by entry (O(n*m), deliberately naive)."""
    assert 1 <= m <= n and len(x) == n and len(s) == n + m - 1
    y = []
    for i in range(m):
        acc = 0
        for j in range(n):
            acc ^= toeplitz_entry(s, n, m, i, j) & x[j]
        y.append(acc)
    return y


def toeplitz_cryptomite(Toeplitz, x: list[int], s: list[int], n: int, m: int) -> list[int]:
    """cryptomite 0.3.0: Toeplitz(n_1, m).extract(input1, input2), input1 = the n-bit input, input2 = the seed."""
    out = Toeplitz(n, m).extract(list(x), list(s))
    out = [int(b) for b in out]
    assert len(out) == m and set(out) <= {0, 1}
    return out


# ---------------------------------------------------------------------------------------------------------
# Packing
# ---------------------------------------------------------------------------------------------------------

def pack_hex(bits: list[int]) -> str:
    """MSB-first: bit 0 is 0x80 of byte 0; zero-padded to a whole byte; lowercase hex ('' for no bits)."""
    out = bytearray((len(bits) + 7) // 8)
    for k, b in enumerate(bits):
        if b:
            out[k >> 3] |= 0x80 >> (k & 7)
    return out.hex()


def unpack_hex(text: str, count: int) -> list[int]:
    data = bytes.fromhex(text)
    assert len(data) == (count + 7) // 8, "hex length does not match the bit count"
    bits = [(data[k >> 3] >> (7 - (k & 7))) & 1 for k in range(len(data) * 8)]
    assert not any(bits[count:]), "padding bits must be zero"
    return bits[:count]


def random_bits(rng: random.Random, count: int) -> list[int]:
    v = rng.getrandbits(count)
    return [(v >> (count - 1 - k)) & 1 for k in range(count)]


# ---------------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------------

class Record:
    def __init__(self, n: int, m: int, x: list[int], s: list[int], comments: list[str], expected=None):
        self.n, self.m, self.x, self.s = n, m, x, s
        self.comments = comments
        self.expected = expected  # hand-derived output (structured cases only)
        self.y: list[int] | None = None

    def compute(self, Toeplitz) -> None:
        a = toeplitz_formula(self.x, self.s, self.n, self.m)
        b = toeplitz_cryptomite(Toeplitz, self.x, self.s, self.n, self.m)
        if a != b:
            diff = [i for i in range(self.m) if a[i] != b[i]]
            sys.exit(
                f"error: formula and cryptomite disagree for n={self.n} m={self.m} at output bits {diff[:20]}\n"
                f"  seed   = {pack_hex(self.s)}\n  input  = {pack_hex(self.x)}\n"
                f"  formula    = {pack_hex(a)}\n  cryptomite = {pack_hex(b)}"
            )
        if self.expected is not None and self.expected != a:
            sys.exit(
                f"error: hand-derived output disagrees with the formula for n={self.n} m={self.m}: "
                f"{self.comments}\n  expected {pack_hex(self.expected)}, formula {pack_hex(a)}"
            )
        self.y = a

    def text(self) -> str:
        lines = [f"# {c}" for c in self.comments]
        if self.expected is not None and self.n + self.m - 1 <= 40:
            lines.append(f"# bits: seed s0.. = {spaced(self.s)}; input x0.. = {spaced(self.x)}; "
                         f"output y0.. = {spaced(self.y)}")
        lines += [
            f"n = {self.n}",
            f"m = {self.m}",
            f"seed = {pack_hex(self.s)}",
            f"input = {pack_hex(self.x)}",
            f"output = {pack_hex(self.y)}",
        ]
        return "\n".join(lines) + "\n"


def random_record(label: str, n: int, m: int, k: int) -> Record:
    rng = random.Random(f"qrng-toeplitz:{label}:{n}:{m}:{k}")
    x = random_bits(rng, n)
    s = random_bits(rng, n + m - 1)
    return Record(n, m, x, s, [f"{label} n={n} m={m} #{k} (bits from random.Random('qrng-toeplitz:{label}:{n}:{m}:{k}'))"])


def random_records() -> list[Record]:
    recs: list[Record] = []
    # Tiny: every (n, m) with 1 <= m <= n <= 8, three random pairs each.
    for n in range(1, 9):
        for m in range(1, n + 1):
            for k in range(3):
                recs.append(random_record("tiny", n, m, k))
    # Chosen sizes: word multiples and not, m = 1, m = n, m = n - 1, large.
    for n, m in [(64, 32), (64, 64), (100, 37), (127, 1), (128, 127), (1000, 500), (1024, 512),
                 (1024, 1000), (1024, 1024), (4096, 3830), (4096, 2048), (2000, 1999), (8192, 7000)]:
        recs.append(random_record("sized", n, m, 0))
    # Random sizes, n in 65..3000.
    size_rng = random.Random("qrng-toeplitz:random-sizes")
    for k in range(10):
        n = size_rng.randint(65, 3000)
        m = size_rng.randint(1, n)
        recs.append(random_record("random-size", n, m, k))
    return recs


def spaced(bits: list[int]) -> str:
    """[1,0,1,1,0,0,1,0,1] -> '10110010 1' (groups of 8 = one packed byte each)."""
    s = "".join(map(str, bits))
    return " ".join(s[k:k + 8] for k in range(0, len(s), 8))


def bits_of(text: str) -> list[int]:
    """'1011' -> [1, 0, 1, 1]; spaces ignored."""
    return [int(c) for c in text.replace(" ", "")]


def unit(count: int, *ones: int) -> list[int]:
    v = [0] * count
    for k in ones:
        v[k] = 1
    return v


def parity(bits: list[int]) -> int:
    p = 0
    for b in bits:
        p ^= b
    return p


def structured_records() -> list[Record]:
    recs: list[Record] = []

    def add(n, m, x, s, expected, *comments):
        recs.append(Record(n, m, x, s, list(comments), expected))

    # 1. Worked example with the whole matrix written out.
    n, m = 4, 3                         # N = 6, seed s0..s5
    s = bits_of("101100")               # s0=1 s1=0 s2=1 s3=1 s4=0 s5=0
    x = bits_of("1101")
    # T = [[s0 s5 s4 s3], [s1 s0 s5 s4], [s2 s1 s0 s5]] = [[1 0 0 1], [0 1 0 0], [1 0 1 0]]
    # y0 = 1&1 ^ 0&1 ^ 0&0 ^ 1&1 = 0 ; y1 = 0^1^0^0 = 1 ; y2 = 1^0^0^0 = 1
    add(n, m, x, s, bits_of("011"),
        "Worked example, n=4 m=3, N=6. seed bits s0..s5 = 1 0 1 1 0 0 (hex b0), input x0..x3 = 1 1 0 1 (hex d0).",
        "T rows: [s0 s5 s4 s3] = 1 0 0 1, [s1 s0 s5 s4] = 0 1 0 0, [s2 s1 s0 s5] = 1 0 1 0.",
        "y0 = x0^x3 = 1^1 = 0; y1 = x1 = 1; y2 = x0^x2 = 1^0 = 1. Output bits 0 1 1 = hex 60.")

    # 2. Identity-like seeds: only s[0] = 1 -> T[i][j] = 1 iff i == j (N-(j-i) >= m > 0 never hits s[0]).
    for n, m in [(8, 8), (8, 3), (16, 5), (70, 70), (130, 67)]:
        rng = random.Random(f"qrng-toeplitz-structured:identity:{n}:{m}")
        x = random_bits(rng, n)
        add(n, m, x, unit(n + m - 1, 0), x[:m],
            f"Identity: seed has only s[0] = 1 (N={n + m - 1}), so T[i][j] = 1 iff i = j (s[N-(j-i)] never is s[0]"
            f" because j-i <= n-1 < N).",
            f"Output = first m={m} bits of the input: y_i = x_i.")

    # 3. Shift down: only s[d] = 1 with 0 < d < m -> T[i][j] = 1 iff i - j = d -> y_i = x_{i-d} (0 for i < d).
    for n, m, d in [(8, 8, 1), (8, 6, 3), (16, 16, 9)]:
        rng = random.Random(f"qrng-toeplitz-structured:down:{n}:{m}:{d}")
        x = random_bits(rng, n)
        add(n, m, x, unit(n + m - 1, d), [0] * d + x[:m - d],
            f"Shift down: seed has only s[{d}] = 1, so T[i][j] = 1 iff i - j = {d}.",
            f"y_i = x_(i-{d}) for i >= {d}, and y_i = 0 for i < {d}: the output is {d} zero bits then x_0..x_{m - 1 - d}.")

    # 4. Shift up: only s[N - d] = 1 with 0 < d < n -> T[i][j] = 1 iff j - i = d -> y_i = x_{i+d} (0 past the end).
    for n, m, d in [(8, 8, 1), (8, 5, 3), (16, 10, 12)]:
        N = n + m - 1
        rng = random.Random(f"qrng-toeplitz-structured:up:{n}:{m}:{d}")
        x = random_bits(rng, n)
        expected = [x[i + d] if i + d < n else 0 for i in range(m)]
        add(n, m, x, unit(N, N - d), expected,
            f"Shift up: seed has only s[N-{d}] = s[{N - d}] = 1 (N={N}), so T[i][j] = 1 iff j - i = {d}.",
            f"y_i = x_(i+{d}) while i+{d} < n={n}, else 0.")

    # 5. All-ones seed: T is all ones -> every y_i = parity of x.
    for n, m, x in [(8, 8, bits_of("10110000")), (8, 5, bits_of("10110001")), (64, 64, unit(64, 0, 63)),
                    (65, 3, unit(65, 64)), (100, 37, unit(100, 1, 2, 50))]:
        p = parity(x)
        add(n, m, x, [1] * (n + m - 1), [p] * m,
            f"All-ones seed: every T[i][j] = 1, so every y_i = XOR of all input bits = parity "
            f"(input has {sum(x)} one bits, parity {p}).",
            f"Output = {m} copies of {p}.")

    # 6. Single-bit input x = e_c: y = column c of T.
    #    Column c: y_i = s[i-c] for i >= c, s[N-(c-i)] for i < c.
    for n, m, c, seed_text in [(8, 8, 0, "11001010 0111001"), (8, 4, 0, "10110110 100"),
                               (8, 8, 3, "11001010 0111001"), (8, 4, 6, "11100110 100"), (16, 9, 15, None)]:
        N = n + m - 1
        if seed_text is None:
            s = random_bits(random.Random(f"qrng-toeplitz-structured:column:{n}:{m}:{c}"), N)
        else:
            s = bits_of(seed_text)
            assert len(s) == N
        expected = [s[i - c] if i >= c else s[N - (c - i)] for i in range(m)]
        if c == 0:
            how = f"x_0 = 1 only, so y = column 0 of T = s[0..{m - 1}]: the first m={m} seed bits."
        elif c < m:
            how = (f"x_{c} = 1 only, so y = column {c} of T = s[N-{c}..N-1] then s[0..{m - 1 - c}] "
                   f"(y_i = s[N-({c}-i)] for i < {c}, s[i-{c}] for i >= {c}), N={N}.")
        else:
            how = (f"x_{c} = 1 only (c >= m), so y = column {c} of T = s[N-{c}..N-{c}+{m - 1}] = "
                   f"s[{N - c}..{N - c + m - 1}], N={N}.")
        add(n, m, unit(n, c), s, expected, f"Single-bit input: {how}")

    # 7. Zero input or zero seed -> zero output.
    rng = random.Random("qrng-toeplitz-structured:zero")
    add(20, 11, [0] * 20, random_bits(rng, 30), [0] * 11, "Zero input: every y_i is an XOR of nothing, so the output is 11 zero bits.")
    add(20, 11, random_bits(rng, 20), [0] * 30, [0] * 11, "Zero seed: T is all zeros, so the output is 11 zero bits.")

    # 8. Lower triangle of ones: s[0..m-1] = 1, s[m..N-1] = 0 -> T[i][j] = 1 iff j <= i -> y_i = x_0 ^ ... ^ x_i.
    n, m = 8, 8
    x = bits_of("10110100")
    add(n, m, x, [1] * m + [0] * (n - 1), [parity(x[:i + 1]) for i in range(m)],
        "Lower triangle: s[0..7] = 1 and s[8..14] = 0 (n=m=8, N=15), so T[i][j] = 1 iff j <= i.",
        "y_i = x_0 ^ ... ^ x_i (running parity). Input 1 0 1 1 0 1 0 0 -> output 1 1 0 1 1 0 0 0 = hex d8.")

    # 9. Strict upper triangle of ones: s[0..m-1] = 0, s[m..N-1] = 1 -> T[i][j] = 1 iff j > i.
    n, m = 8, 6
    x = bits_of("01101011")
    add(n, m, x, [0] * m + [1] * (n - 1), [parity(x[i + 1:]) for i in range(m)],
        "Strict upper triangle: s[0..5] = 0 and s[6..12] = 1 (n=8 m=6, N=13), so T[i][j] = 1 iff j > i.",
        "y_i = x_(i+1) ^ ... ^ x_7 (parity of the bits after i). Input 0 1 1 0 1 0 1 1 -> output 1 0 1 1 0 0 = hex b0.")

    # 10. m = 1: one output bit = row 0 of T, i.e. s[0] x_0 ^ s[N-1] x_1 ^ ... ^ s[1] x_{n-1} (N = n).
    n, m = 5, 1
    s = bits_of("10110")                 # s0..s4, N = 5; row 0 = s0 s4 s3 s2 s1 = 1 0 1 1 0
    x = bits_of("11110")
    add(n, m, x, s, [1],
        "m=1: the only row of T is [s0, s4, s3, s2, s1] (N=n=5); seed s0..s4 = 1 0 1 1 0 (hex b0) gives row 1 0 1 1 0.",
        "Input 1 1 1 1 0 (hex f0): row AND input = 1 0 1 1 0, three ones, so y0 = 1 (output hex 80).")
    return recs


# ---------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------

HEADER_COMMON = [
    f"Generated by {SCRIPT} on {DATE}; regenerate with `python3 {SCRIPT}` (deterministic).",
    "",
    "Toeplitz extractor convention: input x of n bits, seed s of N = n + m - 1 bits, output y of m bits, 1 <= m <= n,",
    "    y_i = XOR_{j=0..n-1} T[i][j] & x_j,  T[i][j] = s[i - j] if i >= j,  T[i][j] = s[N - (j - i)] if i < j.",
    "So column 0 of T is s[0..m-1] and row 0 is s[0], s[N-1], s[N-2], ..., s[m].",
    "",
    "Packing: every bit string is packed MSB-first (bit 0 is 0x80 of byte 0), zero-padded to a whole byte,",
    "written as lowercase hex. seed holds N bits, input n bits, output m bits.",
    "",
    "Provenance: every record was computed twice and the two agreed bit for bit:",
    "  (1) the script's own implementation, the formula above evaluated entry by entry in pure Python (O(n*m));",
    f"  (2) cryptomite {CRYPTOMITE_VERSION} (PyPI; version checked at run time):",
    "      cryptomite.Toeplitz(n_1=n, m=m).extract(input1=x, input2=s), x and s as lists of 0/1 with bit 0 first.",
    "",
    "Record keys: n, m, seed, input, output.",
]


def header(title: str, extra: list[str]) -> str:
    lines = [title, ""] + HEADER_COMMON + extra
    return "\n".join(("# " + l).rstrip() for l in lines) + "\n"


def render(recs: list[Record], title: str, extra: list[str]) -> str:
    return header(title, extra + ["", f"Records: {len(recs)}."]) + "".join("\n" + r.text() for r in recs)


def parse_rsp(text: str) -> list[dict[str, str]]:
    """Tiny reader for the key = value format, used to round-trip what was written."""
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
        key, sep, value = line.partition("=")
        assert sep, f"bad line: {raw!r}"
        cur[key.strip()] = value.strip()
    if cur:
        records.append(cur)
    return records


def verify_round_trip(text: str, recs: list[Record]) -> None:
    parsed = parse_rsp(text)
    assert len(parsed) == len(recs), (len(parsed), len(recs))
    for p, r in zip(parsed, recs):
        n, m = int(p["n"]), int(p["m"])
        assert (n, m) == (r.n, r.m)
        assert unpack_hex(p["seed"], n + m - 1) == r.s
        assert unpack_hex(p["input"], n) == r.x
        assert unpack_hex(p["output"], m) == r.y


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if the files on disk differ from a fresh run")
    args = ap.parse_args()
    Toeplitz = load_cryptomite()

    files = [
        ("toeplitz.rsp", random_records(), "qrng Toeplitz extractor known-answer vectors (random inputs and seeds)", [
            "",
            "Inputs and seeds: each record's bits come from its own random.Random seeded with the string in the",
            "comment above it (getrandbits(n) for the input, then getrandbits(N) for the seed, read MSB-first).",
            "Sizes: every 1 <= m <= n <= 8 (three records each); chosen (n, m) around 64-bit word edges and large",
            "sizes; ten (n, m) drawn by random.Random('qrng-toeplitz:random-sizes') with 65 <= n <= 3000.",
        ]),
        ("toeplitz_structured.rsp", structured_records(), "qrng Toeplitz extractor hand-checkable vectors", [
            "",
            "Each record's comment derives its output by hand from the convention; the script checks that",
            "hand-derived output as well, so these records agree three ways (hand, formula, cryptomite).",
            "Where a record needs arbitrary bits they come from random.Random seeded with a fixed string in the script.",
        ]),
    ]
    status = 0
    for name, recs, title, extra in files:
        for r in recs:
            r.compute(Toeplitz)
        text = render(recs, title, extra)
        verify_round_trip(text, recs)
        path = os.path.join(OUT_DIR, name)
        rel = os.path.relpath(path, ROOT)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print(f"{rel}: {'matches' if same else 'DIFFERS from'} a fresh run ({len(recs)} records)")
            status |= 0 if same else 1
        else:
            os.makedirs(OUT_DIR, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print(f"wrote {rel}: {len(recs)} records, formula and cryptomite {CRYPTOMITE_VERSION} agree on all")
    return status


if __name__ == "__main__":
    sys.exit(main())
