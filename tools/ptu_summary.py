#!/usr/bin/env python3
"""Summarise a PicoQuant PTU file in T2 mode, independently of qrng's Swift reader.

Written from PicoQuant's published description of the format (the PTU file-format demos in
PicoQuant/PicoQuant-Time-Tagged-File-Format-Demos): an 8-byte magic "PQTTTR", an 8-byte version, 48-byte tags
(32-byte ident, int32 index, uint32 type, 8-byte value; variable-length types followed by `value` bytes) up to
`Header_End`, then 32-bit little-endian records.

It counts records, photons per channel (qrng's channel numbering: 0 = sync input, n = input n), overflow records
and periods, markers, and the first and last photon timestamps in picoseconds, and prints them as `key = value`
lines, the format of testvectors/*.rsp.

    python3 tools/ptu_summary.py FILE.ptu              # print the summary
    python3 tools/ptu_summary.py FILE.ptu --check RSP  # compare with a stored summary; exit 1 on a difference
"""

import argparse
import struct
import sys

TAG_TYPES = {
    0xFFFF0008: "Empty8", 0x00000008: "Bool8", 0x10000008: "Int8", 0x11000008: "BitSet64",
    0x12000008: "Color8", 0x20000008: "Float8", 0x21000008: "TDateTime", 0x2001FFFF: "Float8Array",
    0x4001FFFF: "AnsiString", 0x4002FFFF: "WideString", 0xFFFFFFFF: "BinaryBlob",
}
VARIABLE = {"Float8Array", "AnsiString", "WideString", "BinaryBlob"}

# Record type -> (layout, ticks per overflow period)
RECORD_TYPES = {
    0x00010203: ("picoharp", 210698240),
    0x00010204: ("hydraharp1", 33552000),
    0x01010204: ("hydraharp2", 33554432),
    0x00010205: ("hydraharp2", 33554432),
    0x00010206: ("hydraharp2", 33554432),
    0x00010207: ("hydraharp2", 33554432),
}


def read_header(f):
    magic = f.read(8)
    if magic[:6] != b"PQTTTR":
        raise SystemExit("not a PTU file")
    f.read(8)  # version
    tags = {}
    while True:
        raw = f.read(48)
        if len(raw) < 48:
            raise SystemExit("truncated header")
        ident = raw[:32].split(b"\0", 1)[0].decode("ascii", "replace")
        _index, kind = struct.unpack("<iI", raw[32:40])
        name = TAG_TYPES.get(kind)
        if name is None:
            raise SystemExit(f"unknown tag type {kind:#x} in {ident}")
        if name == "Float8":
            value = struct.unpack("<d", raw[40:48])[0]
        else:
            value = struct.unpack("<q", raw[40:48])[0]
        if name in VARIABLE:
            f.read(value)
        tags[ident] = value
        if ident == "Header_End":
            return tags, f.tell()


def summarise(path):
    with open(path, "rb") as f:
        tags, header_size = read_header(f)
        record_type = tags["TTResultFormat_TTTRRecType"]
        layout, wrap = RECORD_TYPES[record_type]
        resolution = tags["MeasDesc_GlobalResolution"]
        femtoseconds = round(resolution * 1e15)
        declared = tags.get("TTResult_NumberOfRecords")
        data = f.read()
    records = len(data) // 4
    photons = {}
    overflow_records = overflow_periods = markers = 0
    base = 0
    first = last = None
    backwards = 0
    previous = 0
    for (word,) in struct.iter_unpack("<I", data[: records * 4]):
        channel = None
        if layout == "picoharp":
            field, time = word >> 28, word & 0x0FFFFFFF
            if field == 15:
                if time & 0xF == 0:
                    base += wrap
                    overflow_records += 1
                    overflow_periods += 1
                else:
                    markers += 1
                continue
            channel = field
        else:
            special, field, time = word >> 31, (word >> 25) & 0x3F, word & 0x1FFFFFF
            if special:
                if field == 63:
                    count = time if (layout == "hydraharp2" and time != 0) else 1
                    base += wrap * count
                    overflow_records += 1
                    overflow_periods += count
                    continue
                if 1 <= field <= 15:
                    markers += 1
                    continue
                channel = 0
            else:
                channel = field + 1
        picoseconds = (base + time) * femtoseconds // 1000
        photons[channel] = photons.get(channel, 0) + 1
        if picoseconds < previous:
            backwards += 1
        previous = picoseconds
        if first is None:
            first = picoseconds
        last = picoseconds
    summary = {
        "record_type": f"0x{record_type:08X}",
        "global_resolution_s": repr(resolution),
        "header_bytes": str(header_size),
        "declared_records": str(declared),
        "records": str(records),
        "photons": str(sum(photons.values())),
        "overflow_records": str(overflow_records),
        "overflow_periods": str(overflow_periods),
        "markers": str(markers),
        "first_ps": str(first),
        "last_ps": str(last),
        "backward_steps": str(backwards),
    }
    for channel in sorted(photons):
        summary[f"photons_channel_{channel}"] = str(photons[channel])
    return summary


def read_rsp(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            values[key] = value
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--check", metavar="RSP", help="compare with the key = value summary in RSP")
    args = parser.parse_args()
    summary = summarise(args.file)
    if args.check:
        stored = read_rsp(args.check)
        differences = [k for k in summary if stored.get(k) != summary[k]]
        for key in differences:
            print(f"{key}: stored {stored.get(key)}, computed {summary[key]}", file=sys.stderr)
        sys.exit(1 if differences else 0)
    for key, value in summary.items():
        print(f"{key} = {value}")


if __name__ == "__main__":
    main()
