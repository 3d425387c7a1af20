#!/usr/bin/env bash
# Installs what is missing, builds FlashKMeans in release mode, writes the built-in
# demo set (200,000 × 128 clustered float32) and clusters it.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product flashkmeans
bin=.build/release/flashkmeans
mkdir -p demo-data
[ -f demo-data/demo.npy ] || "$bin" demo -o demo-data/demo.npy --points 200000 --dim 128 --blobs 100
"$bin" inspect demo-data/demo.npy
"$bin" cluster demo-data/demo.npy -k 256 -o demo-out --force
echo "Results: demo-out/centroids.npy, demo-out/labels.npy, demo-out/report.json"
