#!/usr/bin/env python3
"""mtcnn_patches.py IMAGE OUTDIR

Writes MTCNN inputs cut from a real photo, normalised as MTCNN does
((pixel - 127.5) / 128), NCHW float32:
  det1_in.npy  1x3x60x80: the image's centre region resized (P-Net runs on
               any size)
  det2_in.npy  4x3x24x24: four patches of the image resized to 24x24 (R-Net)
"""
import sys

import numpy as np
from PIL import Image

image = Image.open(sys.argv[1]).convert("RGB")
out = sys.argv[2]
w, h = image.size


def patch(box, size):
    a = np.asarray(image.crop(box).resize(size, Image.BILINEAR), np.float32)
    return ((a - 127.5) / 128.0).transpose(2, 0, 1)


det1 = patch((w // 4, h // 4, 3 * w // 4, 3 * h // 4), (80, 60))[None]
np.save(f"{out}/det1_in.npy", np.ascontiguousarray(det1))
boxes = [(x, y, x + h // 4, y + h // 4)
         for x, y in [(w // 8, h // 8), (w // 3, h // 4), (w // 2, h // 3),
                      (2 * w // 3, h // 2)]]
det2 = np.stack([patch(b, (24, 24)) for b in boxes])
np.save(f"{out}/det2_in.npy", np.ascontiguousarray(det2))
