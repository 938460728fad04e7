#!/usr/bin/env python3
"""Generate and check qrng's von Neumann extractor known-answer vectors.

Writes testvectors/vonneumann/vonneumann.rsp.

Convention: the input bits are taken in non-overlapping pairs (b0, b1), (b2, b3), ... from the start; pair 10
outputs 1, pair 01 outputs 0 (the first bit of an unequal pair), pairs 00 and 11 output nothing, and a trailing
unpaired bit outputs nothing.

Most records are written by hand below, with the expected output worked out by hand in their comments; the
script checks every one of them against `von_neumann_reference` (a small independent implementation) and
stops if any differ. One 200-bit record is generated from a fixed seed and its output computed by the same
function. If cryptomite 0.3.0 is installed, every record is also checked against cryptomite.utils.von_neumann,
which uses the same convention ([x for x, y in zip(bits[::2], bits[1::2]) if x != y]).

Packing: MSB-first (bit 0 is 0x80 of byte 0), zero-padded to a whole byte, lowercase hex; no bits is written as
an empty value (`output = `).

Usage:
    python3 tools/vonneumann_vectors.py            # regenerate the file
    python3 tools/vonneumann_vectors.py --check    # regenerate in memory, fail if the file differs
"""
from __future__ import annotations

import argparse
import os
import random
import sys

DATE = "2026-11-27"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testvectors", "vonneumann", "vonneumann.rsp")
SCRIPT = "tools/vonneumann_vectors.py"


def von_neumann_reference(bits: list[int]) -> list[int]:
    """Independent reference: walk the pairs one by one."""
    out = []
    k = 0
    while k + 1 < len(bits):
        a, b = bits[k], bits[k + 1]
        if a == 1 and b == 0:
            out.append(1)
        elif a == 0 and b == 1:
            out.append(0)
        k += 2
    return out


