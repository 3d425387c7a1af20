#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: the Swift tests; the check that
# another package can depend on FlashKMeans by version (Scripts/check_consumer.sh); then,
# when python3 with numpy and faiss-cpu is present, the check that faiss opens and searches
# the IVF index flashkmeans writes exactly like its own.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
Scripts/check_consumer.sh
if command -v python3 >/dev/null 2>&1; then
    python3 Scripts/check_faiss_ivf.py --binary .build/debug/flashkmeans
fi
