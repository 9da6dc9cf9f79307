#!/usr/bin/env python3
"""Top-1 accuracy of float and int8 scores against labels, and the drop.

  accuracy.py FLOAT.npy INT8.npy LABELS.npy --max-drop POINTS
prints 'float A% int8 B% drop D points' and 'drop within P points' or
'drop above P points'.
"""
import argparse

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("float_scores")
ap.add_argument("int8_scores")
ap.add_argument("labels")
ap.add_argument("--max-drop", type=float, required=True)
args = ap.parse_args()
labels = np.load(args.labels).reshape(-1)
acc = []
for path in (args.float_scores, args.int8_scores):
    y = np.load(path)
    y = y.reshape(y.shape[0], -1)
    assert y.shape[0] == labels.size, (path, y.shape, labels.shape)
    acc.append(float(np.mean(y.argmax(axis=1) == labels)) * 100)
drop = acc[0] - acc[1]
print(f"float {acc[0]:.2f}% int8 {acc[1]:.2f}% drop {drop:.2f} points "
      f"on {labels.size} images")
print(f"drop {'within' if drop <= args.max_drop else 'above'} "
      f"{args.max_drop} points")
