import Dispatch
import Foundation
import QRNG
import Synchronization
import Testing

@Suite struct ChoiceTests {
    static func pool(bits: BitBuffer) throws -> EntropyPool {
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 1 << 24)
        try pool.deposit(bits)
        return pool
    }

    static func bits(_ text: String) -> BitBuffer {
        var bits = BitBuffer()
        for character in text where character != " " { bits.append(character == "1") }
        return bits
    }

    static func random(_ count: Int, seed: UInt64) -> BitBuffer {
        var generator = Xoshiro256StarStar(seed: seed)
        return BitBuffer(words: (0..<(count + 63) / 64).map { _ in generator.next() }, count: count)
    }

    /// p = 0.75 = 0.11₂ with k = 2: u₁ = 0 decides rectilinear after one bit; u₁u₂ = 10 rectilinear after
    /// two; 11 equals p, so u ≥ p: diagonal after two.
    @Test func biasedChoicesReadBitsUpToTheFirstDifference() throws {
        let pool = try Self.pool(bits: Self.bits("0 10 11 0 11 10") + Self.random(1000, seed: 1))
        let choices = try pool.biasedBasisChoices(count: 6, probabilityOfRectilinear: 0.75, precisionBits: 2)
        #expect(choices == [.rectilinear, .rectilinear, .diagonal, .rectilinear, .diagonal, .rectilinear])
    }

    @Test func biasedChoicesHaveTheRequestedFrequency() throws {
        let count = 200_000
        let pool = try Self.pool(bits: Self.random(8 * count, seed: 2))
        let before = pool.availableBits
        let choices = try pool.biasedBasisChoices(count: count, probabilityOfRectilinear: 0.9)
        let rectilinear = choices.filter { $0 == .rectilinear }.count
        let sigma = (Double(count) * 0.9 * 0.1).squareRoot()
        #expect(abs(Double(rectilinear) - 0.9 * Double(count)) < 5 * sigma)
        let used = before - pool.availableBits
        #expect(used < 2 * count + count / 8 + 256, "about two bits per choice, took \(used)")
        #expect(try pool.biasedBasisChoices(count: 10, probabilityOfRectilinear: 1).allSatisfy { $0 == .rectilinear })
        #expect(try pool.biasedBasisChoices(count: 10, probabilityOfRectilinear: 0).allSatisfy { $0 == .diagonal })
        #expect(throws: QRNGError.self) { try pool.biasedBasisChoices(count: 1, probabilityOfRectilinear: 1.5) }
    }

    /// Five choices read a byte at a time: 243 of 256 values give five base-3 digits, least significant first,
    /// and 243 or above is rejected. One choice reads two bits at a time: 3 is rejected.
    @Test func sixStateChoicesWithoutBias() throws {
        let bytes: [UInt8] = [250, 100, 0b11_10_01_00]  // 100 = 1·81 + 0·27 + 2·9 + 0·3 + 1
        let pool = try Self.pool(bits: BitBuffer(packedBytes: bytes) + Self.random(64, seed: 3))
        #expect(try pool.sixStateBasisChoices(count: 5) == [.diagonal, .rectilinear, .circular, .rectilinear, .diagonal])
        #expect(try pool.sixStateBasisChoices(count: 1) == [.circular])  // 11 rejected, then 10 = 2
    }

    @Test func uniformIntegersStayInRangeAndAreUniform() throws {
        let pool = try Self.pool(bits: Self.random(1 << 22, seed: 4))
        let values = try pool.uniformIntegers(count: 60_000, in: 10...15)
        #expect(values.allSatisfy { (10...15).contains($0) })
        var counts = [Int](repeating: 0, count: 6)
        for value in values { counts[value - 10] += 1 }
        let chiSquare = counts.reduce(0.0) { $0 + pow(Double($1) - 10_000, 2) / 10_000 }
        #expect(chiSquare < 30, "χ² with 5 degrees of freedom: \(chiSquare)")  // P(χ²₅ > 30) ≈ 1.5·10⁻⁵
        #expect(try pool.uniformIntegers(count: 3, in: 7...7) == [7, 7, 7])
        #expect(try pool.uniformIntegers(count: 100, in: Int.min...Int.max).count == 100)
    }

    @Test func bulkBasisChoicesExpandEachBit() throws {
        let content = Self.random(1003, seed: 5)
        let pool = try Self.pool(bits: content)
        var choices = [Basis](repeating: .diagonal, count: 1003)
        try choices.withUnsafeMutableBufferPointer { try pool.basisChoices(into: $0) }
        #expect(choices == (0..<1003).map { content[$0] ? .diagonal : .rectilinear })
    }

    @Test func asyncReadsWaitForTheProducer() async throws {
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 4096)
        let content = Self.random(800, seed: 6)
        Thread.detachNewThread {
            usleep(20_000)
            try? pool.deposit(content)
        }
        let bytes = try await pool.randomBytes(count: 100)
        #expect(bytes == content.packedBytes())
        var chunks = pool.chunks(ofSize: 4).makeAsyncIterator()
        pool.close()
        #expect(try await chunks.next() == nil, "a normally closed pool ends the sequence")
    }

    @Test func interruptionWakesAWaitingConsumerWithTheFailure() throws {
        let pool = EntropyPool(provenance: Provenance(kind: .simulated, detail: "test"), capacityBits: 4096)
        let caught = Mutex<QRNGError?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try pool.take(bits: 64) } catch let error as QRNGError { caught.withLock { $0 = error } } catch {}
            done.signal()
        }
        usleep(20_000)
        let failure = QRNGError(.healthTestFailure, "intermittent")
        pool.interruptWaiters(with: failure)
        done.wait()
        #expect(caught.withLock { $0 } == failure)
        try pool.deposit(Self.random(64, seed: 7))
        #expect(try pool.take(bits: 64).count == 64, "the pool keeps working after an interruption")
    }
}

extension BitBuffer {
    static func + (lhs: BitBuffer, rhs: BitBuffer) -> BitBuffer {
        var result = lhs
        result.append(contentsOf: rhs)
        return result
    }
}
