"""Quantized ops on the reference interpreter against NumPy's integer model.

Each case is a model `x -> fix(px) -> op -> fix(py) -> y` (weights and biases
are constants followed by their fix). NumPy computes docs/quantization.md's
integer semantics independently (int64, its own convolution loops) and the
interpreter's float output must equal q * 2^-py exactly.

quantized_check.py DIR   (vai-run on PATH) prints 'case <name>: match' lines.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../python"))
from vai_mlir.mlir_text import ModuleBuilder  # noqa: E402

RNG = np.random.default_rng(7)


def rshift(a, s):
    a = np.asarray(a, np.int64)
    if s > 0:
        return (a + (1 << (s - 1))) >> s
    return a * (1 << -s)


def quant(x, p, lo=-127, hi=127, std=False):
    v = x.astype(np.float64) * 2.0 ** p
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) if std else np.floor(v + 0.5)
    return np.clip(q, lo, hi).astype(np.int64)


def act(acc, shift, kind, py):
    if kind == "leaky_relu":
        y = np.where(acc < 0, rshift(acc * 26, shift + 8), rshift(acc, shift))
    else:
        y = rshift(acc, shift)
    if kind in ("relu", "relu6"):
        y = np.maximum(y, 0)
    if kind == "relu6":
        y = np.minimum(y, 6 * 2 ** py)
    return np.clip(y, -127, 127)


def conv_sums(q, w, stride, pad, groups=1):
    """int64 NHWC x OHWI grouped convolution, zero padding."""
    n, h, wd, c = q.shape
    o, kh, kw, icg = w.shape
    qp = np.pad(q, ((0, 0), (pad[0], pad[1]), (pad[2], pad[3]), (0, 0)))
    oh = (h + pad[0] + pad[1] - kh) // stride[0] + 1
    ow = (wd + pad[2] + pad[3] - kw) // stride[1] + 1
    out = np.zeros((n, oh, ow, o), np.int64)
    ocg = o // groups
    for g in range(groups):
        for ky in range(kh):
            for kx in range(kw):
                patch = qp[:, ky:ky + stride[0] * (oh - 1) + 1:stride[0],
                           kx:kx + stride[1] * (ow - 1) + 1:stride[1],
                           g * icg:(g + 1) * icg]
                out[..., g * ocg:(g + 1) * ocg] += np.einsum(
                    "nhwc,oc->nhwo", patch, w[g * ocg:(g + 1) * ocg, ky, kx, :])
    return out


def transposed_sums(q, w, stride, pad, out_hw):
    n, h, wd, c = q.shape
    o, kh, kw, _ = w.shape
    full = np.zeros((n, (h - 1) * stride[0] + kh, (wd - 1) * stride[1] + kw, o),
                    np.int64)
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + stride[0] * (h - 1) + 1:stride[0],
                 kx:kx + stride[1] * (wd - 1) + 1:stride[1], :] += np.einsum(
                     "nhwc,oc->nhwo", q, w[:, ky, kx, :])
    out = np.zeros((n,) + out_hw + (o,), np.int64)
    crop = full[:, pad[0]:, pad[2]:, :][:, :out_hw[0], :out_hw[1], :]
    out[:, :crop.shape[1], :crop.shape[2], :] = crop
    return out


def fix(b, v, p, std=False, symmetric=True, name=None):
    mode = "std_round" if std else "dpu_round"
    return b.op("vai.fix", [v], {"fix_point": p, "symmetric": symmetric,
                                 "round_mode": mode},
                v.shape, name=name)


def weight(b, shape, pw, scale=1.0):
    w = (RNG.standard_normal(shape) * scale).astype(np.float32)
    return fix(b, b.constant(w), pw, std=True, symmetric=False), \
        quant(w, pw, -128, 127, std=True)


class Case:
    def __init__(self, name, in_shape, px, py, scale=4.0):
        self.name, self.px, self.py = name, px, py
        self.b = ModuleBuilder()
        self.x = (RNG.standard_normal(in_shape) * scale).astype(np.float32)
        self.arg = self.b.argument(in_shape, name="x")
        self.fx = fix(self.b, self.arg, px)
        self.qx = quant(self.x, px)

    def finish(self, y, out_shape, q_expected):
        self.b.returns([fix(self.b, y, self.py)])
        self.expected = (q_expected.astype(np.float64) *
                         2.0 ** -self.py).astype(np.float32)
        assert self.expected.shape == tuple(out_shape)
        return self


def conv_case(name, in_shape, oc, k, stride, pad, px, pw, pb, py, act_kind,
              groups=1, scale=4.0, wscale=1.0, bias=True):
    c = Case(name, in_shape, px, py, scale)
    fw, qw = weight(c.b, (oc, k, k, in_shape[3] // groups), pw, wscale)
    operands = [c.fx, fw]
    if bias:
        fb, qb = weight(c.b, (oc,), pb, 2.0)
        operands.append(fb)
    sums = conv_sums(c.qx, qw, stride, pad, groups)
    if bias:
        sums = sums + qb * 2 ** (px + pw - pb)
    attrs = {"strides": stride, "pad": pad, "groups": groups}
    if act_kind != "none":
        attrs["act"] = act_kind
        if act_kind == "leaky_relu":
            attrs["act_alpha"] = 0.1
    y = c.b.op("vai.conv2d", operands, attrs, sums.shape, name=name)
    return c.finish(y, sums.shape, act(sums, px + pw - py, act_kind, py))


def cases():
    out = [
        conv_case("conv3x3_bias", (2, 9, 7, 16), 24, 3, [1, 1], [1, 1, 1, 1],
                  4, 6, 5, 3, "none"),
        # 4608-term sums of +-127 products: beyond float32's exact range.
        conv_case("conv_k4608", (1, 5, 5, 512), 16, 3, [1, 1], [0, 0, 0, 0],
                  0, 0, 0, -6, "none", scale=400.0, wscale=300.0),
        conv_case("conv_s2_relu_groups", (1, 11, 10, 8), 12, 3, [2, 2],
                  [0, 1, 1, 0], 3, 7, 6, 2, "relu", groups=2),
        conv_case("conv_leaky", (1, 6, 6, 8), 8, 1, [1, 1], [0, 0, 0, 0],
                  4, 6, 2, 4, "leaky_relu"),
        conv_case("conv_relu6", (1, 6, 6, 8), 8, 3, [1, 1], [1, 1, 1, 1],
                  4, 6, 5, 4, "relu6"),
        conv_case("conv_nobias", (1, 6, 6, 3), 5, 5, [1, 2], [2, 2, 2, 2],
                  5, 7, 0, 4, "none", bias=False),
    ]

    # depthwise, multiplier 2: out channel c * 2 + m.
    c = Case("depthwise", (1, 8, 8, 6), 4, 3)
    fw, qw = weight(c.b, (2, 3, 3, 6), 6)
    fb, qb = weight(c.b, (12,), 5, 2.0)
    grouped = np.zeros((12, 3, 3, 1), np.int64)
    for ci in range(6):
        for m in range(2):
            grouped[ci * 2 + m, :, :, 0] = qw[m, :, :, ci]
    sums = conv_sums(c.qx, grouped, [1, 1], [1, 1, 1, 1], groups=6) + qb * 2 ** 5
    y = c.b.op("vai.depthwise_conv2d", [c.fx, fw, fb],
               {"pad": [1, 1, 1, 1], "act": "relu"}, sums.shape, name="dw")
    out.append(c.finish(y, sums.shape, act(sums, 4 + 6 - 3, "relu", 3)))

    # transposed conv, stride 2, pad 1, output padding 1.
    c = Case("transposed", (1, 5, 4, 6), 4, 3)
    fw, qw = weight(c.b, (4, 3, 3, 6), 6)
    fb, qb = weight(c.b, (4,), 4, 2.0)
    oh, ow = (5 - 1) * 2 - 2 + 3 + 1, (4 - 1) * 2 - 2 + 3 + 1
    sums = transposed_sums(c.qx, qw, [2, 2], [1, 1, 1, 1], (oh, ow)) + qb * 2 ** 6
    y = c.b.op("vai.transposed_conv2d", [c.fx, fw, fb],
               {"strides": [2, 2], "pad": [1, 1, 1, 1], "output_padding": [1, 1]},
               sums.shape, name="deconv")
    out.append(c.finish(y, sums.shape, act(sums, 4 + 6 - 3, "none", 3)))

    # inner product.
    c = Case("inner_product", (3, 40), 4, 2)
    fw, qw = weight(c.b, (10, 40), 7)
    fb, qb = weight(c.b, (10,), 3, 2.0)
    sums = c.qx @ qw.T + qb * 2 ** (4 + 7 - 3)
    y = c.b.op("vai.inner_product", [c.fx, fw, fb], {}, sums.shape, name="fc")
    out.append(c.finish(y, sums.shape, act(sums, 4 + 7 - 2, "none", 2)))

    # add of two inputs at different positions, relu.
    c = Case("add_relu", (2, 4, 5, 6), 5, 4)
    x2 = (RNG.standard_normal((2, 4, 5, 6)) * 8).astype(np.float32)
    arg2 = c.b.argument(x2.shape, name="x2")
    c.extra = [x2]
    f2 = fix(c.b, arg2, 3)
    q2 = quant(x2, 3)
    y = c.b.op("vai.add", [c.fx, f2], {"act": "relu"}, x2.shape, name="add")
    acc = c.qx + q2 * 2 ** (5 - 3)
    out.append(c.finish(y, x2.shape, act(acc, 5 - 4, "relu", 4)))

    # average pooling with the DPU's factors: 3x3 (7/64), 2x2 (exact), 7x7
    # global (21/1024), 5x3 (the general rule).
    for name, shape, k, s, pad, mul, shift in [
            ("avgpool3x3", (1, 8, 8, 6), 3, 1, 1, 7, 6),
            ("avgpool2x2", (1, 8, 8, 6), 2, 2, 0, 1, 2),
            ("avgpool5x3", (1, 10, 9, 4), (5, 3), 1, 0, None, None)]:
        kh, kw = (k, k) if isinstance(k, int) else k
        if mul is None:
            n = kh * kw
            best = None
            for sh in range(int(np.ceil(np.log2(n * 128)))):
                m = int(np.floor(2.0 ** sh / n + 0.5))
                err = abs(m / 2.0 ** sh - 1.0 / n)
                if best is None or err < best[0]:
                    best = (err, m, sh)
            _, mul, shift = best
        c = Case(name, shape, 5, 4)
        sums = conv_sums(c.qx.transpose(3, 1, 2, 0), np.ones((1, kh, kw, 1), np.int64),
                         [s, s], [pad] * 4).transpose(3, 1, 2, 0)
        y = c.b.op("vai.avg_pool2d", [c.fx],
                   {"kernel": [kh, kw], "strides": [s, s], "pad": [pad] * 4,
                    "count_include_pad": True}, sums.shape, name=name)
        out.append(c.finish(y, sums.shape, act(sums * mul, shift + 5 - 4, "none", 4)))

    c = Case("global_avgpool7x7", (2, 7, 7, 5), 5, 5)
    sums = c.qx.sum(axis=(1, 2), keepdims=True)
    y = c.b.op("vai.global_avg_pool2d", [c.fx], {}, sums.shape, name="gap")
    out.append(c.finish(y, sums.shape, act(sums * 21, 10, "none", 5)))

    # max pooling to a lower position, concat of inputs at other positions:
    # float op then fix must equal the integer requantization.
    c = Case("maxpool_requant", (1, 6, 6, 4), 6, 3)
    m = c.qx.reshape(1, 3, 2, 3, 2, 4).max(axis=(2, 4))
    y = c.b.op("vai.max_pool2d", [c.fx], {"kernel": [2, 2], "strides": [2, 2]},
               m.shape, name="pool")
    out.append(c.finish(y, m.shape, np.clip(rshift(m, 3), -127, 127)))

    c = Case("concat_requant", (1, 3, 3, 4), 3, 5, scale=2.0)
    x2 = (RNG.standard_normal((1, 3, 3, 2)) * 30).astype(np.float32)
    arg2 = c.b.argument(x2.shape, name="x2")
    c.extra = [x2]
    f2 = fix(c.b, arg2, 1)
    y = c.b.op("vai.concat", [c.fx, f2], {"axis": 3}, (1, 3, 3, 6), name="cat")
    q = np.concatenate([np.clip(rshift(c.qx, 3 - 5), -127, 127),
                        np.clip(rshift(quant(x2, 1), 1 - 5), -127, 127)], axis=3)
    out.append(c.finish(y, q.shape, q))
    return out


def main(d):
    os.makedirs(d, exist_ok=True)
    for c in cases():
        model = os.path.join(d, c.name + ".mlir")
        with open(model, "w") as f:
            f.write(c.b.text())
        args = ["vai-run", "--reference", model]
        for i, x in enumerate([c.x] + getattr(c, "extra", [])):
            path = os.path.join(d, f"{c.name}_in{i}.npy")
            np.save(path, x)
            args += ["--input", path]
        y = os.path.join(d, c.name + "_out.npy")
        subprocess.run(args + ["--output", y], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(y)
        bad = np.count_nonzero(got != c.expected)
        if bad:
            i = np.flatnonzero(got.reshape(-1) != c.expected.reshape(-1))[0]
            print(f"case {c.name}: {bad} of {got.size} differ, first at {i}: "
                  f"{got.reshape(-1)[i]} vs {c.expected.reshape(-1)[i]}")
        else:
            print(f"case {c.name}: match")


if __name__ == "__main__":
    main(sys.argv[1])
