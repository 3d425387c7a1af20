#!/usr/bin/env bash
# Runs `cluster` across 2 and 3 MPI ranks on loopback and checks that centroids and
# labels are byte-identical to one process, with several algorithms and thread counts;
# and that a failure on one rank stops the job with one line. Needs Open MPI (mpirun).
#
#   Scripts/test_mpi.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/flashkmeans}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe -np)
[ "$(id -u)" -eq 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np)
# Ranks waiting in a collective yield the core: more ranks than cores here.
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_mpi_yield_when_idle=1

"$binary" demo -o "$work/data.npy" --points 12000 --dim 24 --blobs 40 --spread 2.5 >/dev/null
failures=0
check() {
    local name=$1 reference=$2 output=$3
    if cmp -s "$reference/centroids.npy" "$output/centroids.npy" && cmp -s "$reference/labels.npy" "$output/labels.npy"; then
        echo "ok   $name" >&2
    else
        echo "FAIL $name: results differ from one process" >&2
        failures=$((failures + 1))
    fi
}
for algorithm in lloyd yinyang auto; do
    args=(cluster "$work/data.npy" -k 48 --seed 7 --algorithm "$algorithm" --max-iter 25 --quiet)
    "$binary" "${args[@]}" -o "$work/one-$algorithm" >/dev/null
    for ranks in 2 3; do
        threads=$(( ranks == 2 ? 1 : 2 ))
        "${mpi[@]}" "$ranks" "$binary" "${args[@]}" --threads "$threads" -o "$work/$algorithm-$ranks" >/dev/null
        check "$algorithm, $ranks ranks × $threads threads" "$work/one-$algorithm" "$work/$algorithm-$ranks"
    done
done
# A sampled training set (--max-points-per-centroid) and a random start.
args=(cluster "$work/data.npy" -k 48 --seed 2 --init random --max-points-per-centroid 150 --quiet)
"$binary" "${args[@]}" -o "$work/one-sampled" >/dev/null
"${mpi[@]}" 3 "$binary" "${args[@]}" -o "$work/sampled-3" >/dev/null
check "sampled training, 3 ranks" "$work/one-sampled" "$work/sampled-3"

# A failure on rank 0 (its output is taken) stops every rank, with one line, not a hang.
if timeout 120 "${mpi[@]}" 2 "$binary" cluster "$work/data.npy" -k 8 -o "$work/one-lloyd" --quiet 2>"$work/err"; then
    echo "FAIL a taken output directory was accepted" >&2
    failures=$((failures + 1))
elif [ "$(grep -c '^error: ' "$work/err")" -ne 1 ] || ! grep -q 'already holds results' "$work/err"; then
    echo "FAIL expected one error line about the output:" >&2
    cat "$work/err" >&2
    failures=$((failures + 1))
else
    echo "ok   a failing rank stops the job with one line" >&2
fi
[ "$failures" -eq 0 ] || { echo "$failures MPI checks failed" >&2; exit 1; }
echo "all MPI checks passed" >&2
