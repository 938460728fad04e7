#!/usr/bin/env python3
"""Writes testvectors/peres/peres.rsp: known answers for Peres' iterated von Neumann extractor.

The hand-worked records are checked by an independent, deliberately plain recursive implementation of
Peres (1992) on lists of bits; the larger records are produced by it from fixed seeds.

Psi_1(x) = von Neumann(x); Psi_d(x) = VN(x) || Psi_{d-1}(u) || Psi_{d-1}(v), where over the pairs (a, b) of x
u = [a XOR b for every pair] and v = [a for every pair with a == b]; a trailing unpaired bit is ignored.
Usage: python3 tools/peres_vectors.py [--check]
"""
import pathlib
import random
import sys

PATH = pathlib.Path(__file__).resolve().parent.parent / "testvectors" / "peres" / "peres.rsp"


def peres(bits, depth):
    if depth == 0 or len(bits) < 2:
        return []
    pairs = [(bits[2 * i], bits[2 * i + 1]) for i in range(len(bits) // 2)]
    vn = [a for a, b in pairs if a != b]
    if depth == 1:
        return vn
    u = [a ^ b for a, b in pairs]
    v = [a for a, b in pairs if a == b]
    return vn + peres(u, depth - 1) + peres(v, depth - 1)


def pack(bits):
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 0x80 >> (i % 8)
    return out.hex()


HAND = [
    ("1100", 2, "1", "pairs 11, 00: no von Neumann output; u = 00, v = 10; Psi_1(00) is empty, Psi_1(10) = 1"),
    ("1011", 2, "11", "pairs 10, 11: von Neumann gives 1; u = 10 gives 1; v = 1 (one bit) gives nothing"),
    ("00110101", 3, "0000",
     "pairs 00 11 01 01: VN = 00; u = 0011, v = 01. Psi_2(0011): pairs 00 11, VN none, u' = 00 (nothing), "
     "v' = 01 gives 0. Psi_2(01): VN gives 0, u'' = 1 and v'' = empty give nothing. Total 00 + 0 + 0"),
    ("10", 1, "1", "depth 1 is von Neumann: 10 gives 1"),
    ("111", 4, "", "pair 11 gives nothing; u = 0 and v = 1 are single bits; the third bit is unpaired"),
]


def records():
    out = []
    for text, depth, expected, why in HAND:
        bits = [int(c) for c in text]
        got = "".join(str(b) for b in peres(bits, depth))
        assert got == expected, (text, depth, got, expected)
        out.append((f"hand-worked: {why}", bits, depth))
    for seed, length, depth, p in [(1, 64, 2, 0.5), (2, 200, 4, 0.6), (3, 1001, 8, 0.7), (4, 4096, 16, 0.6)]:
        rng = random.Random(f"peres:{seed}")
        bits = [1 if rng.random() < p else 0 for _ in range(length)]
        out.append((f"random.Random('peres:{seed}'), P(1) = {p}, computed by peres() above", bits, depth))
    return out


def render():
    lines = [
        "# Peres' iterated von Neumann extractor (Peres 1992): known answers.",
        "#",
        "# Provenance: tools/peres_vectors.py (2026-11-27), a plain recursive implementation on lists of bits,",
        "# independent of qrng's word-at-a-time one. The first records are also worked by hand (see each comment).",
        "# Psi_1(x) = VN(x); Psi_d(x) = VN(x) || Psi_{d-1}(u) || Psi_{d-1}(v), u = XOR of every pair,",
        "# v = value of every equal pair; a trailing unpaired bit is ignored. Bits packed MSB-first in hex.",
        "",
    ]
    for comment, bits, depth in records():
        output = peres(bits, depth)
        lines += [f"# {comment}", f"depth = {depth}", f"input_bits = {len(bits)}", f"input = {pack(bits)}",
                  f"output_bits = {len(output)}", f"output = {pack(output)}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if PATH.read_text() != text:
            print(f"{PATH} differs from a fresh run")
            sys.exit(1)
        print("check OK")
    else:
        PATH.write_text(text)
        print(f"wrote {PATH}")
