#!/usr/bin/env python3
"""An independent NumPy forward pass of a Keras model read with h5py.

  keras_numpy.py MODEL.h5|MODEL.json [--weights W.h5] --input X.npy ...
                 --output Y.npy ...

Reads the model JSON (the model_config attribute of a whole-model file, or
a model.json) and the weights as Keras's own loader does: layer groups in
the file, each layer's weights in its weight_names order (by position, not
by name). Follows TensorFlow's definitions: SAME padding puts the extra row
or column at the bottom/right, average pooling divides by the in-bounds
count, conv2d_transpose is the gradient of a convolution. Only what the
importer's tests use is implemented.
"""
import argparse
import json
import sys

import h5py
import numpy as np


def strings(attr):
    return [s.decode() if isinstance(s, bytes) else str(s) for s in attr]


def load_weights(path):
    """{layer name: [arrays in weight_names order]}"""
    f = h5py.File(path, "r")
    root = f["model_weights"] if "model_weights" in f else f
    out = {}
    if "layer_names" in root.attrs:
        names = strings(root.attrs["layer_names"])
    else:  # split by Keras into layer_names0, layer_names1, ...
        names, i = [], 0
        while f"layer_names{i}" in root.attrs:
            names += strings(root.attrs[f"layer_names{i}"])
            i += 1
    for name in names:
        g = root[name]
        out[name] = [np.asarray(g[w], np.float64) for w in strings(g.attrs["weight_names"])]
    return out


def load_config(path):
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    with h5py.File(path, "r") as f:
        cfg = f.attrs["model_config"]
        return json.loads(cfg.decode() if isinstance(cfg, bytes) else cfg)


# --- layer graph -----------------------------------------------------------

def history(t):
    return tuple(t["config"]["keras_history"][:3])


def calls_of(entry):
    """inbound tensors of each call: [[(layer, node, tensor), ...], ...]"""
    out = []
    for node in entry.get("inbound_nodes", []):
        if isinstance(node, dict):  # Keras 3
            refs = []

            def walk(v):
                if isinstance(v, list):
                    for e in v:
                        walk(e)
                elif isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
                    refs.append(history(v))
            walk(node["args"])
            out.append(refs)
        else:
            out.append([tuple(e[:3]) for e in node])
    return out


def graph(model):
    """(inputs, layers {name: (class, config, calls)}, outputs)"""
    cfg = model["config"]
    if model["class_name"] == "Sequential":
        entries = cfg if isinstance(cfg, list) else cfg["layers"]
        layers, prev, inputs = {}, None, []
        for e in entries:
            name = e["config"]["name"]
            if e["class_name"] == "InputLayer":
                inputs.append(name)
                prev = (name, 0, 0)
                continue
            if prev is None:
                inputs.append(name + "_input")
                prev = (name + "_input", 0, 0)
            layers[name] = (e["class_name"], e["config"], [[prev]])
            prev = (name, 0, 0)
        return inputs, layers, [prev]
    layers, inputs = {}, []
    for e in cfg["layers"]:
        name = e.get("name", e["config"]["name"])
        if e["class_name"] == "InputLayer":
            continue
        layers[name] = (e["class_name"], e["config"], calls_of(e))

    def endpoints(v):
        if len(v) == 3 and isinstance(v[0], str):
            v = [v]
        return [tuple(x[:3]) for x in v]
    inputs = [x[0] for x in endpoints(cfg["input_layers"])]
    return inputs, layers, endpoints(cfg["output_layers"])


# --- ops (NHWC) ------------------------------------------------------------

def pair(v, n=2):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def same_pad(size, k, s, d=1):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def pad_hw(x, mode, k, s, d, value=0.0):
    pads = [(0, 0)]
    for i in range(2):
        pads.append(same_pad(x.shape[1 + i], k[i], s[i], d[i]) if mode == "same" else (0, 0))
    pads.append((0, 0))
    return np.pad(x, pads, constant_values=value), pads


