#!/usr/bin/env python3
"""An independent NumPy evaluation of TensorFlow GraphDefs: the reference the
TensorFlow importer's tests compare vai-run against. It reads the .pb/.pbtxt
with the Python module protoc generates from lib/Import/TensorFlow/graph.proto
and computes the ops straight from TensorFlow's definitions.

  tf_numpy.py --pb-dir D run GRAPH [--feed NAME=x.npy ...]
              [--fetch NAME=out.npy ...]

A fed node takes the given value instead of being computed (this is how a
graph is cut, like vai-translate's --inputs); fetches are node names
("node" or "node:K").
"""
import argparse
import sys

import numpy as np

sys.setrecursionlimit(100000)

DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16,
          6: np.int8, 9: np.int64, 10: np.bool_, 17: np.uint16, 19: np.float16}


def load_graph(path, pb_dir):
    """Reads a binary (.pb) or text (.pbtxt) GraphDef; `pb_dir` holds
    graph_pb2.py."""
    sys.path.insert(0, pb_dir)
    import graph_pb2 as pb
    from google.protobuf import text_format
    g = pb.GraphDef()
    if path.endswith(".pbtxt"):
        with open(path) as f:
            text_format.Parse(f.read(), g, allow_unknown_field=True)
    else:
        with open(path, "rb") as f:
            g.ParseFromString(f.read())
    return g


def tensor_value(t):
    dt = DTYPES[t.dtype]
    shape = [d.size for d in t.tensor_shape.dim]
    n = int(np.prod(shape)) if shape else 1
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dt).reshape(shape).copy()
    vals = {1: t.float_val, 2: t.double_val, 9: t.int64_val,
            10: t.bool_val}.get(t.dtype, t.int_val)
    if t.dtype == 19:
        vals = np.array(t.half_val, np.uint16).view(np.float16)
    vals = list(vals)
    if len(vals) < n:  # TensorFlow repeats the last value
        vals += [vals[-1] if vals else 0] * (n - len(vals))
    return np.array(vals, dt).reshape(shape)


def attr(node, name, default=None):
    if name not in node.attr:
        return default
    a = node.attr[name]
    kind = a.WhichOneof("value")
    if kind == "list":
        return list(a.list.i) or list(a.list.f) or list(a.list.s)
    v = getattr(a, kind)
    return v.decode() if isinstance(v, bytes) else v


# --- geometry -------------------------------------------------------------

def nhwc(node, x):
    return x.transpose(0, 2, 3, 1) if attr(node, "data_format", "NHWC") == "NCHW" else x


def back(node, y):
    return y.transpose(0, 3, 1, 2) if attr(node, "data_format", "NHWC") == "NCHW" else y


def hw(node, name, default=(1, 1, 1, 1)):
    v = attr(node, name, list(default))
    return (v[2], v[3]) if attr(node, "data_format", "NHWC") == "NCHW" else (v[1], v[2])


def same_pads(size, k, s, d):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def pads_of(node, in_hw, k_hw, strides, dil):
    padding = attr(node, "padding")
    if padding == "VALID":
        return [(0, 0), (0, 0)]
    if padding == "SAME":
        return [same_pads(in_hw[i], k_hw[i], strides[i], dil[i]) for i in range(2)]
    p = attr(node, "explicit_paddings")
    dims = (2, 3) if attr(node, "data_format", "NHWC") == "NCHW" else (1, 2)
    return [(p[2 * d], p[2 * d + 1]) for d in dims]


def taps(xp, kh, kw, s, d, oh, ow):
    """Yields (ky, kx, window) with window[n, oy, ox, c] the input at tap
    (ky, kx) of output position (oy, ox)."""
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * d[0], kx * d[1]
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * s[0] + 1:s[0],
                             x0:x0 + (ow - 1) * s[1] + 1:s[1], :]


