"""Writes a small CNN with batch norms, scales, separate activations and
constant-only subgraphs, plus a random input, for preprocess-numerics.test.

Usage: preprocess_model.py OUT_DIR (writes model.mlir and x.npy)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "python"))
from vai_mlir import ModuleBuilder  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(7)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


b = ModuleBuilder()
x = b.argument((2, 9, 9, 3), name="data")
# conv -> batch_norm -> relu
w1 = b.constant(f32(8, 3, 3, 3, scale=0.3))
c1 = b.op("vai.conv2d", [x, w1, b.constant(f32(8))], {"pad": [1, 1, 1, 1]},
          (2, 9, 9, 8), name="conv1")
bn = b.op("vai.batch_norm",
          [c1, b.constant(f32(8)), b.constant(np.abs(f32(8)) + 0.5),
           b.constant(f32(8)), b.constant(f32(8))],
          {"epsilon": 1e-3}, (2, 9, 9, 8), name="bn1")
r1 = b.op("vai.relu", [bn], {}, (2, 9, 9, 8), name="relu1")
# depthwise -> scale -> bias_add -> relu6
dw = b.op("vai.depthwise_conv2d", [r1, b.constant(f32(2, 3, 3, 8, scale=0.3))],
          {"strides": [2, 2], "pad": [1, 1, 1, 1]}, (2, 5, 5, 16), name="dw")
sc = b.op("vai.scale", [dw, b.constant(f32(16)), b.constant(f32(16))], {},
          (2, 5, 5, 16), name="scale")
ba = b.op("vai.bias_add", [sc, b.constant(f32(16))], {}, (2, 5, 5, 16),
          name="bias")
r2 = b.op("vai.relu6", [ba], {}, (2, 5, 5, 16), name="relu6")
# a per-channel offset computed from constants (transpose + add)
k = b.constant(f32(16, 1))
kt = b.op("vai.transpose", [k], {"perm": [1, 0]}, (1, 16), name="k_t")
k2 = b.op("vai.add", [kt, kt], {}, (1, 16), name="k_2")
k3 = b.op("vai.reshape", [k2], {"shape": [16]}, (16,), name="k_3")
off = b.op("vai.bias_add", [r2, k3], {}, (2, 5, 5, 16), name="offset")
# global pool -> flatten -> fc -> batch norm -> leaky relu
gp = b.op("vai.global_avg_pool2d", [off], {}, (2, 1, 1, 16), name="pool")
fl = b.op("vai.flatten", [gp], {}, (2, 16), name="flatten")
fc = b.op("vai.inner_product", [fl, b.constant(f32(10, 16, scale=0.3))], {},
          (2, 10), name="fc")
bn2 = b.op("vai.batch_norm",
           [fc, b.constant(f32(10)), b.constant(np.abs(f32(10)) + 0.5),
            b.constant(f32(10)), b.constant(f32(10))],
           {}, (2, 10), name="bn2")
lr = b.op("vai.leaky_relu", [bn2], {"alpha": 0.1}, (2, 10), name="leaky")
b.returns([lr])
b.write(os.path.join(out, "model.mlir"))
np.save(os.path.join(out, "x.npy"), f32(2, 9, 9, 3))
