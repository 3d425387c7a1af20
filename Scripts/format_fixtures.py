"""Writes the reference files of Tests/FlashKMeansTests/Fixtures/formats with the writers users have:
numpy (`tofile` after the 8-byte header of big-ann-benchmarks' .u8bin/.i8bin/.f16bin, `savetxt`
for CSV and TSV, `save` for the .npy each is compared with) and pandas (`to_csv` with a header
and an id or index column). Each file in another format holds the rows of one .npy, bit for bit
once converted: the tests check that, and that clustering both gives the same labels.

Run from the repository root; needs numpy and pandas (pip install numpy pandas). The files are
committed, so the tests need neither."""
import os

import numpy as np
import pandas as pd

root = "Tests/FlashKMeansTests/Fixtures/formats"
rng = np.random.default_rng(13)
os.makedirs(root, exist_ok=True)


def path(name):
    return os.path.join(root, name)


def big_ann(name, array):
    """big-ann-benchmarks' layout: uint32 rows, uint32 dimension, then the values, little-endian."""
    with open(path(name), "wb") as f:
        np.array(array.shape, dtype="<u4").tofile(f)
        array.tofile(f)


# Three well-separated blobs of 16 rows, 5 values each, so that k = 3 has one clear answer.
centers = rng.normal(0, 4, (3, 5))
blobs = np.vstack([c + rng.normal(0, 0.5, (16, 5)) for c in centers]).astype(np.float32)
rows, dimension = blobs.shape

# Numbers as numpy writes them: '%.18e', comma- and tab-separated, no header.
np.save(path("blobs.npy"), blobs)
np.savetxt(path("blobs.csv"), blobs, delimiter=",")
np.savetxt(path("blobs.tsv"), blobs, delimiter="\t")

# As pandas writes them: a header line, an id column of text (some of which must be quoted,
# holding commas, quotes and a line end), float32 values in their shortest digits.
frame = pd.DataFrame(blobs, columns=[f"x{i}" for i in range(dimension)])
ids = [f"doc-{i}" for i in range(rows)]
ids[3] = 'doc 3, "draft"'
ids[7] = "two\nlines"
frame.insert(0, "id", ids)
frame.to_csv(path("blobs-pandas.csv"), index=False)
# pandas' default: the index as an unnamed first column, here with Windows line ends.
frame.drop(columns="id").to_csv(path("blobs-index-crlf.csv"), lineterminator="\r\n")

# float16, uint8 and int8 rows, each beside the .npy of the same values as float32
# (the .npy reader has no 8-bit types; float16 is compared with a float16 .npy too).
big_ann("blobs.f16bin", blobs.astype(np.float16))
np.save(path("blobs-f16.npy"), blobs.astype(np.float16))
codes = np.clip(np.rint(blobs * 12 + 128), 0, 255).astype(np.uint8)
big_ann("codes.u8bin", codes)
np.save(path("codes.npy"), codes.astype(np.float32))
signed = np.clip(np.rint(blobs * 12), -128, 127).astype(np.int8)
big_ann("signed.i8bin", signed)
np.save(path("signed.npy"), signed.astype(np.float32))

# The uint8 codes again as three shards of unequal size, read as one matrix.
os.makedirs(path("codes-shards"), exist_ok=True)
for index, (start, end) in enumerate([(0, 20), (20, 21), (21, rows)]):
    big_ann(f"codes-shards/part-{index}.u8bin", codes[start:end])

# Decimals of every kind numpy reads, beside numpy's own float32 parse of them: short and long,
# signed, exponents, subnormal, near float32's largest, and some of 13 to 17 digits lying within
# a float64 rounding of halfway between two float32s, where numpy's parse (float64, then
# float32) differs from rounding straight to float32.
values = ["1.00000005960464477539062500001"]
for digits in range(1, 18):
    x = rng.standard_normal(8) * 10.0 ** rng.integers(-6, 7, 8)
    values += [f"{v:.{digits}g}" for v in x]
values += ["+1.5", "-.25", "5.", "1e-40", "-1.4e-45", "3.4028234e38", "-3.4028234e+38", "0", "-0", "1E3"]
low = rng.standard_normal(4000).astype(np.float32)
middles = (low.astype(np.float64) + np.nextafter(low, np.float32(np.inf)).astype(np.float64)) / 2
near = [f"{m:.16e}" for m in middles]
near = [t for t in near if np.float32(float(t)) != np.float32(np.longdouble(t))][:16]
values += near
values = values[: len(values) // 4 * 4]
lines = [",".join(values[i : i + 4]) for i in range(0, len(values), 4)]
with open(path("decimals.csv"), "w") as f:
    f.write("\n".join(lines) + "\n")
np.save(path("decimals.npy"), np.loadtxt(path("decimals.csv"), delimiter=",", dtype=np.float32).reshape(-1, 4))
print(f"fixtures in {root}: {len(lines)} decimal rows, {len(near)} near halfway")
