// libFuzzer entry points for qrng's file readers, one per format, chosen at compile time with
// -D FUZZ_BINARY, -D FUZZ_CSV, -D FUZZ_PTU or -D FUZZ_CLICKS. run.sh builds and runs them.
//
// The first input byte picks how the rest is read: the error policy, the size of the pieces the input arrives in
// (as from a pipe), the read window and the number of tags or pulses asked for per call, so that every split of
// a record and both policies are exercised. Readers must never crash: every malformed input must end in a
// QRNGError. Anything else (a trap, an overflow, an out-of-bounds access, a leak) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let policy: ErrorPolicy = control & 1 == 0 ? .stop : .skip
    let piece = [1, 3, 64, 4096, Int.max][Int(control >> 1) % 5]
    let window = control & 0x40 == 0 ? 64 : 1 << 16
    let chunk = control & 0x80 == 0 ? 7 : 4096
    let options = TimeTagReadOptions(errorPolicy: policy, bufferBytes: window)
    #if FUZZ_BINARY
    if let reader = try? BinaryTimeTagReader(bytes: bytes, pieceSize: piece, options: options) {
        drain(reader, chunk: chunk)
    }
    // The same input as a stream of tags for the click rules, which must cope with any tag sequence.
    let rules: [TimeTagClickSource.Rule] = [
        .pulsed(PulsedClickRule(syncChannel: 0, d0Channel: 1, d1Channel: 2, delay: 3, window: 50)),
        .continuous(CoincidenceClickRule(d0Channel: 1, d1Channel: 2, window: 40)),
    ]
    for rule in rules {
        guard let reader = try? BinaryTimeTagReader(bytes: bytes, pieceSize: piece, options: options),
            var clicks = try? TimeTagClickSource(reader: reader, rule: rule)
        else { continue }
        // A gap of 2⁶⁴ ps is 2⁵⁹ empty continuous-wave bins, all legitimately handed out; bound the calls so a
        // long gap is not mistaken for a hang.
        var buffer = ClickBuffer()
        var calls = 0
        while calls < 200, (try? clicks.nextPulses(chunk, into: &buffer)) == true { calls += 1 }
    }
    #elseif FUZZ_CSV
    if let reader = try? CSVTimeTagReader(bytes: bytes, pieceSize: piece, options: options) {
        drain(reader, chunk: chunk)
    }
    #elseif FUZZ_PTU
    if let reader = try? PTUReader(bytes: bytes, pieceSize: piece, options: options) {
        drain(reader, chunk: chunk)
    }
    #elseif FUZZ_CLICKS
    if let reader = try? PackedClickReader(bytes: bytes, pieceSize: piece, errorPolicy: policy, bufferBytes: window) {
        var source = reader
        var buffer = ClickBuffer()
        while (try? source.nextPulses(chunk * 5, into: &buffer)) == true {}
    }
    #endif
    return 0
}

/// Reads until the end or an error, checking what every reader promises: timestamps never decrease.
func drain(_ reader: some TimeTagReader, chunk: Int) {
    var tags: [TimeTag] = []
    var last: UInt64 = 0
    while (try? reader.read(into: &tags, maximumCount: chunk)) == true {
        for tag in tags {
            precondition(tag.picoseconds >= last, "a reader delivered a timestamp going backwards")
            last = tag.picoseconds
        }
    }
}
