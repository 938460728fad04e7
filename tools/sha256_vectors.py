#!/usr/bin/env python3
"""Checks testvectors/sha256/SHA256ShortMsg.rsp against Python's hashlib (an implementation independent of
OpenSSL's build in qrng), so the file cannot carry a transcription error.

Usage: python3 tools/sha256_vectors.py   (exit status 1 on any mismatch)
"""
import hashlib
import pathlib
import sys

PATH = pathlib.Path(__file__).resolve().parent.parent / "testvectors" / "sha256" / "SHA256ShortMsg.rsp"


def records(text):
    record = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or line.startswith("["):
            continue
        if not line:
            if record:
                yield record
            record = {}
            continue
        key, _, value = line.partition("=")
        record[key.strip()] = value.strip()
    if record:
        yield record


def main():
    count = 0
    for record in records(PATH.read_text()):
        length = int(record["Len"])
        message = bytes.fromhex(record["Msg"])[: length // 8]
        if length == 0:
            message = b""
        digest = hashlib.sha256(message).hexdigest()
        if digest != record["MD"]:
            print(f"mismatch at Len = {length}: file {record['MD']}, hashlib {digest}")
            return 1
        count += 1
    print(f"{count} SHA-256 vectors agree with hashlib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
