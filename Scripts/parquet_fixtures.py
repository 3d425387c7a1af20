"""Writes the Parquet test fixtures with pyarrow (pip install pyarrow numpy), next to the same
rows as .npy, in Tests/FlashKMeansTests/Fixtures/parquet/. Run from the repository root; the
tests read the committed files and need no Python.

Every good file holds the rows of rows-f32.npy (or rows-f16.npy / rows-f64.npy for float16 and
float64 items): 40 rows of 8 values in three blobs, so that `cluster -k 3` must give the same
labels as the .npy. The bad files each hold one defect the reader must name in one line."""
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out = "Tests/FlashKMeansTests/Fixtures/parquet"
os.makedirs(out, exist_ok=True)
for name in os.listdir(out):
    os.unlink(f"{out}/{name}")

rng = np.random.default_rng(13)
rows, dim = 40, 8
centers = rng.standard_normal((3, dim)) * 10
x = (centers[np.arange(rows) * 3 // rows] + rng.standard_normal((rows, dim)) * 0.5).astype(np.float32)
np.save(f"{out}/rows-f32.npy", x)
np.save(f"{out}/rows-f16.npy", x.astype(np.float16))
np.save(f"{out}/rows-f64.npy", x.astype(np.float64) + 1e-9)  # values float32 cannot hold exactly
arrays = {"f32": x, "f16": x.astype(np.float16), "f64": x.astype(np.float64) + 1e-9}


def lists(values, kind="list", nullable=True):
    """The rows of `values` as a list, large_list or fixed_size_list array."""
    flat = pa.array(values.reshape(-1))
    n, d = values.shape
    if kind == "fixed_size_list":
        return pa.FixedSizeListArray.from_arrays(flat, d)
    offsets = pa.array(np.arange(0, n * d + 1, d), pa.int64() if kind == "large_list" else pa.int32())
    cls = pa.LargeListArray if kind == "large_list" else pa.ListArray
    return cls.from_arrays(offsets, flat)


def write(name, table, **options):
    options.setdefault("compression", "none")
    pq.write_table(table, f"{out}/{name}.parquet", **options)


# Element types, list kinds and compressions (v1 pages, plain values).
for kind in ["list", "large_list", "fixed_size_list"]:
    write(f"{kind}-f32-snappy", pa.table({"emb": lists(x, kind)}), compression="snappy", use_dictionary=False)
for codec in ["none", "snappy", "zstd", "gzip"]:
    write(f"list-f32-{codec}", pa.table({"emb": lists(x)}), compression=codec, use_dictionary=False)
write("list-f16-zstd", pa.table({"emb": lists(arrays["f16"])}), compression="zstd", use_dictionary=False)
write("list-f64-gzip", pa.table({"emb": lists(arrays["f64"])}), compression="gzip", use_dictionary=False)
# Dictionary encoding (RLE_DICTIONARY with a PLAIN dictionary page), also with float16 and float64.
for element in ["f32", "f16", "f64"]:
    write(f"list-{element}-dictionary", pa.table({"emb": lists(arrays[element])}), compression="snappy", use_dictionary=True)
# Data page v2, plain and dictionary.
write("list-f32-v2", pa.table({"emb": lists(x)}), compression="zstd", use_dictionary=False, data_page_version="2.0")
write("list-f32-v2-dictionary", pa.table({"emb": lists(x)}), compression="snappy", data_page_version="2.0")
# BYTE_STREAM_SPLIT values.
write("list-f32-split", pa.table({"emb": lists(x)}), compression="none", use_dictionary=False, use_byte_stream_split=True)
# Neither the list nor its items nullable: fewer definition levels.
schema = pa.schema([pa.field("emb", pa.list_(pa.field("item", pa.float32(), nullable=False)), nullable=False)])
write("list-f32-required", pa.table({"emb": lists(x)}, schema=schema), compression="snappy", use_dictionary=False)
# Small pages, so that rows span page boundaries (v1), and several row groups, one empty.
write("list-f32-small-pages", pa.table({"emb": lists(x)}), compression="snappy", use_dictionary=False,
      data_page_size=50, write_batch_size=5)
with pq.ParquetWriter(f"{out}/list-f32-row-groups.parquet", pa.schema([("emb", pa.list_(pa.float32()))]),
                      compression="snappy") as writer:
    table = pa.table({"emb": lists(x)})
    writer.write_table(table.slice(0, 7))
    writer.write_table(table.slice(7, 0))
    writer.write_table(table.slice(7, 20), row_group_size=6)
    writer.write_table(table.slice(27))
# Several columns: an id, two embedding columns and text; --column chooses.
write("columns", pa.table({
    "id": pa.array(np.arange(rows)), "emb": lists(x), "title": pa.array([f"row {i}" for i in range(rows)]),
    "emb2": lists(x[:, :4].copy()),
}), compression="snappy")
write("no-lists", pa.table({"id": pa.array(np.arange(rows)), "score": pa.array(x[:, 0])}), compression="snappy")

# Shards: the rows in three files, read as one matrix.
for shard, (start, end) in enumerate([(0, 13), (13, 14), (14, 40)]):
    write(f"shard-{shard}", pa.table({"emb": lists(x[start:end])}), compression="zstd")

# Defects.
emb = [list(map(float, row)) for row in x[:10]]
write("null-row", pa.table({"emb": pa.array(emb[:5] + [None] + emb[6:], pa.list_(pa.float32()))}))
write("null-value", pa.table({"emb": pa.array(emb[:3] + [emb[3][:2] + [None] + emb[3][3:]] + emb[4:], pa.list_(pa.float32()))}))
write("ragged", pa.table({"emb": pa.array(emb[:4] + [emb[4][:7]] + emb[5:], pa.list_(pa.float32()))}))
write("long-row", pa.table({"emb": pa.array(emb[:2] + [emb[2] + [1.0]] + emb[3:], pa.list_(pa.float32()))}))
write("empty-first-row", pa.table({"emb": pa.array([[]] + emb[1:], pa.list_(pa.float32()))}))
good = open(f"{out}/list-f32-snappy.parquet", "rb").read()
open(f"{out}/truncated.parquet", "wb").write(good[: len(good) // 2])
# A page's bytes overwritten: the first data page starts right after the 4-byte magic.
corrupt = bytearray(good)
corrupt[40:90] = bytes(50)
open(f"{out}/corrupt-page.parquet", "wb").write(bytes(corrupt))
open(f"{out}/not-parquet.parquet", "wb").write(b"PAR1 this is not a parquet file at all PAR1")

print(f"fixtures in {out}:", sorted(os.listdir(out)))