def conv_setup(node, x, kh, kw, fill=0.0):
    s, d = hw(node, "strides"), hw(node, "dilations")
    p = pads_of(node, x.shape[1:3], (kh, kw), s, d)
    xp = np.pad(x, [(0, 0), p[0], p[1], (0, 0)], constant_values=fill)
    oh = (xp.shape[1] - (kh - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[2] - (kw - 1) * d[1] - 1) // s[1] + 1
    return xp, s, d, oh, ow


def conv2d(node, x, f):
    x = nhwc(node, x).astype(np.float64)
    kh, kw, icg, oc = f.shape
    groups = x.shape[3] // icg
    xp, s, d, oh, ow = conv_setup(node, x, kh, kw)
    out = np.zeros((x.shape[0], oh, ow, oc))
    ocg = oc // groups
    for ky, kx, win in taps(xp, kh, kw, s, d, oh, ow):
        for g in range(groups):
            out[..., g * ocg:(g + 1) * ocg] += (
                win[..., g * icg:(g + 1) * icg] @ f[ky, kx, :, g * ocg:(g + 1) * ocg])
    return back(node, out)


def depthwise(node, x, f):
    x = nhwc(node, x).astype(np.float64)
    kh, kw, c, m = f.shape
    xp, s, d, oh, ow = conv_setup(node, x, kh, kw)
    out = np.zeros((x.shape[0], oh, ow, c, m))
    for ky, kx, win in taps(xp, kh, kw, s, d, oh, ow):
        out += win[..., :, None] * f[ky, kx]
    return back(node, out.reshape(x.shape[0], oh, ow, c * m))


def conv_backprop_input(node, sizes, f, x):
    x = nhwc(node, x).astype(np.float64)
    kh, kw, oc, ic = f.shape
    nchw = attr(node, "data_format", "NHWC") == "NCHW"
    out_hw = (sizes[2], sizes[3]) if nchw else (sizes[1], sizes[2])
    s, d = hw(node, "strides"), hw(node, "dilations")
    p = pads_of(node, out_hw, (kh, kw), s, d)
    n, h, w, _ = x.shape
    full = np.zeros((n, (h - 1) * s[0] + (kh - 1) * d[0] + 1 + s[0],
                     (w - 1) * s[1] + (kw - 1) * d[1] + 1 + s[1], oc))
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * d[0], kx * d[1]
            full[:, y0:y0 + (h - 1) * s[0] + 1:s[0],
                 x0:x0 + (w - 1) * s[1] + 1:s[1], :] += x @ f[ky, kx].T
    out = full[:, p[0][0]:p[0][0] + out_hw[0], p[1][0]:p[1][0] + out_hw[1], :]
    return back(node, out)


def pool(node, x, kind):
    x = nhwc(node, x).astype(np.float64)
    kh, kw = hw(node, "ksize")
    if kind == "max":
        xp, s, d, oh, ow = conv_setup(node, x, kh, kw, fill=-np.inf)
        out = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf)
        for _, _, win in taps(xp, kh, kw, s, d, oh, ow):
            out = np.maximum(out, win)
        return back(node, out)
    # TensorFlow's average excludes the padding.
    xp, s, d, oh, ow = conv_setup(node, x, kh, kw)
    ones, _, _, _, _ = conv_setup(node, np.ones_like(x[..., :1]), kh, kw)
    total = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    count = np.zeros((x.shape[0], oh, ow, 1))
    for (_, _, win), (_, _, cwin) in zip(taps(xp, kh, kw, s, d, oh, ow),
                                         taps(ones, kh, kw, s, d, oh, ow)):
        total += win
        count += cwin
    return back(node, total / count)


