#!/usr/bin/env bash
# Checks that two flashkmeans binaries give byte-identical results on a fixed set of jobs:
# the demo set and (when ../shared is present) real 384-d sentence embeddings and SIFT, with
# every algorithm, cosine, sampling, top-M assignment and the IVF export. For refactors and
# optimizations that must not change any result.
#
#   Scripts/same_results.sh BASELINE_BINARY [CANDIDATE_BINARY]   (candidate: .build/release/flashkmeans)
#   INIT=random Scripts/same_results.sh ...   every clustering starts from k seeded random rows
#
# INIT=random compares everything after the start, for changes that deliberately change the
# k-means++ start but nothing else (the ivf jobs, which always use k-means++, are skipped).
# Writes into a temporary folder (kept with KEEP=1) and exits non-zero on the first difference.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$(realpath "$1")
candidate=$(realpath "${2:-.build/release/flashkmeans}")
work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT

"$candidate" demo -o "$work/demo.npy" --points 200000 --dim 128 --blobs 100 >/dev/null
inputs=("$work/demo.npy")
shared=../shared/data
[ -f "$shared/minilm_dev_43742x384.f16.npy" ] && inputs+=("$shared/minilm_dev_43742x384.f16.npy")
[ -f "$shared/siftsmall_base.fvecs" ] && inputs+=("$shared/siftsmall_base.fvecs")

init=(); [ -n "${INIT:-}" ] && init=(--init "$INIT")
failures=0
run() {  # run NAME ARGS...: the same command with both binaries, then compare every result file
    local name=$1; shift
    for side in baseline candidate; do
        local binary=$baseline; [ $side = candidate ] && binary=$candidate
        "$binary" "$@" -o "$work/$side-$name" >/dev/null 2>"$work/$side-$name.err" || {
            echo "FAIL $name: $side exited non-zero: $(cat "$work/$side-$name.err")"; failures=$((failures + 1)); return; }
    done
    for file in "$work/baseline-$name"/*; do
        local base; base=$(basename "$file")
        [ "$base" = report.json ] && continue
        if ! cmp -s "$file" "$work/candidate-$name/$base"; then
            echo "FAIL $name: $base differs"; failures=$((failures + 1)); return
        fi
    done
    # The report's inertia and iteration count too (timings naturally differ).
    if [ -f "$work/baseline-$name/report.json" ]; then
        python3 - "$work/baseline-$name/report.json" "$work/candidate-$name/report.json" <<'EOF' || { echo "FAIL $name: report differs"; failures=$((failures + 1)); return; }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = lambda r: (r["inertia"], r["stopReason"], [(i["inertia"], i["reassigned"], i["emptyClustersReseeded"]) for i in r["iterations"]])
sys.exit(0 if keys(a) == keys(b) else 1)
EOF
    fi
    echo "same $name"
}

for input in "${inputs[@]}"; do
    tag=$(basename "$input" | cut -d. -f1 | cut -c1-12)
    for algorithm in auto lloyd hamerly yinyang elkan; do
        run "$tag-$algorithm" cluster "$input" -k 100 --algorithm "$algorithm" --max-iter 30 --threads 2 --seed 1 "${init[@]}" --quiet
    done
    run "$tag-cosine" cluster "$input" -k 64 --metric cosine --max-iter 20 --seed 2 "${init[@]}" --quiet
    run "$tag-sampled" cluster "$input" -k 32 --max-points-per-centroid 64 --init random --seed 3 --quiet
    run "$tag-top" assign "$input" --centroids "$work/baseline-$tag-lloyd/centroids.npy" --top 3
    # ivf always starts with k-means++ (older builds have no --init there).
    if [ -z "${INIT:-}" ]; then run "$tag-ivf" ivf "$input" -k 50 --seed 4 --quiet; else echo "skipped $tag-ivf (INIT set)"; fi
done
[ $failures -eq 0 ] && echo "all results identical" || { echo "$failures job(s) differ"; exit 1; }
