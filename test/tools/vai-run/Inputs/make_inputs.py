"""Writes the .npy inputs of run.test into the folder given as argv[1]."""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 8, 8, 3)).astype(np.float32)
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "x64.npy"), x.astype(np.float64))
np.save(os.path.join(out, "w.npy"), np.ones((4, 3, 3, 3), np.float32))
np.save(os.path.join(out, "wrong_shape.npy"), np.zeros((1, 8, 8, 4), np.float32))
np.save(os.path.join(out, "int.npy"), np.zeros((1, 8, 8, 3), np.int32))
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(x))
with open(os.path.join(out, "x.npy"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.npy"), "wb") as f:
    f.write(data[: len(data) - 7])
with open(os.path.join(out, "garbage.mlir"), "w") as f:
    f.write("this is not MLIR\n")
