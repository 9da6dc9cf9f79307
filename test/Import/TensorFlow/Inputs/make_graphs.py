#!/usr/bin/env python3
"""Writes small TensorFlow GraphDefs for the TensorFlow importer's tests,
with the Python module protoc generates from lib/Import/TensorFlow/graph.proto
(TensorFlow itself is not needed: the files are what tf.Graph.as_graph_def()
serialises, node by node).

  make_graphs.py --pb-dir D ops OUT_DIR
      one graph per op form in OUT_DIR/<case>.pb (one also as .pbtxt) and
      OUT_DIR/cases.json: per case its inputs (name, shape), fetches and
      extra vai-translate arguments
  make_graphs.py --pb-dir D errors OUT_DIR
      the graphs of errors.test (see there)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, sys.argv[2])
import graph_pb2 as pb  # noqa: E402
from google.protobuf import text_format  # noqa: E402

DT = {np.dtype(np.float32): pb.DT_FLOAT, np.dtype(np.int32): pb.DT_INT32,
      np.dtype(np.int64): pb.DT_INT64, np.dtype(np.uint8): pb.DT_UINT8}


def set_attr(a, v):
    if isinstance(v, bool):
        a.b = v
    elif isinstance(v, int):
        a.i = v
    elif isinstance(v, float):
        a.f = v
    elif isinstance(v, str):
        a.s = v.encode()
    elif isinstance(v, tuple) and v[0] == "type":
        a.type = v[1]
    elif isinstance(v, tuple) and v[0] == "shape":
        for d in v[1]:
            a.shape.dim.add().size = d
    elif isinstance(v, tuple) and v[0] == "shapes":
        for shape in v[1]:
            dims = a.list.shape.add()
            for d in shape:
                dims.dim.add().size = d
    elif isinstance(v, list):
        a.list.i.extend(v)
    elif isinstance(v, np.ndarray):
        set_tensor(a.tensor, v)
    else:
        raise TypeError(v)


def set_tensor(t, arr, typed=False):
    t.dtype = DT[arr.dtype]
    for d in arr.shape:
        t.tensor_shape.dim.add().size = d
    if typed or arr.size <= 1:  # small constants as TF writes them
        if arr.dtype == np.float32:
            t.float_val.extend(arr.ravel().tolist())
        elif arr.dtype == np.int64:
            t.int64_val.extend(arr.ravel().tolist())
        else:
            t.int_val.extend(arr.ravel().tolist())
    else:
        t.tensor_content = arr.tobytes()


class Graph:
    def __init__(self):
        self.g = pb.GraphDef()
        self.g.versions.producer = 27

    def node(self, name, op, inputs=(), **attrs):
        n = self.g.node.add()
        n.name, n.op = name, op
        n.input.extend(inputs)
        for k, v in attrs.items():
            set_attr(n.attr[k], v)
        if op not in ("Const", "Placeholder", "Shape", "Cast"):
            set_attr(n.attr["T"], ("type", pb.DT_FLOAT))
        return name

    def const(self, name, arr, typed=False):
        arr = np.asarray(arr)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        n = self.g.node.add()
        n.name, n.op = name, "Const"
        set_attr(n.attr["dtype"], ("type", DT[arr.dtype]))
        set_tensor(n.attr["value"].tensor, arr, typed)
        return name

    def ints(self, name, values):
        return self.const(name, np.asarray(values, np.int32), typed=True)

    def placeholder(self, name, shape):
        return self.node(name, "Placeholder", dtype=("type", pb.DT_FLOAT),
                         shape=("shape", shape))

    def save(self, path):
        if path.endswith(".pbtxt"):
            with open(path, "w") as f:
                f.write(text_format.MessageToString(self.g))
        else:
            with open(path, "wb") as f:
                f.write(self.g.SerializeToString())


rng = np.random.default_rng(0)


def w(*shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def nhwc_to(fmt, v):
    """A 4-entry NHWC attribute (strides, ksize) in `fmt`'s order."""
    return v if fmt == "NHWC" else [v[0], v[3], v[1], v[2]]


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def conv_same_stride2():
    # 7x7 input, stride 2, SAME: one padding row/column, at the bottom/right.
    g = Graph()
    g.placeholder("x", [-1, 7, 7, 3])
    g.const("w", w(3, 3, 3, 4))
    g.node("y", "Conv2D", ["x", "w"], strides=[1, 2, 2, 1], padding="SAME",
           data_format="NHWC")
    return g, [("x", [2, 7, 7, 3])], ["y"]


