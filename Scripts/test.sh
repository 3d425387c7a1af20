#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: the Swift tests; the check that
# another package can depend on FlashKMeans by version (Scripts/check_consumer.sh); then,
# when python3 with numpy and faiss-cpu is present, the check that faiss opens and searches
# the IVF index flashkmeans writes exactly like its own; and `cluster` across 2 and 3 MPI ranks
# against one process (Scripts/test_mpi.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh openmpi-bin libopenmpi-dev
swift build --build-tests
swift test --skip-build "$@"
Scripts/check_consumer.sh
Scripts/test_mpi.sh .build/debug/flashkmeans
if command -v python3 >/dev/null 2>&1; then
    python3 Scripts/check_faiss_ivf.py --binary .build/debug/flashkmeans
fi
