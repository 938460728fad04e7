#!/usr/bin/env bash
# Builds the libFuzzer targets for qrng's readers and runs each for SECONDS (default 180).
#
#   tools/fuzz/run.sh [SECONDS] [TARGET...]     TARGET: binary csv ptu clicks (default: all)
#
# Each target is the reader sources compiled with -sanitize=fuzzer,address together with FuzzReaders.swift.
# Corpora and crash files go to tools/fuzz/.build-fuzz/ (not committed); a crash stops that target and leaves
# crash-* there, which `.build-fuzz/fuzz-NAME crash-…` replays.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-180}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(binary csv ptu clicks)

library=../../Sources/QRNG
sources=(
    "$library/Errors/QRNGError.swift"
    "$library/POSIX/ReadableFile.swift" "$library/POSIX/SystemCalls.swift" "$library/POSIX/WritableFile.swift"
    "$library/EntropySources/ClickSource.swift" "$library/EntropySources/Provenance.swift"
    "$library"/EntropySources/Formats/*.swift "$library"/EntropySources/TimeTags/*.swift
    "$library"/EntropySources/PTU/*.swift "$library"/EntropySources/Clicks/*.swift
)
out=.build-fuzz
mkdir -p "$out"

seed() {  # seed corpora: small valid files of each format
    local name=$1 dir="$out/corpus-$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return
    python3 - "$name" "$dir" <<'PY'
import struct, sys
name, folder = sys.argv[1], sys.argv[2]
def save(label, body):
    for control in (0, 1, 0x41, 0xC3):
        open(f"{folder}/{label}-{control:02x}", "wb").write(bytes([control]) + body)
if name == "binary":
    header = b"QRNGTAGS" + struct.pack("<HHHHQQ", 1, 32, 10, 4, 1, 2**64 - 1)
    records = b"".join(struct.pack("<QH", t, c) for t, c in [(0, 0), (5, 1), (40, 0), (47, 2), (90, 0), (91, 1)])
    save("tags", header + records)
elif name == "csv":
    save("csv", b"# comment\nchannel,timestamp_ps\n0,0\n1,5\r\n2,47\n0,90\n")
elif name == "ptu":
    save("picoharp", open("../../testvectors/ptu/picoharp_v30_t2.ptu", "rb").read()[:4096])
    def tag(ident, kind, value):
        return ident.encode().ljust(32, b"\0") + struct.pack("<iIq", -1, kind, value)
    header = b"PQTTTR\0\0" + b"1.0.00\0\0"
    header += tag("TTResultFormat_TTTRRecType", 0x10000008, 0x01010204)
    header += tag("MeasDesc_GlobalResolution", 0x20000008, struct.unpack("<q", struct.pack("<d", 1e-12))[0])
    header += tag("Header_End", 0xFFFF0008, 0)
    save("hydraharp", header + struct.pack("<6I", 0x80000005, 6, 0x86000007, 0xFE000002, 0x06000001, 0x0200000F))
elif name == "clicks":
    header = b"QRNGCLIK" + struct.pack("<HHHHQQ", 1, 32, 2, 0, 13, 0)
    save("clicks", header + bytes([0x6C, 0x80, 0x00, 0x40]))
PY
}

for target in "${targets[@]}"; do
    flag=$(echo "FUZZ_$target" | tr '[:lower:]' '[:upper:]')
    binary="$out/fuzz-$target"
    echo "== building $target"
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -D "$flag" -module-name QRNGFuzz \
        "${sources[@]}" FuzzReaders.swift -o "$binary" 2> "$out/build-$target.log" \
        || { cat "$out/build-$target.log"; exit 1; }
    seed "$target"
    echo "== fuzzing $target for ${seconds}s"
    (cd "$out" && "./fuzz-$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "corpus-$target" 2>&1 | tail -n 25 | tee "log-$target.txt")
done
