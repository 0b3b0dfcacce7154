# Reads an OME-Zarr export with Debian's python3-zarr (an independent reader) and checks it against the source:
# level 0 bit-exact against the raw phantom, every further level the 2x2x2 mean (rounded for integers, an odd edge
# paired with itself) of the one before, computed here with numpy. Prints the metadata it saw as JSON.
# Usage: zarr-check.py STORE RAW DTYPE Z Y X
import json
import sys

import numpy as np
import zarr

store, raw, dtype, z, y, x = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
expected = np.fromfile(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(z, y, x)
group = zarr.open_group(store, mode="r")
ms = group.attrs["multiscales"][0]
levels = []
previous = None
for i, d in enumerate(ms["datasets"]):
    a = group[d["path"]]
    data = a[:]
    if i == 0:
        ok = data.dtype == expected.dtype and data.shape == expected.shape and np.array_equal(data, expected)
    else:
        p = previous.astype(np.float64)
        fz = 2 if p.shape[0] > 1 else 1
        pad = [(0, p.shape[0] % fz), (0, p.shape[1] % 2), (0, p.shape[2] % 2)]
        p = np.pad(p, pad, mode="edge")
        s = p.reshape(p.shape[0] // fz, fz, p.shape[1] // 2, 2, p.shape[2] // 2, 2).sum(axis=(1, 3, 5)) * (2 / fz)
        mean = s / 8
        if np.issubdtype(data.dtype, np.integer):
            mean = np.floor(mean + 0.5)
        ok = data.shape == mean.shape and np.array_equal(data.astype(np.float64), mean.astype(data.dtype).astype(np.float64))
    levels.append({"path": d["path"], "shape": list(a.shape), "chunks": list(a.chunks), "dtype": a.dtype.str, "compressor": a.compressor.codec_id, "equal": bool(ok)})
    previous = data
print(json.dumps({"version": ms["version"], "axes": ms["axes"], "scales": [d["coordinateTransformations"][0]["scale"] for d in ms["datasets"]], "levels": levels}))
