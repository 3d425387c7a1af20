// swift-tools-version: 6.1
import PackageDescription

// A package of its own, so that the main package and its CI never build the benchmark
// machinery. Run from this folder: swift package --allow-writing-to-package-directory benchmark
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "FlashKMeans", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: ["Kernels", "Algorithms", "IO", "EndToEnd"].map { suite in
        .executableTarget(
            name: suite,
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FlashKMeans", package: "FlashKMeans"),
                .product(name: "_FlashKMeansBenchmarkSupport", package: "FlashKMeans"),
            ],
            path: "Benchmarks/\(suite)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
