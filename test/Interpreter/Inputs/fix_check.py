"""Checks vai.fix against a NumPy model of docs/quantization.md.

fix_check.py write DIR  -> DIR/x.npy and DIR/model.mlir (one vai.fix per case)
fix_check.py check DIR  -> compares DIR/out_<i>.npy with NumPy; prints 'match'
"""
import os
import sys

import numpy as np

# (fix_point, bit_width, round_mode, symmetric)
CASES = [(0, 8, "dpu_round", False), (3, 8, "dpu_round", True),
         (-2, 8, "dpu_round", True), (4, 8, "std_round", False),
         (1, 4, "py3_round", False), (7, 16, "dpu_round", False),
         (2, 8, "py3_round", True)]


def reference(x, p, bits, mode, symmetric):
    hi = 2 ** (bits - 1) - 1
    lo = -hi if symmetric else -hi - 1
    v = x.astype(np.float64) * 2.0 ** p
    if mode == "dpu_round":
        q = np.floor(v + 0.5)
    elif mode == "std_round":
        q = np.sign(v) * np.floor(np.abs(v) + 0.5)
    else:
        q = np.round(v)  # NumPy rounds half to even
    q = np.nan_to_num(q, nan=0.0)
    return (np.clip(q, lo, hi) * 2.0 ** -p).astype(np.float32)


def write(d):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(4000) * 40).astype(np.float32)
    # Exact ties at every position used, their negatives, extremes and NaN.
    ties = np.arange(-300, 301, dtype=np.float64) + 0.5
    extra = np.concatenate([t / 2.0 ** p for t in [ties] for p in (0, 1, 2, 3, 4, 7, -2)])
    x = np.concatenate([x, extra.astype(np.float32),
                        np.array([np.nan, np.inf, -np.inf, 1e30, -1e30], np.float32)])
    np.save(os.path.join(d, "x.npy"), x)
    n = x.size
    lines = [f"func.func @main(%x: tensor<{n}xf32>) -> (" +
             ", ".join([f"tensor<{n}xf32>"] * len(CASES)) + ") {"]
    for i, (p, bits, mode, sym) in enumerate(CASES):
        lines.append(f"  %{i} = vai.fix %x {{fix_point = {p} : i64, bit_width = {bits} : i64, "
                     f"round_mode = #vai<round {mode}>, symmetric = {str(sym).lower()}}} : tensor<{n}xf32>")
    lines.append("  return " + ", ".join(f"%{i}" for i in range(len(CASES))) + " : " +
                 ", ".join([f"tensor<{n}xf32>"] * len(CASES)))
    lines.append("}")
    with open(os.path.join(d, "model.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(" ".join(f"--output {os.path.join(d, f'out_{i}.npy')}" for i in range(len(CASES))))


def check(d):
    x = np.load(os.path.join(d, "x.npy"))
    bad = 0
    for i, case in enumerate(CASES):
        got = np.load(os.path.join(d, f"out_{i}.npy"))
        want = reference(x, *case)
        if not np.array_equal(got, want):
            k = int(np.argmax(got != want))
            print(f"case {case}: x={x[k]!r} got {got[k]!r} want {want[k]!r}")
            bad += 1
    print("match" if not bad else f"{bad} cases differ")


{"write": write, "check": check}[sys.argv[1]](sys.argv[2])
