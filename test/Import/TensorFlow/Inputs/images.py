#!/usr/bin/env python3
"""images.py OUT.npy SIZE IMAGE [IMAGE ...]: the images resized to SIZE x
SIZE (bilinear), stacked as NHWC float32 and scaled to [-1, 1] as Keras'
MobileNet preprocess_input does."""
import sys

import numpy as np
from PIL import Image

out, size, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
batch = [np.asarray(Image.open(p).convert("RGB").resize((size, size),
                                                        Image.BILINEAR))
         for p in paths]
np.save(out, (np.stack(batch).astype(np.float32) / 127.5 - 1.0))
