#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: the Swift tests; the check that
# another package can depend on FlashKMeans by version (Scripts/check_consumer.sh);
# `cluster` across 2 and 3 MPI ranks against one process (Scripts/test_mpi.sh); Scripts/install.sh
# in a temporary PREFIX, with the debug build (Scripts/check_install.sh); then, in a
# Python virtual environment under .build (Scripts/python-env.sh installs numpy, faiss-cpu
# and h5py there, once per change of Scripts/requirements-test.txt), the check that faiss
# opens and searches the IVF index flashkmeans writes exactly like its own, and that HDF5 files
# h5py writes (float16 and float32, several layouts) cluster like the same rows in .npy
# (Scripts/check_hdf5_h5py.py). A failed Python
# check fails the run; it is skipped, with a warning, only when pip cannot reach its index.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh openmpi-bin libopenmpi-dev man-db
swift build --build-tests
swift test --skip-build "$@"
Scripts/check_consumer.sh
Scripts/test_mpi.sh .build/debug/flashkmeans
Scripts/check_install.sh

status=0
python=$(Scripts/python-env.sh) || status=$?
if [ "$status" -eq 3 ]; then
    echo "################################################################################" >&2
    echo "WARNING: the Python checks (faiss and h5py interoperability) were SKIPPED: pip cannot reach" >&2
    echo "its package index to install Scripts/requirements-test.txt. Nothing was checked there." >&2
    echo "################################################################################" >&2
    exit 0
elif [ "$status" -ne 0 ]; then
    echo "error: could not make the Python environment for the checks (Scripts/python-env.sh)" >&2
    exit "$status"
fi
"$python" Scripts/check_faiss_ivf.py --binary .build/debug/flashkmeans --require-packages
"$python" Scripts/check_hdf5_h5py.py --binary .build/debug/flashkmeans --require-packages
