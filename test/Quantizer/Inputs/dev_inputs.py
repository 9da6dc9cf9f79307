#!/usr/bin/env python3
"""Unlabeled inputs for quantizing the dev models of ../shared/data.

  dev_inputs.py SHARED OUT
    OUT/mnist_nhwc.npy   400 MNIST test images, NHWC, x/255
    OUT/mnist_784.npy    the same flattened to 784 values
    OUT/normal16.npy     400 standard-normal vectors of 16 (hls4ml's jets
                         have no public sample here)
    OUT/normal8x8.npy    400 standard-normal 8x8x1 maps
"""
import gzip
import os
import sys

import numpy as np

shared, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
with gzip.open(f"{shared}/images/mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
x = x[:400].astype(np.float32) / np.float32(255)
np.save(f"{out}/mnist_nhwc.npy", x)
np.save(f"{out}/mnist_784.npy", x.reshape(-1, 784))
rng = np.random.default_rng(1)
np.save(f"{out}/normal16.npy", rng.standard_normal((400, 16)).astype(np.float32))
np.save(f"{out}/normal8x8.npy",
        rng.standard_normal((400, 8, 8, 1)).astype(np.float32))
