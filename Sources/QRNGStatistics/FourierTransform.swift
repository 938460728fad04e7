#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QRNG

/// A complex number for the FFT.
@usableFromInline
struct Complex: Sendable {
    @usableFromInline var re: Double
    @usableFromInline var im: Double

    @inlinable init(_ re: Double, _ im: Double) {
        self.re = re
        self.im = im
    }

    @inlinable static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    @inlinable static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    @inlinable static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    @inlinable static func * (a: Complex, s: Double) -> Complex { Complex(a.re * s, a.im * s) }
    @inlinable var conjugate: Complex { Complex(re, -im) }
    /// −i·z.
    @inlinable var timesMinusI: Complex { Complex(im, -re) }
    @inlinable var magnitudeSquared: Double { re * re + im * im }

    /// e^(−2πi·k/n), with k reduced first so that large k keep their precision.
    static func unitRoot(_ k: Int, _ n: Int) -> Complex {
        let angle = -2 * Double.pi * Double(k % n) / Double(n)
        return Complex(cos(angle), sin(angle))
    }
}

/// Where a transform reads its input points.
protocol ComplexSource {
    subscript(index: Int) -> Complex { get }
}

/// Input points in memory.
struct PointerSource: ComplexSource {
    let base: UnsafePointer<Complex>
    @inline(__always) subscript(index: Int) -> Complex { base[index] }
}

/// A forward discrete Fourier transform X_k = Σ_j x_j e^(−2πi·jk/N) of one fixed length N, for any N.
///
/// N is split into the radices 4, 2, 3, 5 and any other primes, and transformed by recursive decimation in
/// time (the structure of KISS FFT: each level transforms its p interleaved sub-sequences into consecutive
/// slots, then combines them in place with radix-p butterflies). Working depth first keeps the small
/// sub-transforms in cache; each level has its own contiguous twiddle table, read in order. A prime factor
/// above 64 would make its butterflies quadratic, so such N go through Bluestein's chirp-z algorithm instead:
/// a circular convolution of power-of-two length, which is again exact, not an approximation of the length-N
/// transform.
final class FourierTransform: Sendable {
    let length: Int
    private let levels: [Level]
    /// Every level's twiddles and roots, one after the other.
    private let tables: [Complex]
    private let bluestein: Bluestein?

    /// One level of the recursion: `radix`-point butterflies over `span` slots, inputs `stride` apart.
    private struct Level: Sendable {
        let radix: Int
        let span: Int
        let stride: Int
        /// Where e^(−2πi·q·k·stride/N) starts in `tables`, at [k·(radix − 1) + q − 1], q = 1…radix − 1, k < span.
        let twiddles: Int
        /// Where e^(−2πi·j/radix), j < radix, starts in `tables`, for the generic butterfly.
        let roots: Int
    }

    private struct Bluestein: Sendable {
        let inner: FourierTransform
        /// The chirp w_k = e^(−πi·k²/N), k < N.
        let chirp: [Complex]
        /// The transform of the convolution kernel conj(w), wrapped to the inner length, scaled by 1/inner.
        let kernel: [Complex]
    }

    init(length: Int) {
        precondition(length >= 1, "a transform needs at least one point")
        self.length = length
        var remaining = length
        var factors: [Int] = []
        for radix in [4, 2, 3, 5] {
            while remaining % radix == 0 {
                factors.append(radix)
                remaining /= radix
            }
        }
        var divisor = 7
        while remaining > 1 {
            if divisor * divisor > remaining { divisor = remaining }
            while remaining % divisor == 0 {
                factors.append(divisor)
                remaining /= divisor
            }
            divisor += 2
        }
        if factors.contains(where: { $0 > 64 }) {
            var inner = 1
            while inner < 2 * length - 1 { inner <<= 1 }
            let chirp = (0..<length).map { k in
                // k² mod 2N keeps the angle exact for large k.
                Complex.unitRoot((k * k) % (2 * length), 2 * length)
            }
            var kernel = [Complex](repeating: Complex(0, 0), count: inner)
            for k in 0..<length {
                kernel[k] = chirp[k].conjugate
                if k > 0 { kernel[inner - k] = chirp[k].conjugate }
            }
            let innerTransform = FourierTransform(length: inner)
            var transformed = [Complex](repeating: Complex(0, 0), count: inner)
            innerTransform.forward(kernel, into: &transformed)
            let scale = 1 / Double(inner)
            self.bluestein = Bluestein(inner: innerTransform, chirp: chirp, kernel: transformed.map { $0 * scale })
            self.levels = []
            self.tables = []
            return
        }
        self.bluestein = nil
        var levels: [Level] = []
        var tables: [Complex] = []
        var stride = 1
        var span = length
        for radix in factors {
            span /= radix
            let twiddles = tables.count
            for k in 0..<span {
                for q in 1..<radix { tables.append(Complex.unitRoot(q * k * stride, length)) }
            }
            let roots = tables.count
            for j in 0..<radix { tables.append(Complex.unitRoot(j, radix)) }
            levels.append(Level(radix: radix, span: span, stride: stride, twiddles: twiddles, roots: roots))
            stride *= radix
        }
        self.levels = levels
        self.tables = tables
    }

