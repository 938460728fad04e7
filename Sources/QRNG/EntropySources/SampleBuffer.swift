/// A run of raw samples from an entropy source, each `bitsPerSample` bits wide, as the health tests see them.
///
/// Binary samples (one bit each, as from a beam splitter) are kept packed in a ``BitBuffer``; wider samples
/// (arrival-time bins) are kept one per `UInt16`. Either way ``appendBits(to:)`` turns them into the packed bit
/// string that the extractors take, each sample contributing its `bitsPerSample` bits, most significant first.
public struct SampleBuffer: Sendable, Equatable {
    /// How the samples are stored.
    package enum Storage: Sendable, Equatable {
        /// One-bit samples, packed.
        case binary(BitBuffer)
        /// Samples of 2 to 16 bits, one per element.
        case wide([UInt16])
    }

    /// The width of each sample, 1 to 16 bits.
    public let bitsPerSample: Int
    /// The samples.
    package private(set) var storage: Storage

    /// Creates an empty buffer for samples of `bitsPerSample` bits.
    public init(bitsPerSample: Int) {
        precondition((1...16).contains(bitsPerSample), "samples are 1 to 16 bits wide")
        self.bitsPerSample = bitsPerSample
        self.storage = bitsPerSample == 1 ? .binary(BitBuffer()) : .wide([])
    }

    /// Creates a buffer of one-bit samples.
    public init(bits: BitBuffer) {
        self.bitsPerSample = 1
        self.storage = .binary(bits)
    }

    /// Creates a buffer of `bitsPerSample`-bit samples; every value must fit in that width.
    public init(values: [UInt16], bitsPerSample: Int) {
        precondition((2...16).contains(bitsPerSample), "wide samples are 2 to 16 bits wide")
        precondition(values.allSatisfy { Int($0) >> bitsPerSample == 0 }, "a sample does not fit its width")
        self.bitsPerSample = bitsPerSample
        self.storage = .wide(values)
    }

    /// The number of samples.
    public var count: Int {
        switch storage {
        case .binary(let bits): bits.count
        case .wide(let values): values.count
        }
    }

    /// Whether the buffer holds no samples.
    public var isEmpty: Bool { count == 0 }

    /// The sample at `index`.
    public subscript(index: Int) -> UInt16 {
        switch storage {
        case .binary(let bits): bits[index] ? 1 : 0
        case .wide(let values): values[index]
        }
    }

    /// Appends one sample; it must fit in `bitsPerSample` bits.
    public mutating func append(_ sample: UInt16) {
        precondition(Int(sample) >> bitsPerSample == 0, "a sample does not fit its width")
        switch storage {
        case .binary(var bits):
            storage = .wide([])  // release the reference so the append does not copy
            bits.append(sample == 1)
            storage = .binary(bits)
        case .wide(var values):
            storage = .wide([])
            values.append(sample)
            storage = .wide(values)
        }
    }

    /// Appends each of `bytes` as one sample; the buffer's samples must be 8 bits wide.
    package mutating func append(bytes: UnsafeRawBufferPointer) {
        precondition(bitsPerSample == 8, "bytes are 8-bit samples")
        guard case .wide(var values) = storage else { preconditionFailure("8-bit samples are stored wide") }
        storage = .binary(BitBuffer())  // release the reference so the append does not copy
        values.append(contentsOf: bytes.lazy.map(UInt16.init))
        storage = .wide(values)
    }

    /// Removes every sample, zeroing packed storage.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        switch storage {
        case .binary(var bits):
            storage = .wide([])
            bits.removeAll(keepingCapacity: keepingCapacity)
            storage = .binary(bits)
        case .wide(var values):
            storage = .binary(BitBuffer())
            values.removeAll(keepingCapacity: keepingCapacity)
            storage = .wide(values)
        }
    }

    /// Appends the samples of `other`, which must have the same width.
    public mutating func append(contentsOf other: SampleBuffer) {
        precondition(other.bitsPerSample == bitsPerSample, "sample widths differ")
        switch (storage, other.storage) {
        case (.binary(var bits), .binary(let more)):
            storage = .wide([])
            bits.append(contentsOf: more)
            storage = .binary(bits)
        case (.wide(var values), .wide(let more)):
            storage = .binary(BitBuffer())
            values.append(contentsOf: more)
            storage = .wide(values)
        default:
            preconditionFailure("sample storage differs for the same width")
        }
    }

    /// Removes the first `k` samples, zeroing them.
    public mutating func removeFirst(_ k: Int) {
        precondition(k >= 0 && k <= count, "cannot remove more samples than there are")
        switch storage {
        case .binary(var bits):
            storage = .wide([])
            bits.removeFirst(k)
            storage = .binary(bits)
        case .wide(var values):
            storage = .binary(BitBuffer())
            values.withUnsafeMutableBufferPointer { values in
                secureZero(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: values[..<k])))
            }
            values.removeFirst(k)
            storage = .wide(values)
        }
    }

    /// Appends the samples in `range`, `bitsPerSample` bits each, most significant first, to `bits`.
    public func appendBits(of range: Range<Int>, to bits: inout BitBuffer) {
        switch storage {
        case .binary(let samples):
            bits.append(contentsOf: samples, range: range)
        case .wide(let values):
            values.withUnsafeBufferPointer { values in
                bits.append(samples: UnsafeBufferPointer(rebasing: values[range]), width: bitsPerSample)
            }
        }
    }

    /// Appends all samples, `bitsPerSample` bits each, to `bits`.
    public func appendBits(to bits: inout BitBuffer) {
        appendBits(of: 0..<count, to: &bits)
    }
}
