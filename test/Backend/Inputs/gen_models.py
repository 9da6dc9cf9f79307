#!/usr/bin/env python3
"""Writes small float vai models with seeded random weights, and random
calibration/test inputs, for the backend's end-to-end tests.

usage: gen_models.py {lenet|resnet} OUTDIR
  OUTDIR/model.mlir, OUTDIR/calib.npy (stacked samples), OUTDIR/x0.npy,
  OUTDIR/x1.npy (two test images, NHWC [1, H, W, C])
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(1234)


def dense(a):
    return "dense<\"0x" + a.astype("<f4").tobytes().hex().upper() + "\"> : tensor<" + \
        "x".join(str(d) for d in a.shape) + "xf32>"


class Model:
    def __init__(self):
        self.lines = []
        self.n = 0

    def val(self):
        self.n += 1
        return f"%v{self.n}"

    def const(self, shape, scale):
        v = self.val()
        a = rng.normal(0, scale, shape).astype(np.float32)
        self.lines.append(f"  {v} = vai.constant {dense(a)}")
        return v

    def op(self, text, name):
        v = self.val()
        self.lines.append(f"  {v} = {text} loc(\"{name}\")")
        return v


def ty(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def conv(m, x, shape, oc, k, name, stride=1, pad=0, act="relu"):
    n, h, w, c = shape
    wt = m.const((oc, k, k, c), 1.0 / np.sqrt(k * k * c))
    b = m.const((oc,), 0.1)
    oh = (h + 2 * pad - k) // stride + 1
    ow = (w + 2 * pad - k) // stride + 1
    out = (1, oh, ow, oc)
    a = f", act = #vai<act {act}>" if act else ""
    v = m.op(f"vai.conv2d {x}, {wt}, {b} {{strides = array<i64: {stride}, {stride}>, "
             f"pad = array<i64: {pad}, {pad}, {pad}, {pad}>{a}}} : ({ty(shape)}, "
             f"{ty((oc, k, k, c))}, {ty((oc,))}) -> {ty(out)}", name)
    return v, out


def lenet(m):
    shape = (1, 28, 28, 1)
    x = "%x"
    x, s = conv(m, x, shape, 20, 5, "conv1")
    p = m.op(f"vai.max_pool2d {x} {{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}} : "
             f"({ty(s)}) -> {ty((1, 12, 12, 20))}", "pool1")
    x, s = conv(m, p, (1, 12, 12, 20), 50, 5, "conv2")
    p = m.op(f"vai.max_pool2d {x} {{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}} : "
             f"({ty(s)}) -> {ty((1, 4, 4, 50))}", "pool2")
    f = m.op(f"vai.flatten {p} {{axis = 1 : i64}} : ({ty((1, 4, 4, 50))}) -> {ty((1, 800))}", "flatten")
    w1 = m.const((500, 800), 1 / np.sqrt(800))
    b1 = m.const((500,), 0.1)
    f1 = m.op(f"vai.inner_product {f}, {w1}, {b1} {{act = #vai<act relu>}} : ({ty((1, 800))}, "
              f"{ty((500, 800))}, {ty((500,))}) -> {ty((1, 500))}", "ip1")
    w2 = m.const((10, 500), 1 / np.sqrt(500))
    b2 = m.const((10,), 0.1)
    y = m.op(f"vai.inner_product {f1}, {w2}, {b2} : ({ty((1, 500))}, {ty((10, 500))}, "
             f"{ty((10,))}) -> {ty((1, 10))}", "ip2")
    return shape, y, (1, 10)


def resnet(m):
    # conv -> max pool -> two basic blocks (the second downsamples, with a
    # 1x1 projection and a concat-free add) -> global average pool -> fc.
    shape = (1, 32, 32, 3)
    x, s = conv(m, "%x", shape, 16, 3, "conv1", pad=1)
    x = m.op(f"vai.max_pool2d {x} {{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, "
             f"pad = array<i64: 1, 1, 1, 1>}} : ({ty(s)}) -> {ty((1, 16, 16, 16))}", "pool1")
    s = (1, 16, 16, 16)
    a, _ = conv(m, x, s, 16, 3, "b1_conv1", pad=1)
    a, _ = conv(m, a, s, 16, 3, "b1_conv2", pad=1, act=None)
    x = m.op(f"vai.add {a}, {x} {{act = #vai<act relu>}} : ({ty(s)}, {ty(s)}) -> {ty(s)}", "b1_add")
    a, s2 = conv(m, x, s, 32, 3, "b2_conv1", stride=2, pad=1)
    a, _ = conv(m, a, s2, 32, 3, "b2_conv2", pad=1, act=None)
    p, _ = conv(m, x, s, 32, 1, "b2_proj", stride=2, act=None)
    x = m.op(f"vai.add {a}, {p} {{act = #vai<act relu>}} : ({ty(s2)}, {ty(s2)}) -> {ty(s2)}", "b2_add")
    c = m.op(f"vai.concat {x}, {a} {{axis = 3 : i64}} : ({ty(s2)}, {ty(s2)}) -> {ty((1, 8, 8, 64))}", "cat")
    g = m.op(f"vai.global_avg_pool2d {c} : ({ty((1, 8, 8, 64))}) -> {ty((1, 1, 1, 64))}", "gap")
    f = m.op(f"vai.reshape {g} {{shape = array<i64: 1, 64>}} : ({ty((1, 1, 1, 64))}) -> {ty((1, 64))}", "flat")
    w = m.const((10, 64), 1 / 8)
    b = m.const((10,), 0.1)
    y = m.op(f"vai.inner_product {f}, {w}, {b} : ({ty((1, 64))}, {ty((10, 64))}, {ty((10,))}) "
             f"-> {ty((1, 10))}", "fc")
    return shape, y, (1, 10)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    m = Model()
    shape, y, yshape = {"lenet": lenet, "resnet": resnet}[kind](m)
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write(f"func.func @main(%x: {ty(shape)} loc(\"data\")) -> {ty(yshape)} {{\n")
        f.write("\n".join(m.lines) + "\n")
        f.write(f"  return {y} : {ty(yshape)}\n}}\n")
    np.save(os.path.join(out, "calib.npy"),
            rng.normal(0, 1, (16,) + shape[1:]).astype(np.float32))
    for i in range(2):
        np.save(os.path.join(out, f"x{i}.npy"),
                rng.normal(0, 1, shape).astype(np.float32))


main()