@case
def conv_valid_dilated_nchw():
    g = Graph()
    g.placeholder("x", [1, 3, 9, 8])
    g.const("w", w(3, 2, 3, 5))
    g.node("y", "Conv2D", ["x", "w"], strides=[1, 1, 1, 2], padding="VALID",
           dilations=[1, 1, 2, 1], data_format="NCHW")
    return g, [("x", [1, 3, 9, 8])], ["y"]


@case
def conv_explicit_grouped():
    g = Graph()
    g.placeholder("x", [1, 6, 6, 4])
    g.const("w", w(3, 3, 2, 6))  # 2 groups
    g.node("y", "Conv2D", ["x", "w"], strides=[1, 1, 1, 1], padding="EXPLICIT",
           explicit_paddings=[0, 0, 2, 0, 1, 1, 0, 0])
    return g, [("x", [1, 6, 6, 4])], ["y"]


@case
def depthwise_same_multiplier():
    g = Graph()
    g.placeholder("x", [1, 8, 8, 3])
    g.const("w", w(3, 3, 3, 2))
    g.node("y", "DepthwiseConv2dNative", ["x", "w"], strides=[1, 2, 2, 1],
           padding="SAME")
    return g, [("x", [1, 8, 8, 3])], ["y"]


@case
def depthwise_nchw():
    g = Graph()
    g.placeholder("x", [1, 4, 7, 7])
    g.const("w", w(5, 5, 4, 1))
    g.node("y", "DepthwiseConv2dNative", ["x", "w"], strides=[1, 1, 1, 1],
           padding="SAME", data_format="NCHW")
    return g, [("x", [1, 4, 7, 7])], ["y"]


@case
def conv_transpose_same():
    g = Graph()
    g.placeholder("x", [1, 4, 4, 3])
    g.ints("sizes", [1, 8, 8, 2])
    g.const("w", w(3, 3, 2, 3))
    g.node("y", "Conv2DBackpropInput", ["sizes", "w", "x"],
           strides=[1, 2, 2, 1], padding="SAME")
    return g, [("x", [1, 4, 4, 3])], ["y"]


@case
def conv_transpose_valid_odd():
    # VALID, an output size that needs output_padding.
    g = Graph()
    g.placeholder("x", [1, 3, 3, 2])
    g.ints("sizes", [1, 8, 9, 4])
    g.const("w", w(3, 2, 4, 2))
    g.node("y", "Conv2DBackpropInput", ["sizes", "w", "x"],
           strides=[1, 2, 3, 1], padding="VALID")
    return g, [("x", [1, 3, 3, 2])], ["y"]


@case
def matmul_bias_transposed():
    g = Graph()
    g.placeholder("x", [-1, 6])
    g.const("w", w(4, 6))
    g.node("mm", "MatMul", ["x", "w"], transpose_a=False, transpose_b=True)
    g.const("b", w(4))
    g.node("y", "BiasAdd", ["mm", "b"], data_format="NHWC")
    return g, [("x", [3, 6])], ["y"]


@case
def matmul_two_activations():
    g = Graph()
    g.placeholder("a", [5, 3])
    g.placeholder("b", [5, 4])
    g.node("y", "MatMul", ["a", "b"], transpose_a=True, transpose_b=False)
    return g, [("a", [5, 3]), ("b", [5, 4])], ["y"]


