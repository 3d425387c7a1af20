#!/usr/bin/env bash
# Builds the FlashKMeans documentation archive offline: symbol graphs of the library's public and
# package symbols from a build, then `docc convert` on its catalog (extra arguments go to docc).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-docs
graphs="$PWD/$scratch/symbol-graphs"
archive="$scratch/FlashKMeans.doccarchive"
# An up-to-date build emits no symbol graph: recompile the library when the graph is missing.
[ -s "$graphs/FlashKMeans.symbols.json" ] || rm -f "$scratch"/debug/Modules/FlashKMeans.swiftmodule
mkdir -p "$graphs"
swift build --scratch-path "$scratch" --target FlashKMeans \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" \
    -Xswiftc -symbol-graph-minimum-access-level -Xswiftc package
"${DOCC:-docc}" convert Sources/FlashKMeans/Documentation.docc --additional-symbol-graph-dir "$graphs" \
    --fallback-display-name FlashKMeans --fallback-bundle-identifier org.flashkmeans.FlashKMeans \
    --output-path "$archive" "$@"
echo "$PWD/$archive"
