// swift-tools-version:6.0
import PackageDescription

// A protocol engine's view of qrng: it links the QRNG library only, so it compiles none of the SP 800-22 and
// SP 800-90B suites, the command line or its argument parser.
let package = Package(
    name: "BB84Engine",
    dependencies: [
        .package(name: "qrng", path: "../../..")
    ],
    targets: [
        .executableTarget(name: "BB84Engine", dependencies: [.product(name: "QRNG", package: "qrng")])
    ],
    swiftLanguageModes: [.v6]
)