@case
def bias_add_nchw():
    g = Graph()
    g.placeholder("x", [1, 3, 4, 5])
    g.const("b", w(3))
    g.node("y", "BiasAdd", ["x", "b"], data_format="NCHW")
    return g, [("x", [1, 3, 4, 5])], ["y"]


def batch_norm_case(op, shape, fmt, **attrs):
    g = Graph()
    g.placeholder("x", shape)
    c = shape[3] if fmt == "NHWC" else shape[1]
    for p, v in (("scale", w(c)), ("offset", w(c)), ("mean", w(c)),
                 ("var", np.abs(w(c)) + 0.1)):
        g.const(p, v)
    g.node("y", op, ["x", "scale", "offset", "mean", "var"],
           is_training=False, data_format=fmt, **attrs)
    return g


@case
def fused_batch_norm():
    g = batch_norm_case("FusedBatchNormV3", [1, 5, 5, 3], "NHWC",
                        epsilon=0.001)
    g.node("r", "Relu", ["y"])
    return g, [("x", [1, 5, 5, 3])], ["r"]


@case
def fused_batch_norm_nchw():
    g = batch_norm_case("FusedBatchNorm", [1, 3, 4, 4], "NCHW")
    return g, [("x", [1, 3, 4, 4])], ["y"]


@case
def unfused_batch_norm_relu6():
    # Keras' batchnorm_1 pattern and clip_by_value's ReLU6, as in mnet.pb.
    g = Graph()
    g.placeholder("x", [1, 6, 6, 2])
    g.const("k", w(1, 1, 2, 4))
    g.node("conv", "Conv2D", ["x", "k"], strides=[1, 1, 1, 1], padding="SAME")
    for p, v in (("gamma", w(4)), ("beta", w(4)), ("mm", w(4)),
                 ("mv", np.abs(w(4)) + 0.1)):
        g.const(p, v)
    g.const("eps", np.float32(1e-3))
    g.node("bn/add", "Add", ["mv", "eps"])
    g.node("bn/Rsqrt", "Rsqrt", ["bn/add"])
    g.node("bn/mul", "Mul", ["bn/Rsqrt", "gamma"])
    g.node("bn/mul_1", "Mul", ["conv", "bn/mul"])
    g.node("bn/mul_2", "Mul", ["mm", "bn/mul"])
    g.node("bn/sub", "Sub", ["beta", "bn/mul_2"])
    g.node("bn/add_1", "Add", ["bn/mul_1", "bn/sub"])
    g.node("relu", "Relu", ["bn/add_1"])
    g.ints("six_i", np.int32(6))
    g.node("six", "Cast", ["six_i"], SrcT=("type", pb.DT_INT32),
           DstT=("type", pb.DT_FLOAT))
    g.const("zero", np.float32(0))
    g.node("clip/Minimum", "Minimum", ["relu", "six"])
    g.node("clip", "Maximum", ["clip/Minimum", "zero"])
    return g, [("x", [1, 6, 6, 2])], ["clip"]


@case
def relu6_max_then_min():
    g = Graph()
    g.placeholder("x", [2, 8])
    g.const("zero", np.float32(0))
    g.const("six", np.float32(6))
    g.node("mx", "Maximum", ["x", "zero"])
    g.node("y", "Minimum", ["mx", "six"])
    return g, [("x", [2, 8])], ["y"], 8.0


@case
def activations():
    g = Graph()
    g.placeholder("x", [2, 3, 4])
    g.node("r6", "Relu6", ["x"])
    g.node("lr", "LeakyRelu", ["x"], alpha=0.3)
    g.node("sg", "Sigmoid", ["x"])
    g.node("th", "Tanh", ["x"])
    g.node("sm", "Softmax", ["x"])
    return g, [("x", [2, 3, 4])], ["r6", "lr", "sg", "th", "sm"], 8.0


