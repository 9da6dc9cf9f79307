"""compare_npy.py A.npy B.npy RTOL: prints 'match' when
|a - b| <= RTOL * max(1, |b|) everywhere (and the shapes agree), else the
worst element."""
import sys

import numpy as np

a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
rtol = float(sys.argv[3])
if a.shape != b.shape:
    print(f"shape mismatch {a.shape} vs {b.shape}")
    sys.exit(0)
err = np.abs(a.astype(np.float64) - b) / np.maximum(1.0, np.abs(b))
print("match" if err.max() <= rtol else
      f"mismatch: max relative error {err.max()} at {np.unravel_index(err.argmax(), err.shape)}")
