#!/usr/bin/env python3
"""A small NumPy re-implementation of Caffe's forward pass, the reference the
Caffe importer's tests compare vai-run against.

It reads nets with the Python classes protoc generates from the importer's
caffe.proto (--pb-dir), follows Caffe's definitions (ceil-mode pooling with
padding-inclusive averages, BatchNorm's scale-factor blob, Deconvolution
weights [IC, OC/g, KH, KW]) and never calls the importer.

  caffe_numpy.py --pb-dir D make-weights NET.prototxt OUT.caffemodel [--seed S]
      random weights of the right shapes for every layer that needs them
  caffe_numpy.py --pb-dir D make-inputs NET.prototxt OUTDIR [--seed S]
      random float32 inputs OUTDIR/<input name>.npy of the net's shapes
  caffe_numpy.py --pb-dir D run NET.prototxt WEIGHTS IN.npy OUT0.npy ...
      forward pass; outputs are the tops no layer consumes, in order
"""
import argparse
import sys

import numpy as np

TRAINING_ONLY = {"Data", "HDF5Data", "ImageData", "MemoryData", "WindowData",
                 "DummyData", "Accuracy", "Silence"}


def hw(lst, h, w, default):
    first = lst[0] if len(lst) else default
    second = lst[1] if len(lst) > 1 else first
    return (h if h is not None else first, w if w is not None else second)


def opt(msg, field):
    return getattr(msg, field) if msg.HasField(field) else None