@case
def binary_between_tensors():
    g = Graph()
    g.placeholder("a", [2, 3, 4])
    g.placeholder("b", [3, 1])
    g.node("add", "AddV2", ["a", "b"])
    g.node("sub", "Sub", ["a", "b"])
    g.node("mul", "Mul", ["a", "b"])
    g.node("div", "RealDiv", ["a", "b"])
    g.node("max", "Maximum", ["a", "b"])
    g.node("min", "Minimum", ["a", "b"])
    return (g, [("a", [2, 3, 4]), ("b", [3, 1])],
            ["add", "sub", "mul", "div", "max", "min"])


@case
def binary_with_constants():
    g = Graph()
    g.placeholder("x", [2, 3, 4])
    g.const("c", w(3, 4))
    g.const("v", w(4))
    g.const("s", np.float32(2.5))
    g.node("rsub", "Sub", ["c", "x"])
    g.node("div", "RealDiv", ["x", "s"])
    g.node("rdiv", "RealDiv", ["s", "rsub"])
    g.node("subv", "Sub", ["x", "v"])
    g.node("vmul", "Mul", ["v", "x"])
    g.node("neg", "Neg", ["x"])
    g.node("sq", "Square", ["x"])
    return g, [("x", [2, 3, 4])], ["rsub", "div", "subv", "vmul", "neg", "sq"]


@case
def pools_same_valid():
    g = Graph()
    g.placeholder("x", [1, 7, 6, 3])
    g.node("avg", "AvgPool", ["x"], ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
           padding="SAME")
    g.node("max", "MaxPool", ["x"], ksize=[1, 3, 2, 1], strides=[1, 2, 2, 1],
           padding="SAME")
    g.node("avgv", "AvgPool", ["x"], ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
           padding="VALID")
    return g, [("x", [1, 7, 6, 3])], ["avg", "max", "avgv"]


@case
def pools_nchw():
    g = Graph()
    g.placeholder("x", [1, 3, 5, 5])
    g.node("avg", "AvgPool", ["x"], ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2],
           padding="SAME", data_format="NCHW")
    g.node("max", "MaxPool", ["x"], ksize=[1, 1, 3, 3], strides=[1, 1, 1, 1],
           padding="SAME", data_format="NCHW")
    return g, [("x", [1, 3, 5, 5])], ["avg", "max"]


@case
def mean_forms():
    g = Graph()
    g.placeholder("x", [2, 4, 5, 3])
    g.ints("hw", [1, 2])
    g.ints("last", [-1])
    g.node("gap", "Mean", ["x", "hw"], keep_dims=False,
           Tidx=("type", pb.DT_INT32))
    g.node("gapk", "Mean", ["x", "hw"], keep_dims=True)
    g.node("mlast", "Mean", ["x", "last"], keep_dims=False)
    return g, [("x", [2, 4, 5, 3])], ["gap", "gapk", "mlast"]


@case
def pads():
    g = Graph()
    g.placeholder("x", [1, 4, 5, 2])
    g.ints("p", [[0, 0], [1, 2], [2, 1], [0, 0]])
    g.const("cv", np.float32(-1.5))
    g.node("pad", "Pad", ["x", "p"])
    g.node("pad2", "PadV2", ["x", "p", "cv"])
    g.node("mirror", "MirrorPad", ["x", "p"], mode="REFLECT")
    return g, [("x", [1, 4, 5, 2])], ["pad", "pad2", "mirror"]


@case
def concat_pack_reshape():
    # Keras' Flatten: Shape -> StridedSlice -> Pack -> Reshape.
    g = Graph()
    g.placeholder("x", [-1, 3, 4, 2])
    g.const("c", w(1, 3, 4, 1))
    g.ints("axis", -1)
    g.node("cat", "ConcatV2", ["x", "c", "axis"], N=2)
    g.node("shape", "Shape", ["cat"], out_type=("type", pb.DT_INT32))
    g.ints("b0", [0])
    g.ints("b1", [1])
    g.node("n", "StridedSlice", ["shape", "b0", "b1", "b1"],
           shrink_axis_mask=1)
    g.ints("minus1", -1)
    g.node("newshape", "Pack", ["n", "minus1"], axis=0, N=2)
    g.node("flat", "Reshape", ["cat", "newshape"])
    return g, [("x", [1, 3, 4, 2])], ["flat"]


