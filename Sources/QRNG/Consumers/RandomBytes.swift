extension EntropyPool {
    /// Returns `count` fresh random bytes, waiting for the pool as needed.
    ///
    /// - Throws: The pool's closing reason, when it closes first.
    public func randomBytes(count: Int) throws(QRNGError) -> [UInt8] {
        guard count >= 0 else { throw .invalidArgument("byte count", "must not be negative, got \(count)") }
        var bytes = [UInt8](repeating: 0, count: count)
        try fill(&bytes)
        return bytes
    }

    /// Returns `count` fresh random 64-bit words, waiting for the pool as needed.
    public func randomWords(count: Int) throws(QRNGError) -> [UInt64] {
        guard count >= 0 else { throw .invalidArgument("word count", "must not be negative, got \(count)") }
        var words = [UInt64](repeating: 0, count: count)
        try fill(&words)
        return words
    }

    /// Fills an array's bytes from the pool; `withUnsafeMutableBytes` only rethrows untyped errors, hence `Result`.
    private func fill<Element>(_ array: inout [Element]) throws(QRNGError) {
        let outcome = array.withUnsafeMutableBytes { buffer in
            Result { () throws(QRNGError) in try read(into: buffer) }
        }
        try outcome.get()
    }
}
