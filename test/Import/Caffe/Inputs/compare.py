#!/usr/bin/env python3
"""compare.py [--atol A] GOT.npy WANT.npy [GOT.npy WANT.npy ...]

Checks each pair has the same shape, finite values and a maximum absolute
difference of at most A; prints one "match" line per pair, or exits 1."""
import argparse
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--atol", type=float, default=1e-4)
ap.add_argument("files", nargs="+")
args = ap.parse_args()
if len(args.files) % 2:
    sys.exit("compare.py: expected GOT WANT pairs")
ok = True
for got_path, want_path in zip(args.files[::2], args.files[1::2]):
    got, want = np.load(got_path), np.load(want_path)
    if got.shape != want.shape:
        print(f"mismatch: {got_path} has shape {got.shape}, "
              f"{want_path} has {want.shape}")
        ok = False
        continue
    if not np.all(np.isfinite(got)):
        print(f"mismatch: {got_path} has non-finite values")
        ok = False
        continue
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
    shape = "x".join(map(str, got.shape))
    if err <= args.atol:
        print(f"match: {shape} max error {err:.3g}")
    else:
        print(f"mismatch: {got_path} {shape} max error {err:.3g} > {args.atol}")
        ok = False
sys.exit(0 if ok else 1)
