internal import CQRNGAssessmentKernels
internal import CQRNGBitKernels
import QRNG

/// Which of `CQRNGAssessmentKernels`' kernels this CPU can run, each checked once for the whole module (the checks
/// also ask whether the operating system saves the vector registers they use). Every kernel has a portable Swift
/// path for when its check fails.
enum CPUFeatures {
    static let hasAVX2 = qrng_cpu_has_avx2()
    /// AVX-512 F and BW, and POPCNT.
    static let hasAVX512BW = qrng_cpu_has_avx512_bw()
    /// AVX-512 F, BW and VBMI.
    static let hasAVX512VBMI = qrng_cpu_has_avx512_vbmi()
    /// AVX-512 F, BW, VBMI and VBMI2, and BMI2.
    static let hasAVX512VBMI2 = qrng_cpu_has_avx512_vbmi2()
    /// AVX-512 F, BW and VNNI.
    static let hasAVX512VNNI = qrng_cpu_has_avx512_vnni()
}
