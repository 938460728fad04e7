#!/usr/bin/env python3
"""Re-encode the photons of a PicoHarp T2 PTU file as a HydraHarp v2 T2 PTU file, independently of qrng.

Written from PicoQuant's published description of the format (the PTU file-format demos in
PicoQuant/PicoQuant-Time-Tagged-File-Format-Demos), like tools/ptu_summary.py. It gives qrng a HydraHarp-family
recording of real photons: the same detection events, at the same times, in the other record layout.

- PicoHarp T2 records: bits 31-28 channel (15 = special: overflow when the low 4 bits are 0, else markers),
  bits 27-0 time in ticks of the global resolution (4 ps), 210,698,240 ticks per overflow.
- HydraHarp v2 T2 records: bit 31 special, bits 30-25 channel, bits 24-0 time in 1 ps ticks, 2^25 ticks per
  overflow period. A special record with channel 63 is an overflow whose time field counts periods (v2); a
  special record with channel 0 is an event on the sync input.
- The PicoHarp's input 0 becomes the HydraHarp's sync input and its input n (n >= 1) the HydraHarp's input n, so
  qrng's channel numbers (0 = sync input, n = input n) stay the same. Markers are dropped.

The header holds the tags qrng and PicoQuant's demos need, plus File_Comment and CreatorSW_Name saying what the
file is. Usage:

    python3 tools/ptu_transcode.py IN.ptu OUT.ptu [--photons N]
"""

import argparse
import struct

import ptu_summary

PICOHARP_T2 = 0x00010203
HYDRAHARP_V2_T2 = 0x01010204
PERIOD = 1 << 25


def tag(ident, kind, value, payload=b""):
    raw = ident.encode("ascii").ljust(32, b"\0") + struct.pack("<iI", -1, kind)
    if kind == 0x20000008:  # Float8
        return raw + struct.pack("<d", value)
    return raw + struct.pack("<q", value) + payload


def ansi(ident, text):
    data = text.encode("ascii") + b"\0"
    data += b"\0" * (-len(data) % 8)
    return tag(ident, 0x4001FFFF, len(data), data)


def photons(path, limit):
    """(picoseconds, qrng channel) of each photon record, in file order."""
    with open(path, "rb") as f:
        tags, _ = ptu_summary.read_header(f)
        if tags["TTResultFormat_TTTRRecType"] != PICOHARP_T2:
            raise SystemExit("not a PicoHarp T2 file")
        tick = round(tags["MeasDesc_GlobalResolution"] * 1e12)
        data = f.read()
    base = 0
    count = 0
    for (word,) in struct.iter_unpack("<I", data[: len(data) // 4 * 4]):
        channel, time = word >> 28, word & 0x0FFFFFFF
        if channel == 15:
            if time & 0xF == 0:
                base += 210698240
            continue
        yield (base + time) * tick, channel
        count += 1
        if count == limit:
            return


def encode(events):
    records = []
    period = 0
    for picoseconds, channel in events:
        target = picoseconds // PERIOD
        while period < target:
            step = min(target - period, PERIOD - 1)
            records.append(0xFE000000 | step)  # special, channel 63, periods in the time field
            period += step
        time = picoseconds % PERIOD
        if channel == 0:
            records.append(0x80000000 | time)  # special, channel 0: the sync input
        else:
            records.append(((channel - 1) << 25) | time)
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--photons", type=int, default=0, help="re-encode only the first N photons")
    args = parser.parse_args()
    records = encode(photons(args.input, args.photons))
    comment = ("Photons of {} re-encoded as HydraHarp v2 T2 records by qrng tools/ptu_transcode.py; "
               "not recorded by a HydraHarp").format(args.input.rsplit("/", 1)[-1])
    header = b"PQTTTR\0\0" + b"1.0.00\0\0"
    header += ansi("File_Comment", comment)
    header += ansi("CreatorSW_Name", "qrng tools/ptu_transcode.py")
    header += tag("Measurement_Mode", 0x10000008, 2)
    header += tag("Measurement_SubMode", 0x10000008, 1)
    header += tag("TTResultFormat_TTTRRecType", 0x10000008, HYDRAHARP_V2_T2)
    header += tag("TTResultFormat_BitsPerRecord", 0x10000008, 32)
    header += tag("MeasDesc_GlobalResolution", 0x20000008, 1e-12)
    header += tag("MeasDesc_Resolution", 0x20000008, 1e-12)
    header += tag("TTResult_NumberOfRecords", 0x10000008, len(records))
    header += tag("Header_End", 0xFFFF0008, 0)
    with open(args.output, "wb") as f:
        f.write(header)
        f.write(struct.pack("<{}I".format(len(records)), *records))


if __name__ == "__main__":
    main()