    /// Writes the transform of `input` (`length` points) into `output`.
    func forward(_ input: [Complex], into output: inout [Complex]) {
        precondition(input.count == length && output.count == length, "wrong transform length")
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                forward(PointerSource(base: input.baseAddress!), output.baseAddress!)
            }
        }
    }

    /// Writes the transform of the `length` points `source` gives into `output`.
    ///
    /// The points are read in the digit-reversed order of the recursion's leaves; a source that computes them
    /// (from a packed bit sequence, say) avoids gathering them from an array larger than the cache.
    @inline(__always)
    func forward<Source: ComplexSource>(_ source: Source, _ output: UnsafeMutablePointer<Complex>) {
        if let bluestein {
            let input = (0..<length).map { source[$0] }
            input.withUnsafeBufferPointer { forwardBluestein(bluestein, $0.baseAddress!, output) }
            return
        }
        if length == 1 {
            output[0] = source[0]
            return
        }
        levels.withUnsafeBufferPointer { levels in
            tables.withUnsafeBufferPointer { tables in
                transform(levels.baseAddress!, tables.baseAddress!, 0, output, source, 0)
            }
        }
    }

    private func forwardBluestein(_ plan: Bluestein, _ input: UnsafePointer<Complex>,
                                  _ output: UnsafeMutablePointer<Complex>) {
        let inner = plan.inner.length
        var work = [Complex](repeating: Complex(0, 0), count: inner)
        var spectrum = [Complex](repeating: Complex(0, 0), count: inner)
        for k in 0..<length { work[k] = input[k] * plan.chirp[k] }
        plan.inner.forward(work, into: &spectrum)
        // Convolution theorem, then the inverse transform as conj(F(conj(·))).
        for k in 0..<inner { work[k] = (spectrum[k] * plan.kernel[k]).conjugate }
        plan.inner.forward(work, into: &spectrum)
        for k in 0..<length { output[k] = spectrum[k].conjugate * plan.chirp[k] }
    }

    /// Transforms the radix·span points source[start], source[start + stride], … of level `index` into
    /// `output[0..<radix·span]`.
    private func transform<Source: ComplexSource>(_ levels: UnsafePointer<Level>, _ tables: UnsafePointer<Complex>,
                                                  _ index: Int, _ output: UnsafeMutablePointer<Complex>,
                                                  _ source: Source, _ start: Int) {
        let level = levels[index]
        let p = level.radix, m = level.span, stride = level.stride
        if m == 1 {
            for q in 0..<p { output[q] = source[start + q * stride] }
        } else {
            for q in 0..<p { transform(levels, tables, index + 1, output + q * m, source, start + q * stride) }
        }
        let tw = tables + level.twiddles
        switch p {
        case 2: Self.butterfly2(output, m, tw)
        case 3: Self.butterfly3(output, m, tw)
        case 4: Self.butterfly4(output, m, tw)
        case 5: Self.butterfly5(output, m, tw)
        default: Self.butterflyGeneric(output, m, p, tw, tables + level.roots)
        }
    }

    // Each butterfly combines slot k of the p sub-transforms (at k, k + m, …), after multiplying the q-th by
    // its twiddle, into outputs k, k + m, … of the p·m-point transform.

    @inline(__always)
    private static func butterfly2(_ f: UnsafeMutablePointer<Complex>, _ m: Int, _ tw: UnsafePointer<Complex>) {
        for k in 0..<m {
            let t = f[k + m] * tw[k]
            f[k + m] = f[k] - t
            f[k] = f[k] + t
        }
    }

    @inline(__always)
    private static func butterfly3(_ f: UnsafeMutablePointer<Complex>, _ m: Int, _ tw: UnsafePointer<Complex>) {
        let sinThird = 0.866_025_403_784_438_646_76  // sin(2π/3)
        for k in 0..<m {
            let t1 = f[k + m] * tw[2 * k]
            let t2 = f[k + 2 * m] * tw[2 * k + 1]
            let sum = t1 + t2
            let rotated = (t1 - t2).timesMinusI * sinThird
            let base = f[k] - sum * 0.5
            f[k] = f[k] + sum
            f[k + m] = base + rotated
            f[k + 2 * m] = base - rotated
        }
    }

    @inline(__always)
    private static func butterfly4(_ f: UnsafeMutablePointer<Complex>, _ m: Int, _ tw: UnsafePointer<Complex>) {
        for k in 0..<m {
            let t0 = f[k]
            let t1 = f[k + m] * tw[3 * k]
            let t2 = f[k + 2 * m] * tw[3 * k + 1]
            let t3 = f[k + 3 * m] * tw[3 * k + 2]
            let evenSum = t0 + t2, evenDifference = t0 - t2
            let oddSum = t1 + t3, oddDifference = (t1 - t3).timesMinusI
            f[k] = evenSum + oddSum
            f[k + m] = evenDifference + oddDifference
            f[k + 2 * m] = evenSum - oddSum
            f[k + 3 * m] = evenDifference - oddDifference
        }
    }

    @inline(__always)
    private static func butterfly5(_ f: UnsafeMutablePointer<Complex>, _ m: Int, _ tw: UnsafePointer<Complex>) {
        let c1 = 0.309_016_994_374_947_424_10  // cos(2π/5)
        let c2 = -0.809_016_994_374_947_424_10  // cos(4π/5)
        let s1 = 0.951_056_516_295_153_572_12  // sin(2π/5)
        let s2 = 0.587_785_252_292_473_129_17  // sin(4π/5)
        for k in 0..<m {
            let t0 = f[k]
            let t1 = f[k + m] * tw[4 * k]
            let t2 = f[k + 2 * m] * tw[4 * k + 1]
            let t3 = f[k + 3 * m] * tw[4 * k + 2]
            let t4 = f[k + 4 * m] * tw[4 * k + 3]
            let a1 = t1 + t4, b1 = t1 - t4
            let a2 = t2 + t3, b2 = t2 - t3
            let real1 = t0 + a1 * c1 + a2 * c2
            let real2 = t0 + a1 * c2 + a2 * c1
            let imaginary1 = (b1 * s1 + b2 * s2).timesMinusI
            let imaginary2 = (b1 * s2 - b2 * s1).timesMinusI
            f[k] = t0 + a1 + a2
            f[k + m] = real1 + imaginary1
            f[k + 4 * m] = real1 - imaginary1
            f[k + 2 * m] = real2 + imaginary2
            f[k + 3 * m] = real2 - imaginary2
        }
    }

    private static func butterflyGeneric(_ f: UnsafeMutablePointer<Complex>, _ m: Int, _ p: Int,
                                         _ tw: UnsafePointer<Complex>, _ roots: UnsafePointer<Complex>) {
        var scratch = [Complex](repeating: Complex(0, 0), count: p)
        for k in 0..<m {
            scratch[0] = f[k]
            for q in 1..<p { scratch[q] = f[k + q * m] * tw[(p - 1) * k + q - 1] }
            for r in 0..<p {
                var sum = scratch[0]
                for q in 1..<p { sum = sum + scratch[q] * roots[(q * r) % p] }
                f[k + r * m] = sum
            }
        }
    }
}