@case
def squeeze_expand_transpose():
    g = Graph()
    g.placeholder("x", [1, 1, 4, 1, 3])
    g.node("sq", "Squeeze", ["x"], squeeze_dims=[1, 3])
    g.node("sqall", "Squeeze", ["x"])
    g.ints("ax", 1)
    g.node("ex", "ExpandDims", ["sqall", "ax"])
    g.ints("perm", [2, 0, 1])
    g.node("tr", "Transpose", ["ex", "perm"])
    return g, [("x", [1, 1, 4, 1, 3])], ["sq", "ex", "tr"]


@case
def strided_slices():
    g = Graph()
    g.placeholder("x", [2, 6, 7, 4])
    # x[:, 1:-1:2, ..., 2] and x[0, ..., tf.newaxis, ::3]
    g.ints("b", [0, 1, 0, 2])
    g.ints("e", [0, -1, 0, 3])
    g.ints("s", [1, 2, 1, 1])
    g.node("a", "StridedSlice", ["x", "b", "e", "s"], begin_mask=1, end_mask=1,
           ellipsis_mask=4, shrink_axis_mask=8)
    g.ints("b2", [0, 0, 0, 0])
    g.ints("e2", [1, 0, 0, 0])
    g.ints("s2", [1, 1, 1, 3])
    g.node("c", "StridedSlice", ["x", "b2", "e2", "s2"], ellipsis_mask=2,
           new_axis_mask=4, shrink_axis_mask=1, end_mask=8)
    return g, [("x", [2, 6, 7, 4])], ["a", "c"]


def resize_case(in_hw, out_hw):
    g = Graph()
    g.placeholder("x", [1, *in_hw, 2])
    g.ints("size", out_hw)
    outs = []
    for op in ("ResizeBilinear", "ResizeNearestNeighbor"):
        for mode, ac, hp in (("asym", False, False), ("align", True, False),
                             ("half", False, True)):
            name = f"{op}_{mode}"
            g.node(name, op, ["x", "size"], align_corners=ac,
                   half_pixel_centers=hp)
            outs.append(name)
    return g, [("x", [1, *in_hw, 2])], outs


@case
def resizes():
    return resize_case([3, 5], [7, 4])


@case
def resizes_ties():
    # Nearest-neighbour coordinates exactly halfway between two pixels:
    # TensorFlow rounds them up (4 -> 2 with half pixels, 3 -> 5 aligned).
    return resize_case([4, 3], [2, 5])


@case
def text_format_identity_n():
    # The same importer on a .pbtxt; IdentityN, an output ":1" and a
    # PlaceholderWithDefault fed from a constant.
    g = Graph()
    g.placeholder("x", [2, 3])
    g.const("c", w(2, 3))
    g.node("d", "PlaceholderWithDefault", ["c"], dtype=("type", pb.DT_FLOAT),
           shape=("shape", [2, 3]))
    g.node("idn", "IdentityN", ["x", "d"])
    g.node("y", "Add", ["idn:0", "idn:1"])
    return g, [("x", [2, 3])], ["y", "idn:1"]


