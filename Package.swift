// swift-tools-version: 6.1
import PackageDescription

/// Release builds of the engine target the CPU they are built on (like `-march=native`):
/// the kernel's SIMD16 loops then use AVX-512 or AVX2 instead of four SSE halves, and
/// the assignment sweep runs about 15% faster on 1M × 128, k = 1024. Set
/// FLASHKMEANS_PORTABLE=1 to build a binary that runs on any CPU of the architecture.
/// Results do not depend on the choice: labels are re-ranked in float64 wherever
/// float32 rounding could decide them, and Swift never fuses multiply-adds on its own.
/// Debug builds (and so the tests) also check, at every use, that pruning bounds really
/// bound the distances: `KMEANS_INTERNAL_CHECKS`.
let engineSettings: [SwiftSetting] = [.define("KMEANS_INTERNAL_CHECKS", .when(configuration: .debug))]
    + (Context.environment["FLASHKMEANS_PORTABLE"] == nil
        ? [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        : [])

let package = Package(
    name: "FlashKMeans",
    products: [
        .library(name: "FlashKMeans", targets: ["FlashKMeans"]),
        .executable(name: "flashkmeans", targets: ["flashkmeans"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: Public targets

        /// The engine: input readers, the fused tiled kernel, initialization and the Lloyd driver.
        .target(
            name: "FlashKMeans",
            dependencies: ["COpenBLAS", "CHDF5"],
            swiftSettings: engineSettings
        ),
        /// The `flashkmeans` command: a thin ArgumentParser layer over the library.
        .executableTarget(
            name: "flashkmeans",
            dependencies: [
                "FlashKMeans",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: System libraries (found through pkg-config; see ../shared/LINKING.md)

        /// OpenBLAS's CBLAS interface, for `cblas_sgemm`.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        /// Serial HDF5, with a shim for the macros Swift cannot import.
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),

        // MARK: Tests

        /// The float64 reference Lloyd (the judge) and fixture writers shared by the test targets.
        .target(
            name: "_FlashKMeansTestSupport",
            dependencies: ["FlashKMeans", "CHDF5"],
            path: "Tests/_FlashKMeansTestSupport"
        ),
        .testTarget(
            name: "FlashKMeansTests",
            dependencies: ["FlashKMeans", "_FlashKMeansTestSupport"]
        ),
        /// Runs the built `flashkmeans` binary as a user would: exit codes, messages, written files.
        .testTarget(
            name: "flashkmeansTests",
            dependencies: ["flashkmeans", "_FlashKMeansTestSupport"]
        ),
    ]
)
