#!/usr/bin/env python3
"""bad_files.py GOOD.caffemodel OUTDIR

Writes broken weight files for the error tests:
  truncated.caffemodel  the first half of GOOD
  garbage.caffemodel    bytes that are not a protobuf message
  truncated.caffemodel.h5  a valid HDF5 snapshot cut short
  garbage.caffemodel.h5    the HDF5 signature followed by zeros
  nodata.caffemodel.h5     a valid HDF5 file without the /data group
"""
import sys

import h5py
import numpy as np

good, out = sys.argv[1:3]
data = open(good, "rb").read()
open(f"{out}/truncated.caffemodel", "wb").write(data[:len(data) // 2])
open(f"{out}/garbage.caffemodel", "wb").write(b"\xff" * 64)
with h5py.File(f"{out}/full.caffemodel.h5", "w") as h5:
    h5.create_group("data/conv1").create_dataset(
        "0", data=np.zeros((6, 4, 3, 2), np.float32))
h5data = open(f"{out}/full.caffemodel.h5", "rb").read()
open(f"{out}/truncated.caffemodel.h5", "wb").write(h5data[:len(h5data) // 2])
open(f"{out}/garbage.caffemodel.h5", "wb").write(b"\x89HDF\r\n\x1a\n" + bytes(256))
with h5py.File(f"{out}/nodata.caffemodel.h5", "w") as h5:
    h5.create_group("weights")
