"""Evaluates Inputs/conv.mlir with NumPy and compares with vai-run's output."""
import sys

import numpy as np

x = np.load(sys.argv[1])
y = np.load(sys.argv[2])
w = np.full((4, 3, 3, 3), 0.25, np.float32)  # OHWI
b = np.array([0.5, -0.5, 1.0, -1.0], np.float32)
xp = np.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)))  # pad top 1, left 1
ref = np.zeros((1, 4, 4, 4), np.float32)
for oy in range(4):
    for ox in range(4):
        patch = xp[0, oy * 2:oy * 2 + 3, ox * 2:ox * 2 + 3, :]
        ref[0, oy, ox, :] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2])) + b
ref = np.maximum(ref, 0)
err = np.abs(ref - y).max()
print("match" if y.shape == ref.shape and err <= 1e-5 else f"mismatch {err}")