def write_ops(out):
    cases = []
    for name, fn in CASES.items():
        res = fn()
        g, inputs, fetches = res[:3]
        scale = res[3] if len(res) > 3 else 1.0
        ext = ".pbtxt" if name.startswith("text_format") else ".pb"
        path = os.path.join(out, name + ext)
        g.save(path)
        cases.append({"name": name, "file": path, "inputs": inputs,
                      "fetches": fetches, "scale": scale})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def write_errors(out):
    def save(g, name):
        g.save(os.path.join(out, name))

    # A small conv net, also cut short and filled with garbage.
    g = Graph()
    g.placeholder("x", [-1, 8, 8, 3])
    g.const("w", w(3, 3, 3, 4))
    g.node("conv", "Conv2D", ["x", "w"], strides=[1, 1, 1, 1], padding="SAME")
    g.node("relu", "Relu", ["conv"])
    save(g, "net.pb")
    data = g.g.SerializeToString()
    with open(os.path.join(out, "truncated.pb"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "garbage.pb"), "wb") as f:
        f.write(b"\xff\xfe this is not a protobuf \x00\x01")

    g = Graph()
    g.placeholder("x", [1, 4])
    g.node("e", "Erf", ["x"])
    save(g, "unknown_op.pb")

    # tf.cond: Switch/Merge.
    g = Graph()
    g.placeholder("x", [1, 4])
    g.node("pred", "Placeholder", dtype=("type", pb.DT_BOOL),
           shape=("shape", []))
    g.node("cond/Switch", "Switch", ["x", "pred"])
    g.node("cond/relu", "Relu", ["cond/Switch:1"])
    g.node("cond/Merge", "Merge", ["cond/Switch", "cond/relu"], N=2)
    g.node("out", "Identity", ["cond/Merge"])
    save(g, "control_flow.pb")

    g = Graph()
    g.placeholder("x", [-1, 8, 8, 3])
    g.placeholder("w", [3, 3, 3, 4])
    g.node("conv", "Conv2D", ["x", "w"], strides=[1, 1, 1, 1], padding="SAME")
    save(g, "dynamic_filter.pb")

    g = Graph()
    g.placeholder("x", [1, 4, 4, 3])
    for p in ("scale", "offset", "mean", "var"):
        g.const(p, np.ones(3, np.float32))
    g.node("bn", "FusedBatchNorm", ["x", "scale", "offset", "mean", "var"],
           is_training=True)
    save(g, "training_bn.pb")

    g = Graph()
    g.node("x", "Placeholder", dtype=("type", pb.DT_UINT8),
           shape=("shape", [1, 4]))
    g.node("y", "Cast", ["x"], SrcT=("type", pb.DT_UINT8),
           DstT=("type", pb.DT_FLOAT))
    save(g, "uint8_input.pb")

    g = Graph()
    g.placeholder("x", [1, 4])
    g.const("c", w(3))
    g.node("y", "Add", ["x", "c"])
    save(g, "bad_broadcast.pb")

    g = Graph()
    g.placeholder("x", [1, 4])
    # The shapes tf.Graph records with add_shapes=True.
    g.node("relu", "Relu", ["x"], _output_shapes=("shapes", [[-1, 4]]))
    g.const("w", w(4, 3))
    g.node("fc", "MatMul", ["relu", "w"])
    g.node("tanh", "Tanh", ["fc"])
    g.const("w2", w(3, 2))
    g.node("fc2", "MatMul", ["tanh", "w2"])
    save(g, "chain.pb")

    g = Graph()
    g.placeholder("a", [1, 4])
    g.placeholder("b", [1, 4])
    g.node("y", "Add", ["a", "b"])
    save(g, "two_inputs.pb")

    # What TensorFlow's text writer adds that graph.proto does not model
    # (function library, debug info) is skipped.
    text = text_format.MessageToString(g.g)
    text = text.replace('op: "Add"', 'op: "Add"\n  experimental_debug_info '
                        '{ original_node_names: "add" }')
    with open(os.path.join(out, "extra_fields.pbtxt"), "w") as f:
        f.write(text + 'library {\n  function {\n    signature { name: "f" '
                '}\n  }\n}\n')

    with open(os.path.join(out, "syntax.pbtxt"), "w") as f:
        f.write('node {\n  name: "x"\n  op: "Placeholder"\n  attr { key: '
                '"dtype" value { type: DT_FLOT } }\n}\n')


if __name__ == "__main__":
    cmd, out = sys.argv[3], sys.argv[4]
    os.makedirs(out, exist_ok=True)
    {"ops": write_ops, "errors": write_errors}[cmd](out)
