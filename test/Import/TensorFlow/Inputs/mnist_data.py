#!/usr/bin/env python3
"""Inputs and checks for the MNIST GraphDef tests.

  mnist_data.py prepare SHARED_DATA OUTDIR
      OUTDIR/x10.npy: refs/mnist_t10k_first10_uint8_nhwc.npy / 255 as
          [10, 784] rows (the preprocessing the reference outputs were made
          with; checked to be the first ten images of the test set)
      OUTDIR/x10000.npy: the whole MNIST test set, likewise
  mnist_data.py accuracy SHARED_DATA OUT.npy
      prints the top-1 accuracy of OUT (scores per class) against the labels
"""
import gzip
import sys

import numpy as np


def mnist(shared, name, offset):
    with gzip.open(f"{shared}/images/mnist/{name}") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


cmd, shared, out = sys.argv[1:4]
if cmd == "prepare":
    images = mnist(shared, "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    first10 = np.load(f"{shared}/refs/mnist_t10k_first10_uint8_nhwc.npy")
    if not np.array_equal(first10.reshape(10, 784), images[:10]):
        sys.exit("mnist_data.py: the reference images are not the test set's")
    np.save(f"{out}/x10.npy", (first10.reshape(10, 784) / 255.0).astype(np.float32))
    np.save(f"{out}/x10000.npy", (images / 255.0).astype(np.float32))
elif cmd == "accuracy":
    labels = mnist(shared, "t10k-labels-idx1-ubyte.gz", 8)
    y = np.load(out)
    top1 = float(np.mean(y.argmax(axis=1) == labels)) * 100
    print(f"top-1 {top1:.2f}% on {len(labels)} MNIST test images")
else:
    sys.exit("mnist_data.py: unknown command " + cmd)
