#!/usr/bin/env python3
"""Splits the CIFAR-10 test JPEGs of ../shared/data into calibration and
held-out halves without copying them.

  cifar_split.py CIFAR_DIR OUT
    OUT/calib/<class>/NNNN.jpg  links to the first 50 images of each class
    OUT/eval/<class>/NNNN.jpg   links to the other 50
    OUT/eval.npy                the held-out images, NCHW float32, normalised
                                as torchvision/akamaster's CIFAR models expect
    OUT/labels.npy              their class indices (classes sorted by name)
"""
import os
import sys

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255

src, out = sys.argv[1:3]
src = os.path.abspath(src)
classes = sorted(os.listdir(src))
images, labels = [], []
for label, cls in enumerate(classes):
    files = sorted(os.listdir(os.path.join(src, cls)))
    for half, part in (("calib", files[:50]), ("eval", files[50:100])):
        os.makedirs(os.path.join(out, half, cls), exist_ok=True)
        for f in part:
            os.symlink(os.path.join(src, cls, f), os.path.join(out, half, cls, f))
    for f in files[50:100]:
        rgb = np.asarray(Image.open(os.path.join(src, cls, f)).convert("RGB"),
                         np.float32)
        images.append(((rgb - MEAN) / STD).transpose(2, 0, 1))
        labels.append(label)
np.save(os.path.join(out, "eval.npy"), np.stack(images).astype(np.float32))
np.save(os.path.join(out, "labels.npy"), np.array(labels, np.int64))
