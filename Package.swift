// swift-tools-version: 6.1
import PackageDescription

/// No unsafe flags anywhere, so that other packages can depend on FlashKMeans by version.
/// The few loops that need CPU-specific SIMD live in the `CKMeansKernels` C target, compiled
/// there for several x86-64 levels and chosen at load time, so one portable binary uses
/// AVX-512 or AVX2 where the CPU has them.
///
/// Debug builds (and so the tests) also check, at every use, that pruning bounds really
/// bound the distances: `KMEANS_INTERNAL_CHECKS`.
let engineSettings: [SwiftSetting] = [.define("KMEANS_INTERNAL_CHECKS", .when(configuration: .debug))]

let package = Package(
    name: "FlashKMeans",
    products: [
        .library(name: "FlashKMeans", targets: ["FlashKMeans"]),
        /// Baselines for the `Benchmarks` package (plain `sgemm` through the same tile
        /// engine); not part of the library's API.
        .library(name: "_FlashKMeansBenchmarkSupport", targets: ["_FlashKMeansBenchmarkSupport"]),
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
            dependencies: ["COpenBLAS", "CHDF5", "CKMeansKernels", "CMappingGuard"],
            swiftSettings: engineSettings
        ),
        /// The hot SIMD loops in C, each compiled for SSE2, AVX2 and AVX-512 (NEON on arm64)
        /// with the best level picked when the library loads (`FLASHKMEANS_SIMD` caps it).
        .target(name: "CKMeansKernels"),
        /// Turns the SIGBUS of reading a mapped file that another process shrank into a
        /// counted fault, so that readers report the file as changed instead of crashing.
        .target(name: "CMappingGuard"),
        /// Open MPI, loaded with `dlopen` only when `mpirun` or `srun` started the process:
        /// the command needs nothing of MPI to run on one machine, nor to build.
        .target(name: "CMPILoader"),
        /// The `flashkmeans` command: a thin ArgumentParser layer over the library.
        .executableTarget(
            name: "flashkmeans",
            dependencies: [
                "FlashKMeans",
                "CMPILoader",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// What the benchmarks measure the fused kernel against; uses the engine's
        /// package-level API, so it lives in this package, outside the library product.
        .target(
            name: "_FlashKMeansBenchmarkSupport",
            dependencies: ["FlashKMeans", "COpenBLAS"]
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
            dependencies: ["FlashKMeans", "_FlashKMeansTestSupport"],
            exclude: ["FuzzReproducers", "Fixtures"]
        ),
        /// Runs the built `flashkmeans` binary as a user would: exit codes, messages, written files.
        .testTarget(
            name: "flashkmeansTests",
            dependencies: ["flashkmeans", "_FlashKMeansTestSupport"]
        ),
    ]
)
