#!/usr/bin/env python3
"""Plot a `flashkmeans sweep` CSV: time per iteration and memory against the point tile size.

    python3 Scripts/plot_sweep.py sweep.csv sweep.png
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(csv_path, png_path):
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    by_centroid_tile = {}
    for row in rows:
        by_centroid_tile.setdefault(int(row["tile_centroids"]), []).append(row)
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    for centroid_tile, group in sorted(by_centroid_tile.items()):
        group.sort(key=lambda row: int(row["tile_points"]))
        points = [int(row["tile_points"]) for row in group]
        time_axis.plot(points, [float(row["seconds_per_iteration"]) for row in group], marker="o",
                       label=f"{centroid_tile} centroids")
        memory_axis.plot(points, [int(row["peak_rss_anon_bytes"]) / 2**20 for row in group], marker="o",
                         label=f"RssAnon, {centroid_tile} centroids")
        memory_axis.plot(points, [int(row["scratch_bytes_per_thread"]) / 2**20 for row in group], marker="x",
                         linestyle="--", label=f"scratch/thread, {centroid_tile} centroids")
    for axis in (time_axis, memory_axis):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("point tile (rows)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    time_axis.set_ylabel("seconds per iteration")
    time_axis.set_title("time per Lloyd iteration")
    memory_axis.set_ylabel("MB")
    memory_axis.set_title("anonymous memory and kernel scratch")
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
