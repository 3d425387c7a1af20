#!/usr/bin/env bash
# Fuzzes every reader of untrusted files with libFuzzer and AddressSanitizer.
#
#   Scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Targets: npy fvecs bvecs fbin u8bin i8bin f16bin raw hdf5 parquet csv tsv faiss
# checkpoint (all by default); 1800 seconds each by default. Each target starts from the seed
# corpus in Scripts/Fuzz/corpus/TARGET (written by Scripts/fuzz_corpus.py) and grows a working
# corpus under .build/fuzz/TARGET. A crash leaves its input in .build/fuzz/crashes/TARGET-*; copy it
# to Tests/FlashKMeansTests/FuzzReproducers/TARGET-NAME, where FuzzReproducerTests reads it.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy fvecs bvecs fbin u8bin i8bin f16bin raw hdf5 parquet csv tsv faiss checkpoint)

# SwiftPM's --sanitize=fuzzer alone left the Swift code of the library without coverage counters
# (libFuzzer saw only the C targets' ~1,300 edges and could not steer into the readers); the
# explicit -sanitize-coverage gives it all ~38,000.
# FUZZ_BUILD_PATH builds elsewhere, so that a second run can start while the first still fuzzes.
build=(swift build --package-path Scripts/Fuzz --sanitize=fuzzer --sanitize=address -c release
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
[ -z "${FUZZ_BUILD_PATH:-}" ] || build+=(--scratch-path "$FUZZ_BUILD_PATH")
"${build[@]}" >&2
binary=$("${build[@]}" --show-bin-path)/flashkmeans-fuzz

mkdir -p .build/fuzz/crashes
status=0
for target in "${targets[@]}"; do
    mkdir -p ".build/fuzz/$target"
    echo "fuzzing $target for $seconds s" >&2
    # -rss_limit_mb: a reader that allocates what a crafted header declares is a defect too.
    if ! FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$binary" \
        -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 -timeout=10 \
        -artifact_prefix=".build/fuzz/crashes/$target-" -print_final_stats=1 \
        ".build/fuzz/$target" "Scripts/Fuzz/corpus/$target" >".build/fuzz/$target.log" 2>&1; then
        echo "$target: FAILED, see .build/fuzz/$target.log and .build/fuzz/crashes/" >&2
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" ".build/fuzz/$target.log" | sed "s/^/$target: /" >&2 || true
    # The HDF5 reader reads a file's metadata first in a forked child, so that libhdf5 crashing
    # on a crafted file is a one-line error; such a child can still leave a crash artifact.
    # An artifact the reader survives when replayed is that contained crash, not a defect.
    contained=0
    for artifact in .build/fuzz/crashes/"$target"-*; do
        [ -e "$artifact" ] || continue
        if FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 timeout 300 "$binary" -artifact_prefix=.build/fuzz/replay- \
            "$artifact" >/dev/null 2>&1; then
            mkdir -p .build/fuzz/contained
            mv "$artifact" .build/fuzz/contained/ 2>/dev/null && contained=$((contained + 1))
        else
            echo "$target: $artifact crashes the reader" >&2
            status=1
        fi
    done
    [ "$contained" -eq 0 ] || echo "$target: $contained crashes contained in the metadata probe's child" >&2
done
exit $status
