#!/usr/bin/env python3
"""The MNIST test set in ../shared/data/images/mnist for the import tests.

  mnist.py images SHARED OUT.npy [--layout nhwc|nchw] [--divisor D]
      all 10000 test images as float32 / D (default 255), NHWC or NCHW
  mnist.py labels SHARED OUT.npy
      the labels as int64
  mnist.py accuracy SHARED SCORES.npy
      prints the top-1 accuracy of SCORES [10000, 10] against the labels
  --first F --count N select test images [F, F + N) (images, labels)
"""
import argparse
import gzip

import numpy as np


def read(shared, name, offset):
    with gzip.open(f"{shared}/images/mnist/{name}") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


ap = argparse.ArgumentParser()
ap.add_argument("cmd", choices=["images", "labels", "accuracy"])
ap.add_argument("shared")
ap.add_argument("file")
ap.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc")
ap.add_argument("--divisor", type=float, default=255.0)
ap.add_argument("--first", type=int, default=0)
ap.add_argument("--count", type=int, default=10000)
args = ap.parse_args()
pick = slice(args.first, args.first + args.count)
if args.cmd == "images":
    x = read(args.shared, "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    x = x[pick]
    if args.layout == "nchw":
        x = x.transpose(0, 3, 1, 2)
    np.save(args.file, (x.astype(np.float32) / np.float32(args.divisor)))
elif args.cmd == "labels":
    labels = read(args.shared, "t10k-labels-idx1-ubyte.gz", 8)[pick]
    np.save(args.file, labels.astype(np.int64))
else:
    labels = read(args.shared, "t10k-labels-idx1-ubyte.gz", 8)
    y = np.load(args.file)
    top1 = float(np.mean(y.argmax(axis=1) == labels)) * 100
    print(f"top-1 {top1:.2f}% on {len(labels)} MNIST test images")