def conv2d(x, w, b, stride, pad, dil, groups):
    n, c, h, wd = x.shape
    oc, icg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, oc, oh, ow), np.float64)
    ocg = oc // groups
    for g in range(groups):
        xs = xp[:, g * icg:(g + 1) * icg]
        ws = w[g * ocg:(g + 1) * ocg]
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dil[0], kx * dil[1]
                patch = xs[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0],
                           x0:x0 + stride[1] * (ow - 1) + 1:stride[1]]
                out[:, g * ocg:(g + 1) * ocg] += np.einsum(
                    "nihw,oi->nohw", patch, ws[:, :, ky, kx])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def deconv2d(x, w, b, stride, pad, dil, groups):
    n, ic, h, wd = x.shape
    _, ocg, kh, kw = w.shape
    icg = ic // groups
    fh = (h - 1) * stride[0] + dil[0] * (kh - 1) + 1
    fw = (wd - 1) * stride[1] + dil[1] * (kw - 1) + 1
    full = np.zeros((n, ocg * groups, fh, fw), np.float64)
    for g in range(groups):
        xs = x[:, g * icg:(g + 1) * icg]
        ws = w[g * icg:(g + 1) * icg]
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dil[0], kx * dil[1]
                full[:, g * ocg:(g + 1) * ocg,
                     y0:y0 + stride[0] * (h - 1) + 1:stride[0],
                     x0:x0 + stride[1] * (wd - 1) + 1:stride[1]] += np.einsum(
                         "nihw,io->nohw", xs, ws[:, :, ky, kx])
    out = full[:, :, pad[0]:fh - pad[0], pad[1]:fw - pad[1]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def pool(x, is_max, kernel, stride, pad):
    """Caffe's pooling: ceil rounding, AVE divides by the padded window."""
    n, c, h, w = x.shape
    oh = -(-(h + 2 * pad[0] - kernel[0]) // stride[0]) + 1
    ow = -(-(w + 2 * pad[1] - kernel[1]) // stride[1]) + 1
    if pad[0] and (oh - 1) * stride[0] >= h + pad[0]:
        oh -= 1
    if pad[1] and (ow - 1) * stride[1] >= w + pad[1]:
        ow -= 1
    out = np.zeros((n, c, oh, ow), np.float64)
    for y in range(oh):
        for xx in range(ow):
            hs, ws = y * stride[0] - pad[0], xx * stride[1] - pad[1]
            he = min(hs + kernel[0], h + pad[0])
            we = min(ws + kernel[1], w + pad[1])
            size = (he - hs) * (we - ws)
            win = x[:, :, max(hs, 0):min(he, h), max(ws, 0):min(we, w)]
            if is_max:
                out[:, :, y, xx] = win.max(axis=(2, 3))
            else:
                out[:, :, y, xx] = win.sum(axis=(2, 3)) / size
    return out


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def channel_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


class Net:
    def __init__(self, pb, prototxt, weights=None, rng=None):
        from google.protobuf import text_format
        self.pb = pb
        self.net = pb.NetParameter()
        with open(prototxt) as f:
            text_format.Parse(f.read(), self.net, allow_unknown_field=True)
        self.blobs = {}
        if weights:
            wnet = pb.NetParameter()
            with open(weights, "rb") as f:
                wnet.ParseFromString(f.read())
            for layer in list(wnet.layer) + list(wnet.layers):
                if len(layer.blobs):
                    self.blobs[layer.name] = [self.from_blob(b)
                                              for b in layer.blobs]
        for layer in self.net.layer:
            if len(layer.blobs) and layer.name not in self.blobs:
                self.blobs[layer.name] = [self.from_blob(b)
                                          for b in layer.blobs]
        self.rng = rng

    @staticmethod
    def from_blob(b):
        if b.HasField("shape"):
            shape = list(b.shape.dim)
        else:
            shape = [b.num, b.channels, b.height, b.width]
        data = np.array(b.data if len(b.data) else b.double_data, np.float64)
        return data.reshape(shape)

    def weights(self, layer, shapes):
        """The layer's blobs, squeezed to `shapes`; random when making."""
        if self.rng is not None:
            made = []
            for i, s in enumerate(shapes):
                if layer.type == "BatchNorm" and i == 1:
                    made.append(self.rng.uniform(0.5, 2.0, s))
                elif layer.type == "BatchNorm" and i == 2:
                    made.append(np.array([2.0]))
                else:
                    made.append(self.rng.uniform(-1, 1, s))
            self.blobs[layer.name] = made
        return [b.reshape(s) for b, s in zip(self.blobs[layer.name], shapes)]

    def inputs(self):
        names = list(self.net.input)
        for layer in self.net.layer:
            if layer.type == "Input":
                names += list(layer.top)
        return names

    def forward(self, feeds):
        vals = dict(feeds)
        order = []  # (name, consumed) in production order
        latest = {}
        for name in feeds:
            latest[name] = None

        def get(name):
            if latest.get(name) is not None:
                order[latest[name]][1] = True
            return vals[name]

        def put(name, v):
            vals[name] = v
            latest[name] = len(order)
            order.append([name, False])

        for layer in self.net.layer:
            t = layer.type
            if (t in TRAINING_ONLY or t.endswith("Loss") or t == "Input"):
                continue
            if any(r.HasField("phase") and r.phase != 1 for r in layer.include):
                continue
            bottoms = [get(b) for b in layer.bottom]
            outs = self.layer(layer, bottoms)
            for name, v in zip(layer.top, outs):
                put(name, v)
        return [vals[n] for n, consumed in order if not consumed]

    def layer(self, L, xs):
        t = L.type
        x = xs[0] if xs else None
        if t in ("Convolution", "Deconvolution"):
            p = L.convolution_param
            k = hw(p.kernel_size, opt(p, "kernel_h"), opt(p, "kernel_w"), 1)
            s = hw(p.stride, opt(p, "stride_h"), opt(p, "stride_w"), 1)
            pd = hw(p.pad, opt(p, "pad_h"), opt(p, "pad_w"), 0)
            d = hw(p.dilation, None, None, 1)
            c, oc, g = x.shape[1], p.num_output, p.group
            wshape = (c, oc // g) + k if t == "Deconvolution" else (oc, c // g) + k
            shapes = [wshape] + ([(oc,)] if p.bias_term else [])
            ws = self.weights(L, shapes)
            b = ws[1] if p.bias_term else None
            fn = deconv2d if t == "Deconvolution" else conv2d
            return [fn(x, ws[0], b, s, pd, d, g)]
        if t == "InnerProduct":
            p = L.inner_product_param
            axis = p.axis % x.ndim
            flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
            k, o = flat.shape[1], p.num_output
            shapes = [(k, o) if p.transpose else (o, k)]
            shapes += [(o,)] if p.bias_term else []
            ws = self.weights(L, shapes)
            w = ws[0].T if p.transpose else ws[0]
            y = flat @ w.T + (ws[1] if p.bias_term else 0)
            return [y.reshape(x.shape[:axis] + (o,))]
        if t == "Pooling":
            p = L.pooling_param
            is_max = p.pool == 0
            if p.global_pooling:
                k, s, pd = x.shape[2:], (1, 1), (0, 0)
            else:
                k = hw([], opt(p, "kernel_h"), opt(p, "kernel_w"), p.kernel_size)
                s = hw([], opt(p, "stride_h"), opt(p, "stride_w"), p.stride)
                pd = hw([], opt(p, "pad_h"), opt(p, "pad_w"), p.pad)
            return [pool(x, is_max, k, s, pd)]
        if t == "ReLU":
            a = L.relu_param.negative_slope
            return [np.where(x > 0, x, a * x)]
        if t == "PReLU":
            n = 1 if L.prelu_param.channel_shared else x.shape[1]
            a = self.weights(L, [(n,)])[0]
            a = a.reshape(channel_shape(x)) if n > 1 else a[0]
            return [np.where(x >= 0, x, a * x)]
        if t == "Sigmoid":
            return [1 / (1 + np.exp(-x))]
        if t == "TanH":
            return [np.tanh(x)]
        if t == "BatchNorm":
            c = x.shape[1]
            mean, var, f = self.weights(L, [(c,), (c,), (1,)])
            f = 0 if f[0] == 0 else 1 / f[0]
            cs = channel_shape(x)
            return [(x - (mean * f).reshape(cs)) /
                    np.sqrt((var * f).reshape(cs) + L.batch_norm_param.eps)]
        if t == "Scale":
            c = x.shape[1]
            bias = L.scale_param.bias_term
            ws = self.weights(L, [(c,)] + ([(c,)] if bias else []))
            y = x * ws[0].reshape(channel_shape(x))
            return [y + ws[1].reshape(channel_shape(x)) if bias else y]
        if t == "Eltwise":
            p = L.eltwise_param
            if p.operation == 1:
                co = list(p.coeff) or [1.0] * len(xs)
                return [sum(c * v for c, v in zip(co, xs))]
            y = xs[0]
            for v in xs[1:]:
                y = y * v if p.operation == 0 else np.maximum(y, v)
            return [y]
        if t == "Concat":
            p = L.concat_param
            axis = p.axis if p.HasField("axis") else p.concat_dim
            return [np.concatenate(xs, axis=axis)]
        if t == "Slice":
            p = L.slice_param
            axis = p.axis if p.HasField("axis") else p.slice_dim
            points = list(p.slice_point) or [
                x.shape[axis] // len(L.top) * i for i in range(1, len(L.top))]
            return np.split(x, points, axis=axis)
        if t == "Split":
            return [x] * len(L.top)
        if t == "Flatten":
            p = L.flatten_param
            a, e = p.axis % x.ndim, p.end_axis % x.ndim
            shape = x.shape[:a] + (int(np.prod(x.shape[a:e + 1])),) + x.shape[e + 1:]
            return [x.reshape(shape)]
        if t == "Reshape":
            p = L.reshape_param
            a = p.axis if p.axis >= 0 else p.axis + x.ndim + 1
            e = x.ndim if p.num_axes == -1 else a + p.num_axes
            dims = [x.shape[a + i] if d == 0 else d
                    for i, d in enumerate(p.shape.dim)]
            return [x.reshape(x.shape[:a] + tuple(dims) + x.shape[e:])]
        if t == "Softmax":
            return [softmax(x, L.softmax_param.axis)]
        if t == "Dropout":
            return [x]
        raise SystemExit("caffe_numpy.py: no reference for layer type " + t)


def input_shapes(net):
    """Shapes of the net's inputs from Input layers or legacy fields."""
    shapes = {}
    n = net.net
    for i, name in enumerate(n.input):
        if i < len(n.input_shape):
            shapes[name] = tuple(n.input_shape[i].dim)
        else:
            shapes[name] = tuple(n.input_dim[4 * i:4 * i + 4])
    for layer in n.layer:
        if layer.type == "Input":
            for i, top in enumerate(layer.top):
                s = layer.input_param.shape
                shapes[top] = tuple(s[0 if len(s) == 1 else i].dim)
    return shapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pb-dir", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-weights")
    mk.add_argument("prototxt")
    mk.add_argument("out")
    mk.add_argument("--seed", type=int, default=0)
    mi = sub.add_parser("make-inputs")
    mi.add_argument("prototxt")
    mi.add_argument("outdir")
    mi.add_argument("--seed", type=int, default=1)
    run = sub.add_parser("run")
    run.add_argument("prototxt")
    run.add_argument("weights")
    run.add_argument("inputs", nargs="+", help="IN.npy... then OUT.npy...")
    args = ap.parse_args()
    sys.path.insert(0, args.pb_dir)
    import caffe_pb2 as pb

    if args.cmd == "make-weights":
        rng = np.random.default_rng(args.seed)
        net = Net(pb, args.prototxt, rng=rng)
        feeds = {k: rng.uniform(-1, 1, s)
                 for k, s in input_shapes(net).items()}
        net.forward(feeds)
        out = pb.NetParameter()
        for layer in net.net.layer:
            if layer.name in net.blobs:
                l = out.layer.add()
                l.name, l.type = layer.name, layer.type
                for arr in net.blobs[layer.name]:
                    b = l.blobs.add()
                    b.shape.dim.extend(arr.shape)
                    b.data.extend(arr.astype(np.float32).ravel().tolist())
        with open(args.out, "wb") as f:
            f.write(out.SerializeToString())
        return
    if args.cmd == "make-inputs":
        rng = np.random.default_rng(args.seed)
        for name, shape in input_shapes(Net(pb, args.prototxt)).items():
            x = rng.uniform(-1, 1, shape).astype(np.float32)
            np.save(f"{args.outdir}/{name}.npy", x)
        return
    net = Net(pb, args.prototxt, args.weights)
    names = net.inputs()
    ins, outs = args.inputs[:len(names)], args.inputs[len(names):]
    feeds = {n: np.load(f).astype(np.float64) for n, f in zip(names, ins)}
    for path, v in zip(outs, net.forward(feeds)):
        np.save(path, v.astype(np.float32))


if __name__ == "__main__":
    main()
