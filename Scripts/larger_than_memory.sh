#!/usr/bin/env bash
# Clusters a file larger than the memory the process may use: runs `flashkmeans cluster`
# on a 512 MB .npy inside a memory cgroup limited to 128 MB (cgroup v1 or v2, as root).
# The result must equal an unconstrained run's. Skips cleanly where no memory cgroup can be made.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/flashkmeans
[ -x "$bin" ] || swift build -c release --product flashkmeans
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${group:-}" ] && rmdir "$group" 2>/dev/null || true' EXIT
"$bin" demo -o "$work/big.npy" --points 1000000 --dim 128 --blobs 1000 >/dev/null

if [ -d /sys/fs/cgroup/memory ]; then
    group=/sys/fs/cgroup/memory/flashkmeans-$$; limit_file=memory.limit_in_bytes
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    group=/sys/fs/cgroup/flashkmeans-$$; limit_file=memory.max
else
    echo "no memory cgroup available here; skipping"; exit 0
fi
mkdir "$group" 2>/dev/null || { group=""; echo "cannot create a memory cgroup (not root?); skipping"; exit 0; }
echo $((128 * 1024 * 1024)) > "$group/$limit_file"

# Pages already cached are charged to whoever read them first: start from a cold cache.
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(could not drop the page cache; the limit may not bite)"
bash -c "echo \$\$ > '$group/cgroup.procs'; exec '$bin' cluster '$work/big.npy' -k 256 -o '$work/limited' --max-iter 3 --tol 0 --quiet" > "$work/limited.txt"
"$bin" cluster "$work/big.npy" -k 256 -o "$work/free" --max-iter 3 --tol 0 --quiet > "$work/free.txt"
echo "unlimited:     $(cat "$work/free.txt")"
echo "128 MB limit:  $(cat "$work/limited.txt")"
cmp -s "$work/free/labels.npy" "$work/limited/labels.npy" && cmp -s "$work/free/centroids.npy" "$work/limited/centroids.npy" \
    && echo "identical results under the limit" || { echo "results differ under the memory limit"; exit 1; }