def windows(x, k, s, d):
    """yields (ky, kx, view [N, OH, OW, C]) over the kernel taps"""
    oh = (x.shape[1] - (k[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (x.shape[2] - (k[1] - 1) * d[1] - 1) // s[1] + 1
    for ky in range(k[0]):
        for kx in range(k[1]):
            y0, x0 = ky * d[0], kx * d[1]
            yield ky, kx, x[:, y0:y0 + (oh - 1) * s[0] + 1:s[0], x0:x0 + (ow - 1) * s[1] + 1:s[1], :]


def conv(x, w, strides, dilation, mode, groups=1):
    """x NHWC, w [KH, KW, C/groups, OC]"""
    k = w.shape[:2]
    x, _ = pad_hw(x, mode, k, strides, dilation)
    cg, og = w.shape[2], w.shape[3] // groups
    out = None
    for ky, kx, v in windows(x, k, strides, dilation):
        parts = [v[..., g * cg:(g + 1) * cg] @ w[ky, kx, :, g * og:(g + 1) * og] for g in range(groups)]
        t = np.concatenate(parts, axis=-1)
        out = t if out is None else out + t
    return out


def depthwise(x, w, strides, dilation, mode):
    """w [KH, KW, C, M] -> output channel c * M + m"""
    k = w.shape[:2]
    x, _ = pad_hw(x, mode, k, strides, dilation)
    out = None
    for ky, kx, v in windows(x, k, strides, dilation):
        t = (v[..., :, None] * w[ky, kx]).reshape(v.shape[:3] + (-1,))
        out = t if out is None else out + t
    return out


def conv_transpose(x, w, strides, dilation, mode, output_padding):
    """w [KH, KW, OC, IC]; TensorFlow's conv2d_transpose with Keras's size"""
    n, h, wd, _ = x.shape
    k = w.shape[:2]
    size = []
    for i, length in enumerate((h, wd)):
        dk = (k[i] - 1) * dilation[i] + 1
        s = strides[i]
        if output_padding is None:
            size.append(length * s + max(dk - s, 0) if mode == "valid" else length * s)
        else:
            pad = dk // 2 if mode == "same" else 0
            size.append((length - 1) * s + dk - 2 * pad + output_padding[i])
    full = [(h - 1) * strides[0] + (k[0] - 1) * dilation[0] + 1,
            (wd - 1) * strides[1] + (k[1] - 1) * dilation[1] + 1]
    big = np.zeros((n, max(full[0], size[0]) + full[0], max(full[1], size[1]) + full[1], w.shape[2]))
    for iy in range(h):
        for ix in range(wd):
            for ky in range(k[0]):
                for kx in range(k[1]):
                    big[:, iy * strides[0] + ky * dilation[0], ix * strides[1] + kx * dilation[1], :] += \
                        x[:, iy, ix, :] @ w[ky, kx].T
    # The forward convolution's SAME padding (before) is cropped.
    crop = []
    for i in range(2):
        dk = (k[i] - 1) * dilation[i] + 1
        need = max(0, ((h, wd)[i] - 1) * strides[i] + dk - size[i])
        crop.append(need // 2 if mode == "same" else 0)
    return big[:, crop[0]:crop[0] + size[0], crop[1]:crop[1] + size[1], :]


def pool(x, k, s, mode, kind):
    if kind == "max":
        xp, _ = pad_hw(x, mode, k, s, (1, 1), value=-np.inf)
        return np.max(np.stack([v for _, _, v in windows(xp, k, s, (1, 1))]), axis=0)
    xp, _ = pad_hw(x, mode, k, s, (1, 1))
    ones, _ = pad_hw(np.ones_like(x[..., :1]), mode, k, s, (1, 1))
    total = sum(v for _, _, v in windows(xp, k, s, (1, 1)))
    count = sum(v for _, _, v in windows(ones, k, s, (1, 1)))
    return total / count


def activation(x, name, keras3=False):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "hard_sigmoid":
        return np.clip(x / 6 + 0.5, 0, 1) if keras3 else np.clip(0.2 * x + 0.5, 0, 1)
    raise SystemExit(f"keras_numpy.py: activation {name} not implemented")


def nchw(x):
    return x.transpose(0, 2, 3, 1)


def back(x):
    return x.transpose(0, 3, 1, 2)


def layer_forward(cls, c, xs, w, keras3):
    x = xs[0]
    cf = c.get("data_format") == "channels_first"
    act = c.get("activation", "linear")
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Conv1D"):
        one_d = cls == "Conv1D"
        if one_d:
            x = (x.transpose(0, 2, 1) if cf else x)[:, None]
            w = [w[0][None]] + w[1:]
        elif cf:
            x = nchw(x)
        s = pair(c.get("strides", 1), 2 - one_d)
        d = pair(c.get("dilation_rate", 1), 2 - one_d)
        mode = c.get("padding", "valid")
        if one_d:
            s, d = [1] + s, [1] + d
            if mode == "causal":
                x = np.pad(x, [(0, 0), (0, 0), ((w[0].shape[1] - 1) * d[1], 0), (0, 0)])
                mode = "valid"
        if cls == "Conv2D" or cls == "Conv1D":
            y = conv(x, w[0], s, d, mode, c.get("groups", 1))
        elif cls == "DepthwiseConv2D":
            y = depthwise(x, w[0], s, d, mode)
        elif cls == "SeparableConv2D":
            y = conv(depthwise(x, w[0], s, d, mode), w[1], (1, 1), (1, 1), "valid")
        else:
            op = c.get("output_padding")
            y = conv_transpose(x, w[0], s, d, mode, None if op is None else pair(op))
        if c.get("use_bias", True):
            y = y + w[-1]
        y = activation(y, act, keras3)
        if one_d:
            y = y[:, 0]
            return y.transpose(0, 2, 1) if cf else y
        return back(y) if cf else y
    if cls == "Dense":
        y = x @ w[0]
        if c.get("use_bias", True):
            y = y + w[1]
        return activation(y, act, keras3)
    if cls == "BatchNormalization":
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        i = 0
        gamma = beta = None
        if c.get("scale", True):
            gamma, i = w[i], i + 1
        if c.get("center", True):
            beta, i = w[i], i + 1
        mean, var = w[i], w[i + 1]
        shape = [1] * x.ndim
        shape[axis] = -1
        y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + c.get("epsilon", 1e-3))
        if gamma is not None:
            y = y * gamma.reshape(shape)
        if beta is not None:
            y = y + beta.reshape(shape)
        return y
    if cls == "Activation":
        return activation(x, act, keras3)
    if cls == "ReLU":
        m, ns, th = c.get("max_value"), c.get("negative_slope", 0.0), c.get("threshold", 0.0)
        y = np.where(x >= th, x, ns * (x - th))
        return y if m is None else np.minimum(y, m)
    if cls == "LeakyReLU":
        a = c.get("negative_slope", c.get("alpha", 0.3))
        return np.where(x >= 0, x, a * x)
    if cls == "PReLU":
        return np.where(x >= 0, x, w[0] * x)
    if cls == "Softmax":
        e = np.exp(x - x.max(axis=c.get("axis", -1), keepdims=True))
        return e / e.sum(axis=c.get("axis", -1), keepdims=True)
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        k = pair(c.get("pool_size", 2))
        s = pair(c["strides"]) if c.get("strides") is not None else k
        y = pool(nchw(x) if cf else x, k, s, c.get("padding", "valid"),
                 "max" if cls == "MaxPooling2D" else "avg")
        return back(y) if cf else y
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        axes = (2, 3) if cf else (1, 2)
        f = np.mean if cls == "GlobalAveragePooling2D" else np.max
        return f(x, axis=axes, keepdims=bool(c.get("keepdims", False)))
    if cls == "Add":
        return sum(xs)
    if cls == "Subtract":
        return xs[0] - xs[1]
    if cls == "Multiply":
        y = xs[0]
        for v in xs[1:]:
            y = y * v
        return y
    if cls == "Average":
        return sum(xs) / len(xs)
    if cls == "Maximum":
        return np.maximum.reduce(xs)
    if cls == "Minimum":
        return np.minimum.reduce(xs)
    if cls == "Concatenate":
        return np.concatenate(xs, axis=c.get("axis", -1))
    if cls == "Flatten":
        if cf and x.ndim >= 3:
            x = np.moveaxis(x, 1, -1)
        return x.reshape(x.shape[0], -1)
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(c["target_shape"]))
    if cls == "ZeroPadding2D":
        p = c.get("padding", 1)
        p = [[p, p], [p, p]] if isinstance(p, int) else [pair(q) for q in p]
        pads = [(0, 0), (0, 0), tuple(p[0]), tuple(p[1])] if cf else \
            [(0, 0), tuple(p[0]), tuple(p[1]), (0, 0)]
        return np.pad(x, pads)
    if cls == "UpSampling2D":
        s = pair(c.get("size", 2))
        h, wd = (2, 3) if cf else (1, 2)
        return np.repeat(np.repeat(x, s[0], axis=h), s[1], axis=wd)
    if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
               "GaussianDropout", "AlphaDropout", "ActivityRegularization"):
        return x
    raise SystemExit(f"keras_numpy.py: layer class {cls} not implemented")


def run(model, weights, inputs, keras3):
    names, layers, outputs = graph(model)
    values = {(n, 0, 0): x.astype(np.float64) for n, x in zip(names, inputs)}

    def get(ref):
        if ref in values:
            return values[ref]
        name, node, _ = ref
        cls, c, calls = layers[name]
        xs = [get(r) for r in calls[node]]
        values[ref] = layer_forward(cls, c, xs, weights.get(name, []), keras3)
        return values[ref]
    return [get(tuple(o)) for o in outputs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--weights")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--output", action="append", default=[])
    args = ap.parse_args()
    model = load_config(args.model)
    weights = load_weights(args.weights or args.model)
    version = ""
    if not args.model.endswith(".json"):
        with h5py.File(args.model, "r") as f:
            v = f.attrs.get("keras_version", b"")
            version = v.decode() if isinstance(v, bytes) else str(v)
    else:
        version = model.get("keras_version", "")
    keras3 = version.startswith("3")
    outs = run(model, weights, [np.load(p) for p in args.input], keras3)
    if len(outs) != len(args.output):
        sys.exit(f"keras_numpy.py: the model has {len(outs)} outputs")
    for y, p in zip(outs, args.output):
        np.save(p, y.astype(np.float32))


if __name__ == "__main__":
    main()
