// swift-tools-version:6.0
import PackageDescription

// One module per role, each depending only on what is below it:
//   QRNG (the pipeline a protocol engine links) ← QRNGStatistics, QRNGAssessment, QRNGServer ← QRNGCLI ← qrng.
// C reaches only what Swift cannot: one door per purpose, each with one header.
let package = Package(
    name: "qrng",
    products: [
        .library(name: "QRNG", targets: ["QRNG"]),
        .library(name: "QRNGStatistics", targets: ["QRNGStatistics"]),
        .library(name: "QRNGAssessment", targets: ["QRNGAssessment"]),
        .executable(name: "qrng", targets: ["qrng"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // NIOCore directly: response bodies of random bytes use its custom-allocator SPI (2.101.2 and later) so that
        // they are zeroed when freed.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // The client side of remote sources: a node pulling randomness from other qrng nodes over HTTPS.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // OpenSSL's libcrypto for SHA-256; only QRNG/Crypto imports it.
        .systemLibrary(name: "CQRNGOpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Carry-less multiplication (PCLMULQDQ, VPCLMULQDQ) for Toeplitz hashing.
        .target(name: "CQRNGCarrylessMultiply"),
        // Bit gathering (PEXT) and big-endian word moves for the pipeline's bit handling.
        .target(name: "CQRNGBitKernels"),
        // AVX2 / AVX-512 loops of the SP 800-90B assessment: permutation statistics, shuffle, bzip2 back end.
        .target(name: "CQRNGAssessmentKernels"),
        // Sources, health tests, extractors, pipeline, pool and consumers: what a protocol engine links.
        .target(name: "QRNG", dependencies: ["CQRNGOpenSSL", "CQRNGCarrylessMultiply", "CQRNGBitKernels"]),
        // SP 800-22 Rev 1a statistical tests.
        .target(name: "QRNGStatistics", dependencies: ["QRNG"]),
        // SP 800-90B min-entropy estimators, IID permutation tests and the compression statistic.
        .target(name: "QRNGAssessment", dependencies: ["QRNG", "CQRNGAssessmentKernels", "CQRNGBitKernels"]),
        // The network service: randomness over HTTP(S) on Hummingbird, fed from the pool.
        .target(
            name: "QRNGServer",
            dependencies: [
                "QRNG",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The HTTP/1 parser's errors and the request and response parts, for the 431 of an oversized head.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Client certificates' subject names; already built for NIOSSL's neighbours in the graph.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The API's description, held to by tools/openapi_conformance.sh (schemathesis) in .ci/run.
            exclude: ["openapi.yaml", "KeyDelivery/etsi014.yaml"]
        ),
        // The `qrng` command line and its benchmarks.
        .target(
            name: "QRNGCLI",
            dependencies: [
                "QRNG", "QRNGStatistics", "QRNGAssessment", "QRNGServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "qrng", dependencies: ["QRNGCLI"]),
        // Known-answer files and seeded inputs shared by the test targets.
        .target(name: "QRNGTestSupport", dependencies: ["QRNG"], path: "Tests/QRNGTestSupport"),
        .testTarget(name: "QRNGTests", dependencies: ["QRNG", "QRNGTestSupport"]),
        .testTarget(name: "QRNGStatisticsTests", dependencies: ["QRNGStatistics", "QRNGTestSupport"]),
        .testTarget(name: "QRNGAssessmentTests", dependencies: ["QRNGAssessment", "QRNGTestSupport"]),
        .testTarget(
            name: "QRNGServerTests",
            dependencies: ["QRNGServer", "QRNG", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "QRNGCLITests",
            dependencies: ["QRNGCLI", "QRNG", "QRNGServer", "QRNGStatistics", "QRNGAssessment", "QRNGTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