def resize(node, x, size, bilinear):
    align = attr(node, "align_corners", False)
    half = attr(node, "half_pixel_centers", False)
    n, h, w, c = x.shape

    def scale(i, o):
        return (i - 1) / (o - 1) if align and o > 1 else i / o

    if not bilinear:
        def src(o, i):
            sc = scale(i, o)
            pos = (np.arange(o) + 0.5) * sc if half else np.arange(o) * sc
            idx = np.floor(pos + 0.5) if align else np.floor(pos)  # roundf
            return np.clip(idx.astype(np.int64), 0, i - 1)
        return x[:, src(size[0], h)][:, :, src(size[1], w)]

    def lerp_index(o, i):
        sc = scale(i, o)
        pos = (np.arange(o) + 0.5) * sc - 0.5 if half else np.arange(o) * sc
        lo = np.floor(pos)
        frac = pos - lo
        return (np.clip(lo, 0, i - 1).astype(np.int64),
                np.clip(np.ceil(pos), 0, i - 1).astype(np.int64), frac)

    y0, y1, fy = lerp_index(size[0], h)
    x0, x1, fx = lerp_index(size[1], w)
    x = x.astype(np.float64)
    top = x[:, y0][:, :, x0] * (1 - fx)[:, None] + x[:, y0][:, :, x1] * fx[:, None]
    bot = x[:, y1][:, :, x0] * (1 - fx)[:, None] + x[:, y1][:, :, x1] * fx[:, None]
    return top * (1 - fy)[:, None, None] + bot * fy[:, None, None]


def strided_slice(node, x, begin, end, strides):
    masks = {m: attr(node, m + "_mask", 0) for m in
             ("begin", "end", "ellipsis", "new_axis", "shrink_axis")}
    index = []
    for i in range(len(begin)):
        bit = 1 << i
        if masks["ellipsis"] & bit:
            index.append(Ellipsis)
        elif masks["new_axis"] & bit:
            index.append(np.newaxis)
        elif masks["shrink_axis"] & bit:
            index.append(int(begin[i]))
        else:
            index.append(slice(None if masks["begin"] & bit else int(begin[i]),
                               None if masks["end"] & bit else int(end[i]),
                               int(strides[i])))
    return np.asarray(x[tuple(index)])


# --- evaluation -------------------------------------------------------------

