#!/usr/bin/env python3
"""Inputs for vai-quantize's command-line tests (tiny.mlir takes 1x4x4x3).

  make_inputs.py OUT
    OUT/imgs/{a,b}.png       4x4 RGB images
    OUT/mixed/{a,b}.png      a 4x4 RGB and a 5x5 RGB image (wrong size)
    OUT/grayd/{a,b}.png      an RGB and a gray image (wrong channels)
    OUT/bad/x.jpg            not an image
    OUT/empty/               no inputs
    OUT/{good,zeros,nan,wrong}.npy  stacked samples; wrong.npy is 5x4x3
"""
import os
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]
for d in ("imgs", "mixed", "grayd", "bad", "empty"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
rng = np.random.default_rng(0)
rgb = lambda n: Image.fromarray(rng.integers(0, 256, (n, n, 3), np.uint8))
rgb(4).save(f"{out}/imgs/a.png")
rgb(4).save(f"{out}/imgs/b.png")
rgb(4).save(f"{out}/mixed/a.png")
rgb(5).save(f"{out}/mixed/b.png")
rgb(4).save(f"{out}/grayd/a.png")
Image.fromarray(rng.integers(0, 256, (4, 4), np.uint8)).save(f"{out}/grayd/b.png")
with open(f"{out}/bad/x.jpg", "w") as f:
    f.write("not an image\n")
np.save(f"{out}/good.npy", rng.standard_normal((16, 4, 4, 3)).astype(np.float32))
np.save(f"{out}/zeros.npy", np.zeros((4, 4, 4, 3), np.float32))
np.save(f"{out}/nan.npy", np.full((4, 4, 4, 3), np.nan, np.float32))
np.save(f"{out}/wrong.npy", np.zeros((4, 5, 4, 3), np.float32))
