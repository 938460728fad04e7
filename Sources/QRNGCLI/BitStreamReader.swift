import Foundation
import QRNG
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or standard input as a stream of bits, one sequence at a time.
///
/// Sequence i is bits [i·n, (i + 1)·n) of the stream, as in NIST STS; n need not be a multiple of 8.
struct BitStreamReader {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let name: String
    private let format: RunStatisticalTests.Format
    /// Binary input: bytes read, of which the first `offset` bits were handed out.
    private var bytes: [UInt8] = []
    /// ASCII input: the bits decoded, of which the first `offset` were handed out.
    private var decoded = BitBuffer()
    private var offset = 0
    private var bytesRead: UInt64 = 0
    private var atEnd = false
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)

    init(path: String, format: RunStatisticalTests.Format) throws {
        self.format = format
        if path == "-" {
            name = "standard input"
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            name = path
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                throw QRNGError(.systemCall, "cannot open for reading", context: .init(file: path, errno: errno))
            }
            descriptor = opened
            ownsDescriptor = true
        }
    }

    /// Bits read but not yet handed out.
    var bufferedBits: Int { (format == .binary ? bytes.count * 8 : decoded.count) - offset }

    /// The next `count` bits, or `nil` when the input ends first.
    mutating func next(_ count: Int) throws -> BitBuffer? {
        while bufferedBits < count && !atEnd { try fill() }
        guard bufferedBits >= count else { return nil }
        let sequence: BitBuffer
        switch format {
        case .binary:
            sequence = bytes.withUnsafeBytes { Self.bits($0, from: offset, count: count) }
            offset += count
            if offset / 8 >= max(bytes.count / 2, 1 << 16) {
                bytes.removeFirst(offset / 8)
                offset %= 8
            }
        case .ascii:
            sequence = decoded.extracting(offset..<offset + count)
            offset += count
            if offset >= max(decoded.count / 2, 1 << 19) {
                decoded.removeFirst(offset)
                offset = 0
            }
        }
        return sequence
    }

    /// `count` bits of `bytes` (packed MSB-first) from bit `start`, assembled a word at a time.
    static func bits(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> BitBuffer {
        let firstByte = start / 8
        let shift = UInt64(start % 8)
        func byte(_ index: Int) -> UInt64 { index < bytes.count ? UInt64(bytes[index]) : 0 }
        func alignedWord(_ index: Int) -> UInt64 {
            var word: UInt64 = 0
            for k in 0..<8 { word = word << 8 | byte(firstByte + 8 * index + k) }
            return word
        }
        let wordCount = (count + 63) / 64
        var words = [UInt64](repeating: 0, count: wordCount)
        var next = alignedWord(0)
        for index in 0..<wordCount {
            let current = next
            next = alignedWord(index + 1)
            words[index] = shift == 0 ? current : current << shift | next >> (64 - shift)
        }
        return BitBuffer(words: words, count: count)
    }

    private mutating func fill() throws {
        let received = chunk.withUnsafeMutableBytes { buffer -> Int in
            while true {
                let result = read(descriptor, buffer.baseAddress!, buffer.count)
                if result >= 0 || errno != EINTR { return result }
            }
        }
        guard received >= 0 else {
            throw QRNGError(.systemCall, "read failed", context: .init(file: name, byteOffset: bytesRead, errno: errno))
        }
        if received == 0 {
            atEnd = true
            return
        }
        switch format {
        case .binary:
            bytes.append(contentsOf: chunk[0..<received])
        case .ascii:
            for (index, byte) in chunk[0..<received].enumerated() {
                switch byte {
                case UInt8(ascii: "0"): decoded.append(false)
                case UInt8(ascii: "1"): decoded.append(true)
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
                default:
                    let shown = byte >= 0x20 && byte < 0x7f
                        ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
                    throw QRNGError(.invalidInput, "\(shown) is not an ASCII 0 or 1",
                                    context: .init(file: name, byteOffset: bytesRead + UInt64(index)))
                }
            }
        }
        bytesRead += UInt64(received)
    }

    func close() {
        if ownsDescriptor { _ = Glibc.close(descriptor) }
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal and the run takes a while.
final class ProgressBar {
    private let total: Int?
    private let start = Date()
    private var drawn = false
    private let enabled = isatty(STDERR_FILENO) == 1

    init(total: Int?) { self.total = total }

    func update(_ done: Int) {
        guard enabled, Date().timeIntervalSince(start) > 0.5 else { return }
        let width = 30
        var line: String
        if let total, total > 0 {
            let filled = min(width, done * width / total)
            line = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
                + "] \(done)/\(total) sequences"
        } else {
            line = "\(done) sequences"
        }
        line += String(format: ", %.1f s", Date().timeIntervalSince(start))
        printToStandardErrorWithoutNewline("\r" + line + "\u{1B}[K")
        drawn = true
    }

    func finish() {
        if drawn { printToStandardErrorWithoutNewline("\r\u{1B}[K") }
    }

    private func printToStandardErrorWithoutNewline(_ text: String) {
        var text = text
        text.withUTF8 { bytes in try? writeAll(UnsafeRawBufferPointer(bytes), to: STDERR_FILENO) }
    }
}