def run(graph, feeds, fetches):
    """Evaluates the `fetches` ("node" or "node:K") of `graph`, with the
    nodes named in `feeds` taking the given arrays."""
    nodes = {n.name: n for n in graph.node}
    memo = {}

    def value(ref):
        name, _, k = ref.partition(":")
        return outputs(name)[int(k) if k else 0]

    def outputs(name):
        if name in feeds:
            return [feeds[name]]
        if name not in memo:
            memo[name] = compute(nodes[name])
        return memo[name]

    def compute(node):
        ins = [value(i) for i in node.input if not i.startswith("^")]
        op = node.op
        if op == "Const":
            return [tensor_value(node.attr["value"].tensor)]
        if op in ("Identity", "StopGradient", "Snapshot", "PreventGradient",
                  "PlaceholderWithDefault"):
            return [ins[0]]
        if op == "IdentityN":
            return ins
        if op == "Cast":
            return [ins[0].astype(DTYPES[attr(node, "DstT")])]
        if op == "Conv2D":
            return [conv2d(node, ins[0], ins[1])]
        if op == "DepthwiseConv2dNative":
            return [depthwise(node, ins[0], ins[1])]
        if op == "Conv2DBackpropInput":
            return [conv_backprop_input(node, ins[0], ins[1], ins[2])]
        if op == "MatMul":
            a = ins[0].T if attr(node, "transpose_a", False) else ins[0]
            b = ins[1].T if attr(node, "transpose_b", False) else ins[1]
            return [a.astype(np.float64) @ b]
        if op in ("BiasAdd", "BiasAddV1"):
            x, b = ins
            if attr(node, "data_format", "NHWC") == "NCHW" and x.ndim >= 3:
                b = b.reshape([-1] + [1] * (x.ndim - 2))
            return [x + b]
        binary = {"Add": np.add, "AddV2": np.add, "Sub": np.subtract,
                  "Mul": np.multiply, "RealDiv": np.divide,
                  "Maximum": np.maximum, "Minimum": np.minimum,
                  "FloorDiv": np.floor_divide}
        if op in binary:
            return [binary[op](ins[0], ins[1])]
        if op == "Div":
            a, b = ins
            if np.issubdtype(np.asarray(a).dtype, np.integer):
                return [np.trunc(a / b).astype(np.asarray(a).dtype)]
            return [a / b]
        unary = {"Rsqrt": lambda x: 1 / np.sqrt(x), "Sqrt": np.sqrt,
                 "Reciprocal": lambda x: 1 / x, "Neg": np.negative,
                 "Square": np.square, "Relu": lambda x: np.maximum(x, 0),
                 "Relu6": lambda x: np.clip(x, 0, 6),
                 "Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Tanh": np.tanh}
        if op in unary:
            return [unary[op](ins[0])]
        if op == "LeakyRelu":
            x = ins[0]
            return [np.where(x >= 0, x, attr(node, "alpha", 0.2) * x)]
        if op == "Softmax":
            x = ins[0].astype(np.float64)
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return [e / e.sum(axis=-1, keepdims=True)]
        if op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
            x = nhwc(node, ins[0]).astype(np.float64)
            scale, offset, mean, var = ins[1:5]
            y = (x - mean) / np.sqrt(var + attr(node, "epsilon", 1e-4)) * scale + offset
            return [back(node, y)]
        if op == "MaxPool":
            return [pool(node, ins[0], "max")]
        if op == "AvgPool":
            return [pool(node, ins[0], "avg")]
        if op == "Mean":
            axes = tuple(np.atleast_1d(ins[1]).tolist())
            return [np.mean(ins[0].astype(np.float64), axis=axes,
                            keepdims=attr(node, "keep_dims", False))]
        if op in ("Pad", "PadV2", "MirrorPad"):
            p = [tuple(r) for r in ins[1].tolist()]
            if op == "MirrorPad":
                return [np.pad(ins[0], p, mode="reflect")]
            cv = float(ins[2]) if op == "PadV2" else 0.0
            return [np.pad(ins[0], p, constant_values=cv)]
        if op == "ConcatV2":
            return [np.concatenate(ins[:-1], axis=int(ins[-1]))]
        if op == "Concat":
            return [np.concatenate(ins[1:], axis=int(ins[0]))]
        if op == "Pack":
            return [np.stack(ins, axis=attr(node, "axis", 0))]
        if op == "Reshape":
            return [ins[0].reshape([int(v) for v in np.atleast_1d(ins[1])])]
        if op == "Squeeze":
            dims = attr(node, "squeeze_dims", [])
            return [np.squeeze(ins[0], axis=tuple(dims) if dims else None)]
        if op == "ExpandDims":
            return [np.expand_dims(ins[0], int(ins[1]))]
        if op == "Shape":
            return [np.array(np.shape(ins[0]), DTYPES[attr(node, "out_type", 3)])]
        if op == "StridedSlice":
            return [strided_slice(node, *ins)]
        if op == "Transpose":
            return [np.transpose(ins[0], ins[1])]
        if op == "ResizeBilinear":
            return [resize(node, ins[0], ins[1], True)]
        if op == "ResizeNearestNeighbor":
            return [resize(node, ins[0], ins[1], False)]
        sys.exit(f"tf_numpy.py: op {op} (node {node.name}) is not implemented")

    results = []
    for ref in fetches:
        results.append(np.asarray(value(ref)).astype(np.float32))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pb-dir", required=True)
    ap.add_argument("cmd", choices=["run"])
    ap.add_argument("graph")
    ap.add_argument("--feed", action="append", default=[])
    ap.add_argument("--fetch", action="append", default=[])
    args = ap.parse_args()
    graph = load_graph(args.graph, args.pb_dir)
    feeds = {}
    for spec in args.feed:
        name, path = spec.split("=", 1)
        feeds[name] = np.load(path).astype(np.float64)
    names = [spec.split("=", 1)[0] for spec in args.fetch]
    for spec, y in zip(args.fetch, run(graph, feeds, names)):
        np.save(spec.split("=", 1)[1], y)


if __name__ == "__main__":
    main()
