#!/usr/bin/env bash
# Fuzzes every reader of untrusted files with libFuzzer and AddressSanitizer.
#
#   Scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Targets: npy fvecs bvecs fbin u8bin i8bin f16bin raw hdf5 csv tsv faiss checkpoint (all by
# default); 1800 seconds each by default. Each target starts from the seed corpus in
# Scripts/Fuzz/corpus/TARGET (written by Scripts/fuzz_corpus.py) and grows a working corpus
# under .build/fuzz/TARGET. A crash leaves its input in .build/fuzz/crashes/TARGET-*; copy it
# to Tests/FlashKMeansTests/FuzzReproducers/TARGET-NAME, where FuzzReproducerTests reads it.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy fvecs bvecs fbin u8bin i8bin f16bin raw hdf5 csv tsv faiss checkpoint)

swift build --package-path Scripts/Fuzz --sanitize=fuzzer --sanitize=address -c release >&2
binary=$(swift build --package-path Scripts/Fuzz --sanitize=fuzzer --sanitize=address -c release --show-bin-path)/flashkmeans-fuzz

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
done
exit $status
