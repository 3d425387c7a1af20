#!/usr/bin/env bash
# Checks that another package can depend on FlashKMeans by version: snapshots this working
# tree into a git repository tagged with the library's version, builds a small consumer
# package that depends on it through a file:// URL and `from:` that version, and runs it
# (it clusters a few rows through the library API and checks the result).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FlashKMeans/Results/RunReport.swift)

# The tree as it is now, committed files and new ones alike, without what git ignores.
mkdir "$work/FlashKMeans"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
    [ -e "$file" ] && cp --parents -- "$file" "$work/FlashKMeans/"
done
git -C "$work/FlashKMeans" init -q
git -C "$work/FlashKMeans" add -A
git -C "$work/FlashKMeans" -c user.name=check -c user.email=check@localhost commit -qm snapshot
git -C "$work/FlashKMeans" tag "$version"

mkdir -p "$work/Consumer/Sources/Consumer"
cat > "$work/Consumer/Package.swift" <<MANIFEST
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(url: "file://$work/FlashKMeans", from: "$version")],
    targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "FlashKMeans", package: "FlashKMeans")])]
)
MANIFEST
cat > "$work/Consumer/Sources/Consumer/main.swift" <<'SOURCE'
import FlashKMeans

// Three tight groups of 2-D points; k-means with k = 3 must find them exactly.
let centers: [(Float, Float)] = [(0, 0), (10, 0), (0, 10)]
var values: [Float] = []
for index in 0..<300 {
    let (x, y) = centers[index % 3]
    values += [x + Float(index % 7) * 0.01, y - Float(index % 5) * 0.01]
}
var configuration = KMeans.Configuration(clusterCount: 3)
configuration.seed = 1
let result = try KMeans.fit(ArraySource(values, dimension: 2), configuration: configuration)
let groups = Set((0..<300).map { [result.labels[$0], Int32($0 % 3)] })
guard groups.count == 3, Set(result.labels).count == 3 else { fatalError("wrong clusters: \(groups)") }
print("consumer clustered 300 rows into 3 clusters, inertia \(result.inertia), SIMD \(SIMDKernels.level)")
SOURCE

swift build --package-path "$work/Consumer" 2>&1 | tail -3
"$(swift build --package-path "$work/Consumer" --show-bin-path)/Consumer"
echo "consumer package built against FlashKMeans $version through file:// and ran"