/// |X_k|² for k < ⌊n/2⌋ of the transform of n real values, through one complex transform of n/2 points when n
/// is even.
final class RealPowerSpectrum: Sendable {
    let length: Int
    private let complex: FourierTransform
    /// e^(−2πi·k/n) for k < n/2 (n even).
    private let halfTwiddles: [Complex]

    init(length: Int) {
        precondition(length >= 2, "the spectrum needs at least two points")
        self.length = length
        if length % 2 == 0 {
            complex = FourierTransform(length: length / 2)
            halfTwiddles = (0..<length / 2).map { Complex.unitRoot($0, length) }
        } else {
            complex = FourierTransform(length: length)
            halfTwiddles = []
        }
    }

    /// |X_k|² for k < ⌊n/2⌋ of the real inputs `x`.
    func powerSpectrum(of x: [Double]) -> [Double] {
        precondition(x.count == length, "wrong number of inputs")
        var power: [Double] = []
        power.reserveCapacity(length / 2)
        x.withUnsafeBufferPointer { x in
            let base = x.baseAddress!
            transform(pairs: RealPairSource(x: base), singles: RealSource(x: base)) { power.append($0) }
        }
        return power
    }

    /// The number of k < ⌊n/2⌋ with |X_k|² < `threshold` for x_j = 2ε_j − 1, ε the bits packed in `words`.
    func countBelow(_ threshold: Double, signsOf words: UnsafePointer<UInt64>) -> Int {
        var count = 0
        transform(pairs: SignPairSource(words: words), singles: SignSource(words: words)) {
            if $0 < threshold { count += 1 }
        }
        return count
    }

