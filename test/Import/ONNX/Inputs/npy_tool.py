"""Small numpy helpers for the import tests.

  npy_tool.py compare ACTUAL.npy EXPECTED.npy TOL
      max |a - b| <= TOL (same shape); prints "match max-abs-error=..."
  npy_tool.py floor-compare ACTUAL.npy EXPECTED.npy
      floor(a) == b: a float model whose framework casts to an integer type
  npy_tool.py scale IN.npy OUT.npy FACTOR
      OUT = float32(IN) * FACTOR
"""

import sys

import numpy as np


def main():
    cmd = sys.argv[1]
    if cmd == "scale":
        x = np.load(sys.argv[2]).astype(np.float32) * np.float32(sys.argv[4])
        np.save(sys.argv[3], x)
        return 0
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    if a.shape != b.shape:
        print("shape mismatch: %s vs %s" % (a.shape, b.shape))
        return 1
    if cmd == "floor-compare":
        diff = np.abs(np.floor(a.astype(np.float64)) - b.astype(np.float64))
        tol = 0.0
    else:
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        tol = float(sys.argv[4])
    err = float(diff.max()) if diff.size else 0.0
    print("%s max-abs-error=%.3g shape=%s" %
          ("match" if err <= tol else "MISMATCH", err, "x".join(map(str, a.shape))))
    return 0 if err <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
