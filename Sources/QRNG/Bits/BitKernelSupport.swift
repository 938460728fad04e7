internal import CQRNGBitKernels

/// Which of `CQRNGBitKernels`' kernels this CPU can run, each checked once (the checks also ask whether the
/// operating system saves the vector registers they use). Every kernel has a portable Swift path for when its
/// check fails.
enum BitKernelSupport {
    static let hasAVX2 = qrng_cpu_has_avx2()
}
