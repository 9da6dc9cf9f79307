#!/usr/bin/env python3
"""Inputs and checks for the LeNet test.

  lenet_data.py --pb-dir D prepare SHARED_DATA OUTDIR
      OUTDIR/lenet_logits.prototxt: the deploy net without its Softmax, so
          that the net's output is ip2 (the reference holds ip2's logits)
      OUTDIR/x10.npy: the first ten MNIST test images, NCHW, scaled by 1/256
      OUTDIR/x10000.npy: the whole MNIST test set, likewise
  lenet_data.py --pb-dir D accuracy SHARED_DATA LOGITS.npy
      prints the top-1 accuracy of LOGITS against the MNIST test labels
"""
import gzip
import sys

import numpy as np

pb_dir = sys.argv[2]
sys.path.insert(0, pb_dir)
import caffe_pb2 as pb  # noqa: E402
from google.protobuf import text_format  # noqa: E402

cmd, args = sys.argv[3], sys.argv[4:]
LENET = "caffe/arm_armnn_mnist/lenet_deploy_from_BVLC.prototxt"


def mnist(shared, name, offset):
    with gzip.open(f"{shared}/images/mnist/{name}") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


if cmd == "prepare":
    shared, out = args
    net = pb.NetParameter()
    with open(f"{shared}/{LENET}") as f:
        text_format.Parse(f.read(), net)
    kept = [l for l in net.layer if l.type != "Softmax"]
    del net.layer[:]
    net.layer.extend(kept)
    with open(f"{out}/lenet_logits.prototxt", "w") as f:
        f.write(text_format.MessageToString(net))
    images = mnist(shared, "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    x = images.astype(np.float32) / 256.0
    np.save(f"{out}/x10.npy", x[:10])
    np.save(f"{out}/x10000.npy", x)
elif cmd == "accuracy":
    shared, logits = args
    labels = mnist(shared, "t10k-labels-idx1-ubyte.gz", 8)
    y = np.load(logits)
    top1 = float(np.mean(y.argmax(axis=1) == labels)) * 100
    print(f"top-1 {top1:.2f}% on {len(labels)} MNIST test images")
else:
    sys.exit("lenet_data.py: unknown command " + cmd)
