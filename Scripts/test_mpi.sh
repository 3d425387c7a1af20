#!/usr/bin/env bash
# Runs `cluster`, `assign` and `ivf` across 2, 3 and 4 MPI ranks on loopback and checks that
# every file they write is byte-identical to one process, with several algorithms and thread
# counts, also after an interrupted job is resumed on another number of ranks; and that a
# failure on one rank stops the job with one line. Needs Open MPI (mpirun).
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
# check NAME REFERENCE OUTPUT [FILE...]: the files (centroids and labels by default) are
# byte-identical in both directories.
check() {
    local name=$1 reference=$2 output=$3 file
    shift 3
    [ $# -gt 0 ] || set -- centroids.npy labels.npy
    for file in "$@"; do
        if ! cmp -s "$reference/$file" "$output/$file"; then
            echo "FAIL $name: $file differs from one process" >&2
            failures=$((failures + 1))
            return
        fi
    done
    echo "ok   $name" >&2
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
# Sums are exact, so ranks need not take whole slices of one process's split: 4 ranks over
# 2,500 rows, which one process splits into 3 slices.
"$binary" demo -o "$work/small.npy" --points 2500 --dim 24 --blobs 12 --spread 2.5 >/dev/null
args=(cluster "$work/small.npy" -k 12 --seed 3 --algorithm yinyang --max-iter 25 --quiet)
"$binary" "${args[@]}" -o "$work/one-small" >/dev/null
"${mpi[@]}" 4 "$binary" "${args[@]}" --threads 1 -o "$work/small-4" >/dev/null
check "4 ranks, more than the 3 slices of one process" "$work/one-small" "$work/small-4"
# A sampled training set (--max-points-per-centroid) and a random start.
args=(cluster "$work/data.npy" -k 48 --seed 2 --init random --max-points-per-centroid 150 --quiet)
"$binary" "${args[@]}" -o "$work/one-sampled" >/dev/null
"${mpi[@]}" 3 "$binary" "${args[@]}" -o "$work/sampled-3" >/dev/null
check "sampled training, 3 ranks" "$work/one-sampled" "$work/sampled-3"

# An interrupted job resumes on another number of ranks: 2 ranks stopped by SIGINT just before
# their results replace the (absent) old ones, so that rank 0's checkpoint is all that is left,
# then --resume on 3 ranks; the results are those of one uninterrupted process.
resume_check() {
    local args=(cluster "$work/data.npy" -k 48 --seed 11 --algorithm yinyang --max-iter 25 --tol 0 --quiet)
    local marker=$work/pause
    "$binary" "${args[@]}" -o "$work/one-resume" >/dev/null
    FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP=$marker "${mpi[@]}" 2 -x FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP \
        "$binary" "${args[@]}" -o "$work/resumed" >/dev/null 2>"$work/err" &
    local job=$! waited=0
    while [ ! -e "$marker" ] && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
    [ -e "$marker" ] || { echo "  the job never reached its results" >&2; kill "$job"; return 1; }
    [ -e "$work/.resumed.checkpoint" ] || { echo "  no checkpoint beside the output" >&2; kill "$job"; return 1; }
    kill -INT "$job"
    wait "$job" && { echo "  the interrupted job exited 0" >&2; return 1; }
    # mpirun forwards the ranks' output and may drop the last of it when it stops on SIGINT
    # (in about one run of ten here, stderr came back empty); what did arrive must be the hint.
    [ ! -s "$work/err" ] || grep -q 'run the same command with --resume' "$work/err" || { cat "$work/err" >&2; return 1; }
    [ ! -e "$work/resumed/centroids.npy" ] || { echo "  results written despite the interruption" >&2; return 1; }
    rm -f "$marker"
    "${mpi[@]}" 3 "$binary" "${args[@]}" --resume --threads 1 -o "$work/resumed" >/dev/null
    [ ! -e "$work/.resumed.checkpoint" ] || { echo "  the checkpoint outlived the finished run" >&2; return 1; }
    cmp -s "$work/one-resume/centroids.npy" "$work/resumed/centroids.npy" && cmp -s "$work/one-resume/labels.npy" "$work/resumed/labels.npy"
}
if resume_check; then
    echo "ok   interrupted on 2 ranks, resumed on 3: one process's results" >&2
else
    echo "FAIL interrupted on 2 ranks, resumed on 3" >&2
    failures=$((failures + 1))
fi

# assign (nearest, and the 3 nearest) and ivf (trained, and from given centroids).
for top in 1 3; do
    args=(assign "$work/data.npy" --centroids "$work/one-lloyd/centroids.npy" --top "$top" --quiet)
    "$binary" "${args[@]}" -o "$work/one-assign-$top" >/dev/null
    "${mpi[@]}" 3 "$binary" "${args[@]}" --threads 1 -o "$work/assign-$top-3" >/dev/null
    check "assign --top $top, 3 ranks" "$work/one-assign-$top" "$work/assign-$top-3" labels.npy distances.npy
done
# Transfers larger than MPI's int counts go in rounds sized by the rank count (three ranks of
# 1 GiB rounds once overflowed the displacements). A lowered limit makes small jobs take many
# rounds: the sums' allreduce, the labels and the distances all cross it here.
for ranks in 2 3; do
    FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT=3000 "${mpi[@]}" "$ranks" -x FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT \
        "$binary" cluster "$work/data.npy" -k 48 --seed 7 --algorithm yinyang --max-iter 25 --quiet -o "$work/rounds-$ranks" >/dev/null
    check "transfers in 3,000-byte rounds, $ranks ranks" "$work/one-yinyang" "$work/rounds-$ranks"
done
args=(assign "$work/data.npy" --centroids "$work/one-lloyd/centroids.npy" --top 3 --quiet)
FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT=3000 "${mpi[@]}" 3 -x FLASHKMEANS_TEST_MPI_MESSAGE_LIMIT \
    "$binary" "${args[@]}" -o "$work/assign-rounds-3" >/dev/null
check "assign in 3,000-byte rounds, 3 ranks" "$work/one-assign-3" "$work/assign-rounds-3" labels.npy distances.npy
ivf_files=(centroids.npy list_offsets.npy ids.npy index.ivfflat.faiss)
args=(ivf "$work/data.npy" -k 32 --seed 4 --quiet)
"$binary" "${args[@]}" -o "$work/one-ivf" >/dev/null
"${mpi[@]}" 2 "$binary" "${args[@]}" --threads 1 -o "$work/ivf-2" >/dev/null
check "ivf, 2 ranks" "$work/one-ivf" "$work/ivf-2" "${ivf_files[@]}"
args=(ivf "$work/data.npy" --centroids "$work/one-lloyd/centroids.npy" --metric cosine --quiet)
"$binary" "${args[@]}" -o "$work/one-ivf-given" >/dev/null
"${mpi[@]}" 3 "$binary" "${args[@]}" -o "$work/ivf-given-3" >/dev/null
check "ivf --centroids --metric cosine, 3 ranks" "$work/one-ivf-given" "$work/ivf-given-3" "${ivf_files[@]}"
# Commands that do not split their work refuse to run once per rank.
if "${mpi[@]}" 2 "$binary" inspect "$work/data.npy" >/dev/null 2>"$work/err" || ! grep -q 'does not run across MPI ranks' "$work/err"; then
    echo "FAIL inspect under mpirun was not refused with one line:" >&2
    cat "$work/err" >&2
    failures=$((failures + 1))
else
    echo "ok   inspect under mpirun is refused" >&2
fi

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
