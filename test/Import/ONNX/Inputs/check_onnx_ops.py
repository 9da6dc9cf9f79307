"""Operator forms torch does not emit, built with onnx.helper and checked
against NumPy: Conv auto_pad SAME_UPPER/SAME_LOWER, Gemm transA/alpha/beta,
Gemm of two activations and with a [1, N] C, ConvTranspose output_shape,
MatMul 3-D x 2-D, ReduceMean without keepdims, Softmax before opset 13 on a
4-D tensor, Reshape with 0 and -1, Concat with a constant, typed int32 and
double initializers, reversed Sub/Div with constants, GlobalMaxPool,
HardSigmoid.

usage: check_onnx_ops.py WORK_DIR
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vai_check  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def conv_nchw(x, w, stride, pads):
    """pads = (top, left, bottom, right) as in ONNX."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    o, _, kh, kw = w.shape
    oh = (x.shape[2] - kh) // stride + 1
    ow = (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out


def conv_transpose_nchw(x, w, stride, pads):
    """w = [IC, OC, KH, KW]; pads = (top, left, bottom, right) crop."""
    n, _, h, wd = x.shape
    _, o, kh, kw = w.shape
    full = np.zeros((n, o, (h - 1) * stride + kh, (wd - 1) * stride + kw))
    for i in range(h):
        for j in range(wd):
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] \
                += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    return full[:, :, pads[0]:full.shape[2] - pads[2],
                pads[1]:full.shape[3] - pads[3]]


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def case(name, nodes, x_shape, out_shape, inits, ref, opset=13):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return name, model, x_shape, ref


def cases():
    w = rand(4, 3, 3, 3)
    fw = numpy_helper.from_array
    out = []
    for mode, pads in (("SAME_UPPER", (0, 0, 1, 1)),
                       ("SAME_LOWER", (1, 1, 0, 0))):
        out.append(case(
            "conv_" + mode.lower(),
            [helper.make_node("Conv", ["x", "w"], ["y"], auto_pad=mode,
                              strides=[2, 2])],
            [1, 3, 6, 6], [1, 4, 3, 3], [fw(w, "w")],
            lambda x, p=pads: conv_nchw(x, w, 2, p)))
    b, c = rand(5, 3), rand(3)
    out.append(case(
        "gemm_transA_alpha_beta",
        [helper.make_node("Gemm", ["x", "b", "c"], ["y"], transA=1,
                          alpha=0.5, beta=2.0)],
        [5, 2], [2, 3], [fw(b, "b"), fw(c, "c")],
        lambda x: 0.5 * x.T @ b + 2.0 * c))
    out.append(case(
        "gemm_activations",
        [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0]),
         helper.make_node("Gemm", ["x", "xt", "c"], ["y"], transB=0,
                          alpha=0.5, beta=2.0)],
        [3, 4], [3, 3], [fw(c, "c")],
        lambda x: 0.5 * x @ x.T + 2.0 * c))
    wt, c2 = rand(2, 3, 3, 3), rand(1, 3)
    out.append(case(
        "convtranspose_output_shape",
        [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], strides=[2, 2],
                          output_shape=[6, 6])],
        [1, 2, 3, 3], [1, 3, 6, 6], [fw(wt, "wt")],
        lambda x: conv_transpose_nchw(x, wt, 2, (1, 1, 0, 0))))
    out.append(case(
        "gemm_row_bias",
        [helper.make_node("Gemm", ["x", "b", "c2"], ["y"], transA=1)],
        [5, 2], [2, 3], [fw(b, "b"), fw(c2, "c2")],
        lambda x: x.T @ b + c2))
    m = rand(4, 6)
    out.append(case(
        "matmul_3d", [helper.make_node("MatMul", ["x", "m"], ["y"])],
        [2, 3, 4], [2, 3, 6], [fw(m, "m")], lambda x: x @ m))
    out.append(case(
        "reducemean_nokeep",
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 3],
                          keepdims=0)],
        [2, 3, 4, 5], [2, 4], [], lambda x: x.mean(axis=(1, 3))))
    out.append(case(
        "softmax_opset11_axis2",
        [helper.make_node("Softmax", ["x"], ["y"], axis=2)],
        [2, 3, 4, 5], [2, 3, 4, 5], [],
        lambda x: softmax(x.reshape(6, 20), 1).reshape(2, 3, 4, 5), opset=11))
    out.append(case(
        "reshape_zero_minus_one",
        [helper.make_node("Reshape", ["x", "s"], ["y"])],
        [2, 3, 4, 5], [2, 3, 10, 2],
        [fw(np.array([0, 0, -1, 2], dtype=np.int32), "s")],
        lambda x: x.reshape(2, 3, 10, 2)))
    k = rand(1, 2, 4, 5)
    out.append(case(
        "concat_constant",
        [helper.make_node("Concat", ["x", "k"], ["y"], axis=1)],
        [1, 3, 4, 5], [1, 5, 4, 5], [fw(k, "k")],
        lambda x: np.concatenate([x, k], axis=1)))
    d = np.arange(3, dtype=np.float64).reshape(3, 1, 1) + 1
    out.append(case(
        "reversed_sub_div_double",
        [helper.make_node("Sub", ["d", "x"], ["t"]),
         helper.make_node("Div", ["t", "two"], ["u"]),
         helper.make_node("Div", ["d", "u"], ["y"])],
        [1, 3, 2, 2], [1, 3, 2, 2],
        [fw(d, "d"), helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
        lambda x: d / ((d - x) / 2)))
    s = rand(1, 3, 1, 1)
    out.append(case(
        "globalmax_mul_hardsigmoid",
        [helper.make_node("GlobalMaxPool", ["x"], ["g"]),
         helper.make_node("Mul", ["g", "s"], ["h"]),
         helper.make_node("HardSigmoid", ["h"], ["y"], alpha=0.3, beta=0.4)],
        [1, 3, 4, 4], [1, 3, 1, 1], [fw(s, "s")],
        lambda x: np.clip(0.3 * x.max(axis=(2, 3), keepdims=True) * s + 0.4,
                          0, 1)))
    return out


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    status = 0
    for name, model, x_shape, ref in cases():
        path = os.path.join(work, name + ".onnx")
        onnx.save(model, path)
        x = rand(*x_shape)
        (y,) = vai_check.run_model(path, [x], work, tag=name)
        err = vai_check.rel_error(y, ref(x.astype(np.float64)))
        ok = err <= 1e-4
        status |= not ok
        print("%s %s: max relative error %.2e" % ("PASS" if ok else "FAIL",
                                                  name, err))
    return status


if __name__ == "__main__":
    sys.exit(main())
