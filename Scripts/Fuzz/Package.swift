// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer harnesses for every reader of untrusted files. Not part of the product or of CI:
/// `Scripts/fuzz.sh` builds this with `--sanitize=fuzzer,address` and runs each target.
let package = Package(
    name: "FlashKMeansFuzz",
    dependencies: [.package(name: "FlashKMeans", path: "../..")],
    targets: [
        .executableTarget(
            name: "flashkmeans-fuzz",
            dependencies: [.product(name: "FlashKMeans", package: "FlashKMeans")],
            // libFuzzer supplies `main`; this target only defines the callbacks.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
