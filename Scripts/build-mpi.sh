#!/usr/bin/env bash
# Builds the flashkmeans binary for runs across MPI ranks and prints its path on the last line.
#
# It is the same binary as for one machine: it loads Open MPI (libmpi.so.40) only when
# mpirun or srun started it. This installs Open MPI (openmpi-bin, libopenmpi-dev) where
# missing, so that mpirun is there to start it. Run it on every node, or on a shared disk.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh openmpi-bin libopenmpi-dev
swift build -c release >&2
echo "$(swift build -c release --show-bin-path)/flashkmeans"