    @inline(__always)
    private func transform<Pairs: ComplexSource, Singles: ComplexSource>(pairs: Pairs, singles: Singles,
                                                                         visit: (Double) -> Void) {
        let half = length / 2
        if length % 2 == 1 {
            let output = [Complex](unsafeUninitializedCapacity: length) { buffer, initialized in
                complex.forward(singles, buffer.baseAddress!)
                initialized = length
            }
            for k in 0..<half { visit(output[k].magnitudeSquared) }
            return
        }
        // Pack even samples as real parts and odd ones as imaginary parts: Z = E + iO, where E and O are the
        // transforms of the even and odd samples, and X_k = E_k + e^(−2πi·k/n) O_k.
        let output = [Complex](unsafeUninitializedCapacity: half) { buffer, initialized in
            complex.forward(pairs, buffer.baseAddress!)
            initialized = half
        }
        output.withUnsafeBufferPointer { z in
            halfTwiddles.withUnsafeBufferPointer { twiddles in
                for k in 0..<half {
                    let a = z[k]
                    let b = z[k == 0 ? 0 : half - k].conjugate
                    let even = (a + b) * 0.5
                    let odd = (a - b).timesMinusI * 0.5
                    visit((even + twiddles[k] * odd).magnitudeSquared)
                }
            }
        }
    }
}

/// x_j as the complex point (x_j, 0).
private struct RealSource: ComplexSource {
    let x: UnsafePointer<Double>
    @inline(__always) subscript(index: Int) -> Complex { Complex(x[index], 0) }
}

/// x_2j + i·x_2j+1.
private struct RealPairSource: ComplexSource {
    let x: UnsafePointer<Double>
    @inline(__always) subscript(index: Int) -> Complex { Complex(x[2 * index], x[2 * index + 1]) }
}

/// 2ε_j − 1 as (x_j, 0), straight from the packed bits, which stay in cache where an array of doubles would not.
private struct SignSource: ComplexSource {
    let words: UnsafePointer<UInt64>
    @inline(__always) subscript(index: Int) -> Complex { Complex(Double(words.bit(at: index) * 2 - 1), 0) }
}

/// x_2j + i·x_2j+1 with x = 2ε − 1, straight from the packed bits.
private struct SignPairSource: ComplexSource {
    let words: UnsafePointer<UInt64>
    @inline(__always) subscript(index: Int) -> Complex {
        // Bits 2j and 2j + 1 never straddle a word.
        let pair = Int((words[index >> 5] >> UInt64(62 - 2 * (index & 31))) & 3)
        return Complex(Double((pair >> 1) * 2 - 1), Double((pair & 1) * 2 - 1))
    }
}
