#!/usr/bin/env bash
# Runs the benchmark suites in Benchmarks/ (ordo-one/benchmark): the fused kernel against
# plain sgemm, Lloyd iterations per algorithm, streaming per format, and a whole cluster job.
# Extra arguments go to the benchmark plugin, e.g. `Scripts/bench.sh --target Kernels`.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
cd Benchmarks
swift package --allow-writing-to-package-directory benchmark --no-progress "$@"
