import QRNG
import Testing

@Suite struct ZeroingByteQueueTests {
    /// Bytes come out in order across compactions, and what was taken is gone.
    @Test func firstInFirstOutAcrossCompactions() {
        var queue = ZeroingByteQueue()
        var next: UInt8 = 0
        var expected: UInt8 = 0
        for round in 0..<50 {
            let chunk = (0..<(round % 7 + 5)).map { _ -> UInt8 in defer { next &+= 1 }; return next }
            chunk.withUnsafeBytes { queue.append($0) }
            var out = [UInt8](repeating: 0, count: round % 5 + 3)
            let taken = out.withUnsafeMutableBytes { queue.take(into: $0) }
            for byte in out[0..<taken] {
                #expect(byte == expected)
                expected &+= 1
            }
        }
        #expect(queue.count == Int(next &- expected))
        if queue.count > 0 { #expect(queue[0] == expected) }
        queue.removeAll()
        #expect(queue.count == 0)
    }
}
