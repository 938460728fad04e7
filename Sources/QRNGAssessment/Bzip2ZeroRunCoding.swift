internal import CQRNGAssessmentKernels
import QRNG

// bzip2's zero-run coding of move-to-front positions (RUNA/RUNB digits), by stretches or by the AVX-512 kernel.
extension Bzip2EntropyCoder {
    /// Turns MTF positions into MTF values: each run of r zeros becomes the digits of r in bijective base 2, least
    /// significant first, RUNA (0) for digit 1 and RUNB (1) for digit 2 — equivalently the bits of r + 1 below its
    /// top bit — and each other position p becomes p + 1; EOB (symbols + 1) closes the block. Returns the number
    /// of values. `positions` needs 64 readable bytes past `count`, and `values` 64 writable bytes past the last.
    ///
    /// With AVX-512VBMI2 by `qrng_bzip2_code_zero_runs_avx512`, which puts each run's digits where its zeros were
    /// and compresses out the rest, 64 positions at a time; otherwise `codeZeroRunsByStretches`.
    static func codeZeroRuns(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt8>
    ) -> Int {
        precondition(symbolCount <= 254, "MTF values must fit a byte")
        if count >= 64 && CPUFeatures.hasAVX512VBMI2 {
            let written = qrng_bzip2_code_zero_runs_avx512(positions, count, values)
            values[written] = UInt8(truncatingIfNeeded: symbolCount + 1)
            return written + 1
        }
        return codeZeroRunsByStretches(of: positions, count: count, symbolCount: symbolCount, into: values)
    }

    /// The group histograms (rows of 16) and their sum by `qrng_bzip2_group_histograms_avx512`. Call only when
    /// `CPUFeatures.hasAVX512BW`.
    static func groupHistogramsAVX512(
        values: UnsafePointer<UInt8>, valueCount: Int, alphabetSize: Int, into histograms: UnsafeMutablePointer<UInt8>,
        frequencies: UnsafeMutablePointer<Int32>
    ) {
        frequencies.withMemoryRebound(to: UInt32.self, capacity: 16) { frequencies in
            qrng_bzip2_group_histograms_avx512(values, valueCount, alphabetSize, histograms, frequencies)
        }
    }

    /// `codeZeroRuns` without AVX-512 (`values` needs 16 writable bytes past the last).
    ///
    /// The column alternates between stretches of zeros and of nonzero positions, so it is coded a stretch at a
    /// time rather than a position at a time: a 64-bit mask of the zero positions of 64 positions gives each
    /// stretch's end by a trailing-zero count; a zero stretch adds to the pending run, and a nonzero one stores the
    /// run's digits (one table word, the digits one to a byte) and then its positions plus one, sixteen at a time.
    /// Bytes stored past a stretch's end are overwritten by what follows or lie past the last value.
    static func codeZeroRunsByStretches(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var written = 0
        var run = 0
        // digits[c]: the bits of c below its top bit, one to a byte, lowest bit in the lowest byte (c < 256).
        var digitTable = [UInt64](repeating: 0, count: 256)
        for code in 2..<256 {
            for bit in 0..<(63 - UInt64(code).leadingZeroBitCount) where code >> bit & 1 == 1 {
                digitTable[code] |= 1 << (8 * UInt64(bit))
            }
        }
        let source = UnsafeRawPointer(positions)
        let target = UnsafeMutableRawPointer(values)
        digitTable.withUnsafeBufferPointer { digitTable in
            @inline(__always) func writeDigits() {
                let code = run &+ 1
                if code < 256 {
                    target.storeBytes(of: digitTable[code], toByteOffset: written, as: UInt64.self)
                    written &+= 63 &- UInt64(truncatingIfNeeded: code).leadingZeroBitCount
                } else {
                    var remaining = code
                    while remaining > 1 {
                        values[written] = UInt8(truncatingIfNeeded: remaining & 1)
                        written &+= 1
                        remaining &>>= 1
                    }
                }
            }
            let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
            var base = 0
            while base &+ 64 <= count {
                var zeros: UInt64 = 0
                for word in 0..<8 {
                    let chunk = source.loadUnaligned(fromByteOffset: base &+ 8 &* word, as: UInt64.self)
                    // The top bit of each zero byte, exactly; the multiply gathers the eight into the top byte.
                    let zeroBytes = ~(((chunk & low7) &+ low7) | chunk | low7) &>> 7
                    zeros |= ((zeroBytes &* 0x0102_0408_1020_4080) &>> 56) &<< UInt64(8 &* word)
                }
                var nonzeros = ~zeros
                var stretchStart = 0
                while true {
                    let start = nonzeros.trailingZeroBitCount
                    run &+= start &- stretchStart
                    if start == 64 { break }
                    // At the chunk's first position the pending run may be empty: its code 1 has no digits.
                    writeDigits()
                    run = 0
                    zeros &= UInt64.max &<< UInt64(start)
                    let end = zeros.trailingZeroBitCount
                    var offset = start
                    repeat {
                        let chunk = source.loadUnaligned(fromByteOffset: base &+ offset, as: SIMD16<UInt8>.self)
                        target.storeBytes(
                            of: chunk &+ SIMD16(repeating: 1), toByteOffset: written &+ offset &- start,
                            as: SIMD16<UInt8>.self)
                        offset &+= 16
                    } while offset < end
                    written &+= end &- start
                    if end == 64 { break }
                    nonzeros &= UInt64.max &<< UInt64(end)
                    stretchStart = end
                }
                base &+= 64
            }
            for index in base..<count {
                let position = Int(positions[index])
                if position == 0 {
                    run &+= 1
                } else {
                    if run > 0 { writeDigits() }
                    run = 0
                    values[written] = UInt8(truncatingIfNeeded: position &+ 1)
                    written &+= 1
                }
            }
            if run > 0 { writeDigits() }
        }
        values[written] = UInt8(truncatingIfNeeded: symbolCount + 1)
        return written + 1
    }

    /// `codeZeroRuns` for alphabets of more than 256 values, whose values take 16 bits: each position in turn.
    static func codeZeroRuns(
        of positions: UnsafePointer<UInt8>, count: Int, symbolCount: Int, into values: UnsafeMutablePointer<UInt16>
    ) -> Int {
        var written = 0
        var run = 0
        @inline(__always) func writeDigits() {
            var code = run + 1
            while code > 1 {
                values[written] = UInt16(truncatingIfNeeded: code & 1)
                written += 1
                code >>= 1
            }
        }
        for index in 0..<count {
            let position = Int(positions[index])
            if position == 0 {
                run += 1
            } else {
                writeDigits()
                run = 0
                values[written] = UInt16(truncatingIfNeeded: position + 1)
                written += 1
            }
        }
        writeDigits()
        values[written] = UInt16(truncatingIfNeeded: symbolCount + 1)
        return written + 1
    }
}
