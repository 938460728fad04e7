// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "qrng",
    products: [
        .library(name: "QRNG", targets: ["QRNG"]),
        .executable(name: "qrng", targets: ["qrng"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // The one door to OpenSSL's libcrypto; only QRNG/Crypto imports it.
        .systemLibrary(
            name: "CQRNGOpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // CPU intrinsics only (carry-less multiply), with run-time feature checks.
        .target(
            name: "CQRNGIntrinsics"
        ),
        .target(
            name: "QRNG",
            dependencies: ["CQRNGOpenSSL", "CQRNGIntrinsics"]
        ),
        .target(
            name: "QRNGCLI",
            dependencies: [
                "QRNG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "qrng",
            dependencies: ["QRNGCLI"]
        ),
        .testTarget(
            name: "QRNGTests",
            dependencies: ["QRNG"]
        ),
        .testTarget(
            name: "QRNGCLITests",
            dependencies: ["QRNGCLI", "QRNG"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