def pack_hex(bits: list[int]) -> str:
    out = bytearray((len(bits) + 7) // 8)
    for k, b in enumerate(bits):
        if b:
            out[k >> 3] |= 0x80 >> (k & 7)
    return out.hex()


def unpack_hex(text: str, count: int) -> list[int]:
    data = bytes.fromhex(text)
    assert len(data) == (count + 7) // 8, f"hex {text!r} does not hold exactly {count} bits"
    bits = [(data[k >> 3] >> (7 - (k & 7))) & 1 for k in range(len(data) * 8)]
    assert not any(bits[count:]), f"padding bits of {text!r} must be zero"
    return bits[:count]


# Hand-written records: (comment lines, input_bits, input hex, output_bits, output hex).
# The outputs here were worked out by hand (as the comments show), not computed; main() checks them.
HAND = [
    (["Empty input: no pairs, no output."],
     0, "", 0, ""),
    (["A single bit 1: it has no partner, and a trailing unpaired bit outputs nothing."],
     1, "80", 0, ""),
    (["Bits 1 0: one pair 10 -> 1. Output 1 bit, packed 1000 0000 = 80."],
     2, "80", 1, "80"),
    (["Bits 0 1: one pair 01 -> 0. Output 1 bit, packed 0000 0000 = 00."],
     2, "40", 1, "00"),
    (["Bits 0 0: pair 00 -> nothing."],
     2, "00", 0, ""),
    (["Bits 1 1: pair 11 -> nothing."],
     2, "c0", 0, ""),
    (["Bits 1 0 1 (hex a0, 3 bits): pair 10 -> 1, then the trailing unpaired 1 -> nothing. Output 1 = 80."],
     3, "a0", 1, "80"),
    (["One byte a5 = 1010 0101: pairs 10 10 01 01 -> 1 1 0 0. Output 4 bits 1100 = c0."],
     8, "a5", 4, "c0"),
    (["Three bytes 1b e4 72:",
      "  1b = 0001 1011: pairs 00 01 10 11 -> - 0 1 -",
      "  e4 = 1110 0100: pairs 11 10 01 00 -> - 1 0 -",
      "  72 = 0111 0010: pairs 01 11 00 10 -> 0 - - 1",
      "Output 6 bits 0 1 1 0 0 1 = 0110 0100 = 64."],
     24, "1be472", 6, "64"),
    (["65 bits, crossing a 64-bit word: bytes a5 0f 3c 69 ff 00 96 5a then a single bit 1 (bit 64):",
      "  a5 = 1010 0101 -> 1 1 0 0     0f = 0000 1111 -> nothing     3c = 0011 1100 -> nothing",
      "  69 = 0110 1001 -> 0 1 1 0     ff -> nothing                  00 -> nothing",
      "  96 = 1001 0110 -> 1 0 0 1     5a = 0101 1010 -> 0 0 1 1 (the last pair, bits 62-63, is 10 -> 1)",
      "  bit 64 = 1 is unpaired -> nothing.",
      "Output 16 bits 1100 0110 1001 0011 = c6 93."],
     65, "a50f3c69ff0096" "5a80", 16, "c693"),
    (["160 bits: 20 bytes of aa = 1010 1010, every pair is 10 -> 1, four per byte.",
      "Output 80 one bits (crosses a 64-bit output word) = ten bytes ff."],
     160, "aa" * 20, 80, "ff" * 10),
    (["136 bits: 17 bytes of 99 = 1001 1001, pairs 10 01 10 01 -> 1 0 1 0, four per byte.",
      "Output 68 bits 1010 repeated 17 times = aa x 8 then 1010 padded to a0."],
     136, "99" * 17, 68, "aa" * 8 + "a0"),
]

RANDOM_SEED = 20261127
RANDOM_BITS = 200


def random_record():
    rng = random.Random(RANDOM_SEED)
    v = rng.getrandbits(RANDOM_BITS)
    bits = [(v >> (RANDOM_BITS - 1 - k)) & 1 for k in range(RANDOM_BITS)]
    out = von_neumann_reference(bits)
    comments = [
        f"{RANDOM_BITS} bits from random.Random({RANDOM_SEED}).getrandbits({RANDOM_BITS}), read MSB-first; output",
        "computed by von_neumann_reference in the script (not by hand). Byte by byte (- = pair gives nothing):",
    ]
    for b in range(0, RANDOM_BITS, 8):
        chunk = bits[b:b + 8]
        pairs = [chunk[k:k + 2] for k in range(0, len(chunk), 2)]
        outs = ["1" if p == [1, 0] else "0" if p == [0, 1] else "-" for p in pairs]
        comments.append(f"  {pack_hex(chunk)} = {''.join(map(str, chunk[:4]))} {''.join(map(str, chunk[4:]))}: "
                        f"pairs {' '.join(''.join(map(str, p)) for p in pairs)} -> {' '.join(outs)}")
    comments.append(f"Output {len(out)} bits = {pack_hex(out)}.")
    return comments, RANDOM_BITS, pack_hex(bits), len(out), pack_hex(out)


def cryptomite_von_neumann():
    try:
        import cryptomite
        from cryptomite.utils import von_neumann
    except ImportError:
        return None
    if getattr(cryptomite, "__version__", None) != "0.3.0":
        return None
    return von_neumann


def build() -> tuple[str, int, bool]:
    records = HAND + [random_record()]
    cm = cryptomite_von_neumann()
    for comments, nbits, inp, obits, outp in records:
        bits = unpack_hex(inp, nbits)
        expected = unpack_hex(outp, obits)
        got = von_neumann_reference(bits)
        if got != expected:
            sys.exit(f"error: hand-written record {comments[0]!r} says {obits} bits {outp!r}, "
                     f"reference gives {len(got)} bits {pack_hex(got)!r}")
        if cm is not None and [int(b) for b in cm(bits)] != expected:
            sys.exit(f"error: cryptomite.utils.von_neumann disagrees on {comments[0]!r}")

    head = [
        "qrng von Neumann extractor known-answer vectors",
        "",
        f"Generated by {SCRIPT} on {DATE}; regenerate with `python3 {SCRIPT}` (deterministic).",
        "",
        "Convention: input bits are taken in non-overlapping pairs (b0, b1), (b2, b3), ... from the start;",
        "pair 10 outputs 1, pair 01 outputs 0 (the first bit of an unequal pair), pairs 00 and 11 output nothing,",
        "and a trailing unpaired bit outputs nothing.",
        "",
        "Packing: MSB-first (bit 0 is 0x80 of byte 0), zero-padded to a whole byte, lowercase hex;",
        "no bits is an empty value (`input = ` / `output = `).",
        "",
        "Provenance: all records but the last were worked out by hand (see each comment); the last (200 bits)",
        f"was generated from random.Random({RANDOM_SEED}). The script checks every record against its own small",
        "pair-by-pair reference function, and against cryptomite 0.3.0's cryptomite.utils.von_neumann",
        "(same convention) when that is installed; both agreed on every record.",
        "",
        "Record keys: input_bits, input, output_bits, output.",
        "",
        f"Records: {len(records)}.",
    ]
    text = "\n".join(("# " + l).rstrip() for l in head) + "\n"
    for comments, nbits, inp, obits, outp in records:
        text += "\n" + "".join(f"# {c}\n" for c in comments)
        text += f"input_bits = {nbits}\ninput = {inp}\noutput_bits = {obits}\noutput = {outp}\n"

    # Round trip through a tiny reader of the format.
    parsed, cur = [], {}
    for line in text.split("\n") + [""]:
        s = line.strip()
        if s.startswith("#"):
            continue
        if not s:
            if cur:
                parsed.append(cur)
                cur = {}
            continue
        k, _, v = s.partition("=")
        cur[k.strip()] = v.strip()
    assert len(parsed) == len(records)
    for p, (_, nbits, inp, obits, outp) in zip(parsed, records):
        assert von_neumann_reference(unpack_hex(p["input"], int(p["input_bits"]))) == \
            unpack_hex(p["output"], int(p["output_bits"]))
    return text, len(records), cm is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if the file on disk differs from a fresh run")
    args = ap.parse_args()
    text, count, with_cm = build()
    rel = os.path.relpath(OUT, ROOT)
    cm_note = "and cryptomite 0.3.0" if with_cm else "(cryptomite 0.3.0 not installed: not cross-checked this run)"
    if args.check:
        try:
            with open(OUT, encoding="utf-8") as f:
                same = f.read() == text
        except FileNotFoundError:
            same = False
        print(f"{rel}: {'matches' if same else 'DIFFERS from'} a fresh run ({count} records; checked by reference {cm_note})")
        return 0 if same else 1
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {rel}: {count} records, all checked by the reference {cm_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
