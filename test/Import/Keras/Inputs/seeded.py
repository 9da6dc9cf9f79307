#!/usr/bin/env python3
"""seeded.py OUT.npy SEED LOW HIGH D0 D1 ...: uniform float32 values in
[LOW, HIGH) of the given shape, from a fixed seed."""
import sys

import numpy as np

out, seed, low, high = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
shape = [int(d) for d in sys.argv[5:]]
np.save(out, np.random.RandomState(seed).uniform(low, high, shape).astype(np.float32))
