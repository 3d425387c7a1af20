#!/usr/bin/env bash
# Parallel efficiency of MPI ranks on one machine: the same `cluster` job as 1 process × 1
# thread, 1 process × 2 threads, and 2 ranks × 1 thread (mpirun on loopback), medians of
# REPEATS whole-process runs, with the time rank 0 spent exchanging (from report.json).
# Results must be byte-identical across the three; the script checks that too.
#
#   Scripts/bench_ranks.sh [REPEATS]    (3 by default; run on quiet cores)
#
# Jobs: 1M × 128 synthetic blobs, k = 1024, 20 iterations; and the 43,742 real 384-d
# sentence embeddings of ../shared/data (float16, converted per tile), k = 1024, 20
# iterations, when that file is present.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
swift build -c release >&2
binary=.build/release/flashkmeans
work=.build/bench-ranks
mkdir -p "$work"
mpi=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo

[ -f "$work/blobs.npy" ] || "$binary" demo -o "$work/blobs.npy" --points 1000000 --dim 128 --blobs 1024 >/dev/null
jobs=("blobs 1M × 128|$work/blobs.npy")
real=../shared/data/minilm_dev_43742x384.f16.npy
[ -f "$real" ] && jobs+=("real 43,742 × 384 (float16)|$real")

seconds() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["timing"]["totalSeconds"] if "timing" in r and "totalSeconds" in r["timing"] else "")' "$1"; }
exchange() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); x=r.get("ranks"); print(x["communicationSeconds"] if x else 0)' "$1"; }

printf '%-30s %-22s %10s %12s %10s\n' job layout "median s" "exchange s" "vs 1×2"
for job in "${jobs[@]}"; do
    name=${job%%|*}
    input=${job#*|}
    args=(cluster "$input" -k 1024 --max-iter 20 --tol 0 --seed 1 --quiet --force)
    declare -A median=() exchanged=()
    for layout in "1 process × 1 thread" "1 process × 2 threads" "2 ranks × 1 thread"; do
        times=()
        for ((r = 0; r < repeats; r++)); do
            out="$work/out-${layout// /}"
            start=$(date +%s.%N)
            case $layout in
                "1 process × 1 thread") "$binary" "${args[@]}" --threads 1 -o "$out" >/dev/null ;;
                "1 process × 2 threads") "$binary" "${args[@]}" --threads 2 -o "$out" >/dev/null ;;
                *) "${mpi[@]}" "$binary" "${args[@]}" --threads 1 -o "$out" >/dev/null ;;
            esac
            end=$(date +%s.%N)
            times+=("$(python3 -c "print($end - $start)")")
        done
        median[$layout]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
        exchanged[$layout]=$(exchange "$out/report.json")
        cmp -s "$work/out-1process×1thread/centroids.npy" "$out/centroids.npy" \
            || { echo "FAIL: $layout gives other centroids than one thread" >&2; exit 1; }
    done
    for layout in "1 process × 1 thread" "1 process × 2 threads" "2 ranks × 1 thread"; do
        ratio=$(python3 -c "print(f'{${median["1 process × 2 threads"]} / ${median[$layout]}:.2f}')")
        printf '%-30s %-22s %10.2f %12.2f %10s\n' "$name" "$layout" "${median[$layout]}" "${exchanged[$layout]}" "$ratio"
    done
    unset median exchanged
done
