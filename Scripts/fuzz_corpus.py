"""Writes the seed corpus for Scripts/fuzz.sh: small valid files of every format the readers
accept, in Scripts/Fuzz/corpus/<target>/. Run from the repository root; needs numpy, h5py and pyarrow.
The faiss index and checkpoint seeds come from the flashkmeans binary given as argument."""
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

root = "Scripts/Fuzz/corpus"
binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/flashkmeans"
rng = np.random.default_rng(7)


def put(target, name, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    with open(f"{root}/{target}/{name}", "wb") as f:
        f.write(data)


def npy_bytes(array):
    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        np.save(f.name, array)
        return open(f.name, "rb").read()


for rows, dim in [(3, 4), (8, 2), (1, 1)]:
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    put("npy", f"f32-{rows}x{dim}.npy", npy_bytes(x))
    put("npy", f"f16-{rows}x{dim}.npy", npy_bytes(x.astype(np.float16)))
    put("npy", f"f64-{rows}x{dim}.npy", npy_bytes(x.astype(np.float64)))
    put("fbin", f"{rows}x{dim}.fbin", np.array([rows, dim], np.uint32).tobytes() + x.tobytes())
    put("raw", f"{rows}x{dim}.raw", bytes([dim]) + x.tobytes())
    vecs = np.hstack([np.full((rows, 1), dim, np.int32).view(np.float32), x])
    put("fvecs", f"{rows}x{dim}.fvecs", vecs.tobytes())
    u8 = rng.integers(0, 256, (rows, dim), dtype=np.uint8)
    put("bvecs", f"{rows}x{dim}.bvecs", b"".join(np.int32(dim).tobytes() + r.tobytes() for r in u8))
# A version 2 npy header (4-byte header length) and a 1-D array.
with tempfile.TemporaryFile() as f:
    np.lib.format.write_array(f, rng.standard_normal((5, 3)).astype(np.float32), version=(2, 0))
    f.seek(0)
    put("npy", "v2-5x3.npy", f.read())
put("npy", "1d.npy", npy_bytes(np.arange(4, dtype=np.float32)))

with tempfile.TemporaryDirectory() as tmp:
    for name, kwargs in [("contiguous", {}), ("chunked", {"chunks": (2, 4)}), ("gzip", {"chunks": (2, 4), "compression": "gzip"})]:
        path = f"{tmp}/{name}.hdf5"
        with h5py.File(path, "w") as f:
            f.create_dataset("train", data=rng.standard_normal((6, 4)).astype(np.float32), **kwargs)
        put("hdf5", f"{name}.hdf5", open(path, "rb").read())

    data = f"{tmp}/x.npy"
    np.save(data, rng.standard_normal((40, 4)).astype(np.float32))
    subprocess.run([binary, "ivf", data, "-k", "3", "-o", f"{tmp}/ivf", "--quiet"], check=True)
    put("faiss", "ivf-40x4-k3.faiss", open(f"{tmp}/ivf/index.ivfflat.faiss", "rb").read())
    # A run paused just before its results are swapped in has its last checkpoint on disk.
    marker = f"{tmp}/pause"
    open(marker, "w").close()
    env = dict(os.environ, FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP=marker)
    run = subprocess.Popen([binary, "cluster", data, "-k", "3", "-o", f"{tmp}/out", "--quiet"], env=env)
    checkpoint = f"{tmp}/.out.checkpoint"
    for _ in range(600):
        if os.path.exists(checkpoint):
            time.sleep(0.2)
            break
        time.sleep(0.05)
    put("checkpoint", "k3.checkpoint", open(checkpoint, "rb").read())
    os.unlink(marker)
    run.wait()
# Parquet: each list type, item type, codec, encoding and page version the reader takes.
with tempfile.TemporaryDirectory() as tmp:
    x = rng.standard_normal((6, 4)).astype(np.float32)
    flat = lambda a: pa.array(a.reshape(-1))
    offsets = pa.array(np.arange(0, 25, 4), pa.int32())
    columns = {
        "list": pa.ListArray.from_arrays(offsets, flat(x)),
        "fixed": pa.FixedSizeListArray.from_arrays(flat(x), 4),
        "f16": pa.ListArray.from_arrays(offsets, flat(x.astype(np.float16))),
        "f64": pa.ListArray.from_arrays(offsets, flat(x.astype(np.float64))),
    }
    for name, kwargs in [
        ("list-none-plain", {"compression": "none", "use_dictionary": False}),
        ("list-snappy-dictionary", {"compression": "snappy"}),
        ("list-zstd-v2", {"compression": "zstd", "data_page_version": "2.0", "use_dictionary": False}),
        ("list-gzip-split", {"compression": "gzip", "use_dictionary": False, "use_byte_stream_split": True}),
        ("fixed-none-v2-dictionary", {"compression": "none", "data_page_version": "2.0"}),
        ("f16-none-plain", {"compression": "none", "use_dictionary": False}),
        ("f64-none-dictionary", {"compression": "none"}),
    ]:
        path = f"{tmp}/{name}.parquet"
        pq.write_table(pa.table({"emb": columns[name.split("-")[0]]}), path, row_group_size=4, **kwargs)
        put("parquet", f"{name}.parquet", open(path, "rb").read())

# big-ann-benchmarks' 8-bit and float16 layouts, and tables (a separate generator, so that
# the seeds above stay as they were).
rng = np.random.default_rng(11)
for rows, dim in [(3, 4), (8, 2), (1, 1)]:
    header = np.array([rows, dim], "<u4").tobytes()
    put("u8bin", f"{rows}x{dim}.u8bin", header + rng.integers(0, 256, (rows, dim), dtype=np.uint8).tobytes())
    put("i8bin", f"{rows}x{dim}.i8bin", header + rng.integers(-128, 128, (rows, dim), dtype=np.int8).tobytes())
    put("f16bin", f"{rows}x{dim}.f16bin", header + rng.standard_normal((rows, dim)).astype("<f2").tobytes())


def table(values, delimiter=",", **kwargs):
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        np.savetxt(f.name, values, delimiter=delimiter, **kwargs)
        return open(f.name, "rb").read()


# The first byte of a table seed is its layout: bit 0 --header, bits 1-2 --skip-columns.
x = rng.standard_normal((4, 3)).astype(np.float32)
put("csv", "savetxt-4x3.csv", b"\x00" + table(x))
put("csv", "short-4x3.csv", b"\x00" + table(x, fmt="%.3g"))
put("csv", "header-id-4x3.csv", b"\x03" + b"id,a,b,c\n" + b"".join(b"%d,%s\n" % (i, ",".join(map(str, r)).encode()) for i, r in enumerate(x)))
put("csv", "quoted-crlf.csv", b"\x03" + b'"id","x","y"\r\n"a,""b""\nc",1.5,"-2e3"\r\n\r\n"d", 3 ,4\r\n')
put("csv", "one-column.csv", b"\x00" + b"\xef\xbb\xbf1\n2\n\n3")
put("tsv", "savetxt-4x3.tsv", b"\x00" + table(x, delimiter="\t"))
print(f"seed corpus in {root}")
