#!/usr/bin/env python3
"""random_input.py OUT.npy D0,D1,... [SEED]: standard normal float32 values
of that shape (seeded; default seed 0)."""
import sys

import numpy as np

shape = [int(d) for d in sys.argv[2].split(",")]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
np.save(sys.argv[1],
        np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
