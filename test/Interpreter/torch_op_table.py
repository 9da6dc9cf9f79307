#!/usr/bin/env python3
"""Op semantics of the vai reference interpreter, checked against PyTorch.

    /usr/bin/python3 torch_op_table.py --vai-run PATH --workdir DIR [-k SUBSTR]

For every configuration in the table below the script
  1. builds the PyTorch op or module in NCHW with random inputs and weights
     (each configuration seeds torch from its own name, so it is
     reproducible on its own), and computes the PyTorch output;
  2. writes the inputs as NHWC .npy files, converts the weights to the vai
     layouts (OHWI conv weights, [M, KH, KW, C] depthwise weights, ...) and
     emits the equivalent vai MLIR with vai_mlir.ModuleBuilder;
  3. runs `vai-run --reference`, converts nothing back (the expected output
     is converted to NHWC instead) and compares.

A configuration matches when the shapes agree and, element-wise,
    |vai - torch| <= 1e-4 * max(1, |torch|)
i.e. a relative tolerance of 1e-4, absolute 1e-4 for values below 1.

It prints one line per configuration (name, max abs error, ok/FAIL) and
finally `all N configurations match` (exit 0) or a failure summary (exit 1).
Ops whose semantics do not depend on the layout (flatten, reshape, element-
wise broadcasting) are checked on the NHWC data itself: vai.flatten of NHWC
data is the row-major collapse of that NHWC tensor, not PyTorch's NCHW one.

The vai layouts and op definitions: include/vai/Dialect/Vai/VaiOps.td.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import traceback
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from vai_mlir import ModuleBuilder, Value  # noqa: E402

RTOL = 1e-4

#===-----------------------------------------------------------------------===#
# Layout conversions (PyTorch -> vai)
#===-----------------------------------------------------------------------===#


def nhwc(t) -> np.ndarray:
    """A torch tensor as numpy; 4-D NCHW tensors become NHWC."""
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    if a.ndim == 4:
        a = a.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(a, np.float32)


def conv_weight(w: torch.Tensor) -> np.ndarray:
    """Conv2d weight [OC, IC/g, KH, KW] -> OHWI [OC, KH, KW, IC/g]."""
    return np.ascontiguousarray(w.detach().numpy().transpose(0, 2, 3, 1))


def depthwise_weight(w: torch.Tensor, m: int) -> np.ndarray:
    """Conv2d(groups=C) weight [C*M, 1, KH, KW] -> [M, KH, KW, C].

    PyTorch's output channel c*M + m reads input channel c, the order the
    vai depthwise op uses."""
    cm, _, kh, kw = w.shape
    a = w.detach().numpy().reshape(cm // m, m, kh, kw)
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0))


def transposed_weight(w: torch.Tensor, groups: int) -> np.ndarray:
    """ConvTranspose2d weight [IC, OC/g, KH, KW] -> [OC, KH, KW, IC/g]."""
    ic, ocg, kh, kw = w.shape
    a = w.detach().numpy().reshape(groups, ic // groups, ocg, kh, kw)
    a = a.transpose(0, 2, 3, 4, 1)  # [g, OC/g, KH, KW, IC/g]
    return np.ascontiguousarray(a.reshape(groups * ocg, kh, kw, ic // groups))


def pair(v) -> list[int]:
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def torch_act(y: torch.Tensor, act: str | None, alpha: float = 0.0):
    """PyTorch equivalent of the vai fused activation."""
    if act is None:
        return y
    return {"relu": F.relu, "relu6": F.relu6,
            "leaky_relu": lambda v: F.leaky_relu(v, alpha)}[act](y)


def act_attrs(act: str | None, alpha: float) -> dict:
    return {"act": act, "act_alpha": alpha if act == "leaky_relu" else None}


#===-----------------------------------------------------------------------===#
# Configurations
#===-----------------------------------------------------------------------===#


class Case:
    """One configuration being built: a ModuleBuilder plus its inputs."""

    def __init__(self, name: str):
        self.name = name
        self.seed = zlib.crc32(name.encode())
        torch.manual_seed(self.seed)  # module initialisation
        self.b = ModuleBuilder()
        self.inputs: list[np.ndarray] = []

    def randn(self, *shape) -> torch.Tensor:
        return torch.randn(*shape)

    def arg(self, t, nchw: bool = True) -> Value:
        """A model input holding t (NHWC when 4-D and nchw)."""
        a = nhwc(t) if nchw else np.ascontiguousarray(
            t.detach().numpy(), np.float32)
        self.inputs.append(a)
        return self.b.argument(a.shape)

    def const(self, a) -> Value:
        if isinstance(a, torch.Tensor):
            a = a.detach().numpy()
        return self.b.constant(np.asarray(a, np.float32))

    def op(self, name, operands, attrs=None, shape=None) -> Value:
        return self.b.op(name, operands, attrs, shape, name=f"{self.name}")


CASES: list[tuple[str, object, dict]] = []


def case(name: str, **params):
    """Registers fn(case, **params) -> (vai result Value, expected array)."""
    def register(fn):
        # Stacked decorators apply bottom-up: insert above the entries of the
        # same function so that the table runs in source order.
        pos = len(CASES)
        while pos > 0 and CASES[pos - 1][1] is fn:
            pos -= 1
        CASES.insert(pos, (name, fn, params))
        return fn
    return register


# -- convolutions ------------------------------------------------------------

@case("conv_k3_odd_9x7", n=2, ic=3, oc=5, hw=(9, 7), pad=(1, 1, 1, 1))
@case("conv_stride2_asym_pad", ic=4, oc=6, hw=(10, 9), stride=2,
      pad=(1, 0, 2, 1))
@case("conv_stride3_k5_asym_pad", ic=3, oc=4, hw=(13, 11), k=5, stride=3,
      pad=(0, 2, 1, 0))
@case("conv_dilation2", ic=4, oc=5, hw=(11, 10), dil=2, pad=(2, 2, 1, 3))
@case("conv_groups2", ic=6, oc=4, hw=(7, 8), groups=2, pad=(1, 1, 1, 1))
@case("conv_groups3_stride2", ic=6, oc=9, hw=(9, 9), groups=3, stride=2,
      pad=(1, 1, 1, 1))
@case("conv_1x1_nobias", ic=8, oc=5, hw=(5, 6), k=1, bias=False)
@case("conv_rect_k3x1_stride2x1", ic=3, oc=4, hw=(9, 5), k=(3, 1),
      stride=(2, 1), pad=(1, 1, 0, 0))
@case("conv_dil_stride_rect", ic=4, oc=6, hw=(15, 12), k=(3, 2),
      stride=(2, 3), dil=(2, 1), pad=(0, 1, 1, 1))
@case("conv_fused_relu", ic=3, oc=5, hw=(8, 8), pad=(1, 1, 1, 1), act="relu")
@case("conv_fused_relu6", ic=3, oc=5, hw=(8, 8), pad=(1, 1, 1, 1),
      act="relu6", scale=4.0)
@case("conv_fused_leaky_relu", ic=3, oc=5, hw=(7, 9), stride=2,
      pad=(0, 1, 0, 1), act="leaky_relu", alpha=0.1)
def conv2d(t: Case, n=1, ic=4, oc=6, hw=(9, 7), k=3, stride=1,
           pad=(0, 0, 0, 0), dil=1, groups=1, bias=True, act=None, alpha=0.0,
           scale=1.0):
    x = t.randn(n, ic, *hw) * scale
    conv = nn.Conv2d(ic, oc, k, stride=stride, dilation=dil, groups=groups,
                     bias=bias)
    top, bottom, left, right = pad
    # Asymmetric padding: PyTorch pads explicitly (F.pad is left, right,
    # top, bottom), vai's pad attribute is [top, bottom, left, right].
    y = torch_act(conv(F.pad(x, (left, right, top, bottom))), act, alpha)
    out = t.op("vai.conv2d",
               [t.arg(x), t.const(conv_weight(conv.weight)),
                t.const(conv.bias) if bias else None],
               {"strides": pair(stride), "pad": pad, "dilations": pair(dil),
                "groups": groups, **act_attrs(act, alpha)}, nhwc(y).shape)
    return out, nhwc(y)


@case("depthwise_m1_k3", c=5, m=1, hw=(9, 8), pad=(1, 1, 1, 1))
@case("depthwise_m2_stride2", c=4, m=2, hw=(9, 10), stride=2,
      pad=(1, 1, 1, 1))
@case("depthwise_m2_dil2_asym_pad", c=3, m=2, hw=(11, 9), dil=2,
      pad=(2, 1, 0, 3))
@case("depthwise_m1_stride3_relu6_nobias", c=6, m=1, hw=(10, 11), k=(3, 5),
      stride=3, pad=(1, 0, 2, 2), act="relu6", bias=False)
def depthwise(t: Case, c, m, hw, k=3, stride=1, pad=(0, 0, 0, 0), dil=1,
              bias=True, act=None):
    x = t.randn(2, c, *hw)
    conv = nn.Conv2d(c, c * m, k, stride=stride, dilation=dil, groups=c,
                     bias=bias)
    top, bottom, left, right = pad
    y = torch_act(conv(F.pad(x, (left, right, top, bottom))), act)
    out = t.op("vai.depthwise_conv2d",
               [t.arg(x), t.const(depthwise_weight(conv.weight, m)),
                t.const(conv.bias) if bias else None],
               {"strides": pair(stride), "pad": pad, "dilations": pair(dil),
                **act_attrs(act, 0.0)}, nhwc(y).shape)
    return out, nhwc(y)


@case("tconv_s2_p1_op1", ic=4, oc=6, hw=(5, 4), k=3, stride=2, padding=1,
      output_padding=1)
@case("tconv_groups2", ic=6, oc=4, hw=(5, 6), k=3, stride=2, padding=1,
      groups=2)
@case("tconv_dil2_op1", ic=3, oc=5, hw=(4, 5), k=3, stride=2, padding=2,
      output_padding=1, dil=2)
@case("tconv_s3_k4_nopad", ic=4, oc=3, hw=(3, 4), k=4, stride=3)
@case("tconv_k2_s2_relu_nobias", ic=5, oc=4, hw=(4, 3), k=2, stride=2,
      bias=False, act="relu")
@case("tconv_rect_s2x3_op1x2_groups3", ic=6, oc=9, hw=(4, 5), k=(3, 4),
      stride=(2, 3), padding=(1, 2), output_padding=(1, 2), groups=3)
def tconv(t: Case, ic, oc, hw, k, stride, padding=0, output_padding=0,
          groups=1, dil=1, bias=True, act=None):
    x = t.randn(2, ic, *hw)
    conv = nn.ConvTranspose2d(ic, oc, k, stride=stride, padding=padding,
                              output_padding=output_padding, groups=groups,
                              bias=bias, dilation=dil)
    with torch.no_grad():  # a non-zero bias, so it is really checked
        if bias:
            conv.bias.uniform_(-1, 1)
    y = torch_act(conv(x), act)
    ph, pw = pair(padding)
    out = t.op("vai.transposed_conv2d",
               [t.arg(x), t.const(transposed_weight(conv.weight, groups)),
                t.const(conv.bias) if bias else None],
               {"strides": pair(stride), "pad": [ph, ph, pw, pw],
                "dilations": pair(dil), "output_padding": pair(output_padding),
                "groups": groups, **act_attrs(act, 0.0)}, nhwc(y).shape)
    return out, nhwc(y)


# -- products ----------------------------------------------------------------

@case("linear_bias", b=3, i=20, o=7)
@case("linear_nobias", b=2, i=13, o=5, bias=False)
@case("linear_fused_relu", b=4, i=16, o=9, act="relu")
@case("linear_fused_leaky_relu", b=1, i=31, o=10, act="leaky_relu",
      alpha=0.25)
def linear(t: Case, b, i, o, bias=True, act=None, alpha=0.0):
    x = t.randn(b, i)
    lin = nn.Linear(i, o, bias=bias)
    y = torch_act(lin(x), act, alpha)
    out = t.op("vai.inner_product",
               [t.arg(x), t.const(lin.weight),
                t.const(lin.bias) if bias else None],
               act_attrs(act, alpha), tuple(y.shape))
    return out, nhwc(y)


@case("matmul_2d", a=(5, 7), b=(7, 3))
@case("matmul_batched_3d", a=(4, 5, 6), b=(4, 6, 3))
@case("matmul_broadcast_rhs", a=(3, 4, 5), b=(5, 6), const_rhs=True)
@case("matmul_broadcast_lhs", a=(4, 5), b=(2, 5, 3))
@case("matmul_batched_4d", a=(2, 3, 4, 5), b=(2, 3, 5, 2))
def matmul(t: Case, a, b, const_rhs=False):
    lhs, rhs = t.randn(*a), t.randn(*b)
    y = torch.matmul(lhs, rhs)
    out = t.op("vai.matmul", [t.arg(lhs, nchw=False),
                              t.const(rhs) if const_rhs
                              else t.arg(rhs, nchw=False)],
               None, tuple(y.shape))
    return out, y.numpy()


# -- normalisation and per-channel ops ---------------------------------------

@case("batch_norm_eval", c=6, eps=1e-3)
@case("batch_norm_eval_default_eps", c=3, eps=1e-5)
def batch_norm(t: Case, c, eps):
    x = t.randn(2, c, 7, 5)
    bn = nn.BatchNorm2d(c, eps=eps)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.2, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    bn.eval()
    y = bn(x)
    out = t.op("vai.batch_norm",
               [t.arg(x), t.const(bn.running_mean), t.const(bn.running_var),
                t.const(bn.weight), t.const(bn.bias)],
               {"epsilon": eps}, nhwc(y).shape)
    return out, nhwc(y)


@case("scale_with_bias", bias=True)
@case("scale_no_bias", bias=False)
def scale(t: Case, bias):
    x, s, b = t.randn(2, 5, 6, 7), t.randn(5), t.randn(5)
    y = x * s.view(1, -1, 1, 1) + (b.view(1, -1, 1, 1) if bias else 0)
    out = t.op("vai.scale",
               [t.arg(x), t.const(s), t.const(b) if bias else None],
               None, nhwc(y).shape)
    return out, nhwc(y)


@case("bias_add")
def bias_add(t: Case):
    x, b = t.randn(1, 7, 5, 3), t.randn(7)
    y = x + b.view(1, -1, 1, 1)
    return t.op("vai.bias_add", [t.arg(x), t.const(b)], None,
                nhwc(y).shape), nhwc(y)


# -- activations -------------------------------------------------------------

@case("relu", op="vai.relu", fn=F.relu)
@case("relu6", op="vai.relu6", fn=F.relu6, scale=5.0)
@case("leaky_relu_0.2", op="vai.leaky_relu", attrs={"alpha": 0.2},
      fn=lambda x: F.leaky_relu(x, 0.2))
@case("sigmoid", op="vai.sigmoid", fn=torch.sigmoid, scale=4.0)
@case("tanh", op="vai.tanh", fn=torch.tanh, scale=3.0)
@case("hard_sigmoid_torch", op="vai.hard_sigmoid",
      attrs={"alpha": 1.0 / 6.0, "beta": 0.5}, fn=F.hardsigmoid, scale=5.0)
@case("clip_hardtanh", op="vai.clip", attrs={"min": -1.0, "max": 2.5},
      fn=lambda x: F.hardtanh(x, -1.0, 2.5), scale=3.0)
@case("identity", op="vai.identity", fn=lambda x: x)
@case("dropout_eval", op="vai.dropout", attrs={"ratio": 0.3},
      fn=nn.Dropout(0.3).eval())
def unary(t: Case, op, fn, attrs=None, scale=2.0):
    x = t.randn(2, 3, 7, 5) * scale
    y = fn(x)
    return t.op(op, [t.arg(x)], attrs), nhwc(y)


@case("prelu_per_channel", c=5)
@case("prelu_single_slope", c=1)
def prelu(t: Case, c):
    x = t.randn(2, 5, 6, 7)
    act = nn.PReLU(c)
    with torch.no_grad():
        act.weight.uniform_(-0.5, 1.0)
    y = act(x)
    return t.op("vai.prelu", [t.arg(x), t.const(act.weight)], None,
                nhwc(y).shape), nhwc(y)


# -- pooling -----------------------------------------------------------------

@case("maxpool_k3s2_ceil_odd", kind="max", hw=(9, 8), k=3, stride=2,
      ceil=True)
@case("maxpool_k3s2_pad1_ceil", kind="max", hw=(10, 7), k=3, stride=2,
      padding=1, ceil=True)
@case("maxpool_k2s2_floor_odd", kind="max", hw=(7, 9), k=2, stride=2)
@case("maxpool_k3s1_pad1_same", kind="max", hw=(6, 7), k=3, stride=1,
      padding=1)
@case("maxpool_rect_k3x2_s2x1_pad1x0", kind="max", hw=(9, 6), k=(3, 2),
      stride=(2, 1), padding=(1, 0))
@case("maxpool_k2s2_pad1_ceil_drop_last", kind="max", hw=(5, 7), k=2,
      stride=2, padding=1, ceil=True)
@case("avgpool_k3s2_pad1_ceil_incl", kind="avg", hw=(10, 7), k=3, stride=2,
      padding=1, ceil=True, include=True)
@case("avgpool_k3s2_pad1_ceil_excl", kind="avg", hw=(10, 7), k=3, stride=2,
      padding=1, ceil=True, include=False)
@case("avgpool_k2s2_ceil_incl_odd", kind="avg", hw=(7, 9), k=2, stride=2,
      ceil=True, include=True)
@case("avgpool_k3s2_ceil_excl_odd", kind="avg", hw=(8, 9), k=3, stride=2,
      ceil=True, include=False)
@case("avgpool_k2s2_pad1_ceil_drop_last_incl", kind="avg", hw=(5, 7), k=2,
      stride=2, padding=1, ceil=True, include=True)
@case("avgpool_k2s2_pad1_ceil_drop_last_excl", kind="avg", hw=(5, 7), k=2,
      stride=2, padding=1, ceil=True, include=False)
@case("avgpool_k3s3_pad1_excl", kind="avg", hw=(11, 10), k=3, stride=3,
      padding=1, include=False)
@case("avgpool_k3s3_pad1_incl", kind="avg", hw=(11, 10), k=3, stride=3,
      padding=1, include=True)
@case("avgpool_rect_k3x2_s2x1_pad1x1_excl", kind="avg", hw=(9, 6),
      k=(3, 2), stride=(2, 1), padding=(1, 1), include=False)
def pool(t: Case, kind, hw, k, stride, padding=0, ceil=False, include=True):
    x = t.randn(2, 3, *hw)
    if kind == "max":
        y = F.max_pool2d(x, k, stride, padding, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(x, k, stride, padding, ceil_mode=ceil,
                         count_include_pad=include)
    ph, pw = pair(padding)
    attrs = {"kernel": pair(k), "strides": pair(stride),
             "pad": [ph, ph, pw, pw], "ceil_mode": ceil}
    if kind == "avg":
        attrs["count_include_pad"] = include
    return t.op(f"vai.{kind}_pool2d", [t.arg(x)], attrs,
                nhwc(y).shape), nhwc(y)


@case("global_avg_pool", kind="avg")
@case("global_max_pool", kind="max")
def global_pool(t: Case, kind):
    x = t.randn(2, 6, 7, 5)
    pool_fn = F.adaptive_avg_pool2d if kind == "avg" else F.adaptive_max_pool2d
    y = pool_fn(x, 1)
    return t.op(f"vai.global_{kind}_pool2d", [t.arg(x)], None,
                nhwc(y).shape), nhwc(y)


# -- element-wise binary ops -------------------------------------------------

BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul,
          "div": torch.div, "max": torch.maximum, "min": torch.minimum}


@case("add_same_shape_nchw", op="add", a=(2, 4, 5, 6), b=(2, 4, 5, 6),
      nchw=True)
@case("add_fused_relu_per_channel", op="add", a=(2, 5, 4, 3), b=(3,),
      act="relu")
@case("add_fused_leaky_broadcast", op="add", a=(2, 1, 5, 3), b=(4, 1, 3),
      act="leaky_relu", alpha=0.1)
@case("sub_broadcast_channel_nchw", op="sub", a=(2, 4, 5, 6), b=(1, 4, 1, 1),
      nchw=True)
@case("mul_broadcast_spatial_nchw", op="mul", a=(2, 4, 5, 6), b=(1, 1, 5, 6),
      nchw=True)
@case("div_broadcast_both", op="div", a=(3, 1, 6), b=(1, 4, 6))
@case("max_broadcast_rank", op="max", a=(2, 3, 4, 5), b=(4, 1))
@case("min_broadcast_scalar_like", op="min", a=(1,), b=(2, 3, 4))
def binary(t: Case, op, a, b, nchw=False, act=None, alpha=0.0):
    lhs, rhs = t.randn(*a), t.randn(*b)
    if op == "div":  # keep the divisor away from 0
        rhs = torch.sign(rhs) * (0.5 + rhs.abs())
    y = torch_act(BINARY[op](lhs, rhs), act, alpha)
    # With nchw, both operands are 4-D NCHW and go through the NHWC
    # conversion (broadcasting then follows the layout); otherwise the
    # shapes are used as they are.
    conv = nhwc if nchw else (lambda v: v.numpy())
    out = t.op(f"vai.{op}", [t.arg(lhs, nchw), t.arg(rhs, nchw)],
               act_attrs(act, alpha) if op == "add" else None,
               conv(y).shape)
    return out, conv(y)


# -- shape and data movement -------------------------------------------------

@case("concat_channels", dim=1, axis=3, shapes=[(2, 3, 5, 4), (2, 5, 5, 4)])
@case("concat_height_3_inputs", dim=2, axis=1,
      shapes=[(1, 3, 2, 4), (1, 3, 5, 4), (1, 3, 1, 4)])
@case("concat_width", dim=3, axis=2, shapes=[(2, 3, 5, 4), (2, 3, 5, 3)])
def concat(t: Case, dim, axis, shapes):
    xs = [t.randn(*s) for s in shapes]
    y = torch.cat(xs, dim)
    return t.op("vai.concat", [t.arg(x) for x in xs], {"axis": axis},
                nhwc(y).shape), nhwc(y)


@case("reshape_nhwc", shape=(4, 5, 18))
@case("reshape_to_4d", shape=(3, 2, 10, 6))
def reshape(t: Case, shape):
    x = t.randn(2, 6, 5, 6)
    xa = nhwc(x)  # the op's own semantics on the NHWC data
    y = xa.reshape(shape)
    return t.op("vai.reshape", [t.arg(x)], {"shape": shape}, y.shape), y


@case("flatten_nhwc_axis1", axis=1)
@case("flatten_nhwc_axis2", axis=2)
@case("flatten_nhwc_axis0", axis=0)
@case("flatten_nhwc_axis4", axis=4)
def flatten(t: Case, axis):
    x = t.randn(2, 3, 4, 5)
    xa = nhwc(x)  # the NHWC data, collapsed in its own row-major order
    y = xa.reshape(int(np.prod(xa.shape[:axis])), -1)
    return t.op("vai.flatten", [t.arg(x)], {"axis": axis}, y.shape), y


@case("transpose_nhwc_to_nchw", perm=(0, 3, 1, 2))
@case("transpose_2031", perm=(2, 0, 3, 1))
def transpose(t: Case, perm):
    x = t.randn(2, 3, 4, 5)
    # NHWC -> NCHW gives back PyTorch's own tensor; other perms are checked
    # with torch.permute on the NHWC data.
    xa = torch.from_numpy(nhwc(x))
    y = (x if perm == (0, 3, 1, 2) else xa.permute(*perm)).numpy()
    return t.op("vai.transpose", [t.arg(x)], {"perm": perm}, y.shape), y


@case("squeeze_0_2")
def squeeze(t: Case):
    x = t.randn(1, 5, 1, 3)
    y = torch.squeeze(torch.squeeze(x, 2), 0).numpy()
    return t.op("vai.squeeze", [t.arg(x, nchw=False)], {"axes": [0, 2]},
                y.shape), y


@case("slice_strided_nchw")
def slice_strided(t: Case):
    x = t.randn(2, 5, 9, 8)
    y = x[:, 1:5:2, 1:8:3, ::2]  # channels 1,3; rows 1,4,7; cols 0,2,4,6
    return t.op("vai.slice", [t.arg(x)],
                {"offsets": [0, 1, 0, 1], "sizes": [2, 3, 4, 2],
                 "strides": [1, 3, 2, 2]}, nhwc(y).shape), nhwc(y)


@case("slice_offsets_no_strides")
def slice_plain(t: Case):
    x = t.randn(6, 10)
    y = x[2:5, 3:10].numpy()
    return t.op("vai.slice", [t.arg(x, nchw=False)],
                {"offsets": [2, 3], "sizes": [3, 7]}, y.shape), y


@case("pad_constant_spatial", mode="constant", pads=(1, 2, 0, 3), value=0.5)
@case("pad_constant_channels", mode="constant", pads=(0, 1, 2, 1, 1, 2),
      value=-1.25)
@case("pad_reflect", mode="reflect", pads=(2, 1, 3, 1))
@case("pad_replicate", mode="replicate", pads=(3, 0, 1, 4))
def pad(t: Case, mode, pads, value=0.0):
    x = t.randn(2, 3, 5, 6)
    y = F.pad(x, pads, mode=mode, value=value) if mode == "constant" \
        else F.pad(x, pads, mode=mode)
    # F.pad lists (left, right, top, bottom[, front, back]) from the last
    # NCHW dimension; vai's low/high are per NHWC dimension.
    p = list(pads) + [0] * (6 - len(pads))
    low, high = [0, p[2], p[0], p[4]], [0, p[3], p[1], p[5]]
    attrs = {"low": low, "high": high,
             "mode": {"replicate": "edge"}.get(mode, mode)}
    if mode == "constant":
        attrs["value"] = value
    return t.op("vai.pad", [t.arg(x)], attrs, nhwc(y).shape), nhwc(y)


# -- resize ------------------------------------------------------------------

@case("resize_nearest_up2", hw=(4, 5), size=(8, 10), mode="nearest")
@case("resize_nearest_up_nonint", hw=(4, 5), size=(7, 9), mode="nearest")
@case("resize_nearest_down_nonint", hw=(9, 7), size=(4, 5), mode="nearest")
@case("resize_nearest_exact_up_nonint", hw=(5, 4), size=(8, 7),
      mode="nearest-exact")
@case("resize_bilinear_ac_up2", hw=(4, 5), size=(8, 10), mode="bilinear",
      align_corners=True)
@case("resize_bilinear_ac_up_nonint", hw=(5, 4), size=(9, 11),
      mode="bilinear", align_corners=True)
@case("resize_bilinear_ac_down", hw=(9, 8), size=(4, 3), mode="bilinear",
      align_corners=True)
@case("resize_bilinear_up2", hw=(4, 5), size=(8, 10), mode="bilinear")
@case("resize_bilinear_up_nonint", hw=(5, 4), size=(7, 10), mode="bilinear")
@case("resize_bilinear_down_nonint", hw=(9, 8), size=(4, 5),
      mode="bilinear")
@case("resize_bilinear_to_1x1_half_pixel", hw=(4, 6), size=(1, 1),
      mode="bilinear")
def resize(t: Case, hw, size, mode, align_corners=None):
    x = t.randn(2, 3, *hw)
    y = F.interpolate(x, size=size, mode=mode, align_corners=align_corners)
    if mode == "nearest":       # floor(x * in / out)
        attrs = {"mode": "nearest", "coord_mode": "asymmetric",
                 "nearest_mode": "floor"}
    elif mode == "nearest-exact":  # floor((x + 0.5) * in / out)
        attrs = {"mode": "nearest", "coord_mode": "half_pixel",
                 "nearest_mode": "round_prefer_ceil"}
    elif align_corners:
        attrs = {"mode": "bilinear", "coord_mode": "align_corners"}
    else:
        # PyTorch's bilinear without align_corners is pytorch_half_pixel for
        # outputs longer than 1. For an output of length 1, PyTorch still
        # samples at (0.5 * in - 0.5), i.e. half_pixel, while ONNX's
        # pytorch_half_pixel (and vai's) samples at 0.
        coord = "half_pixel" if 1 in size else "pytorch_half_pixel"
        attrs = {"mode": "bilinear", "coord_mode": coord}
    attrs["size"] = size
    return t.op("vai.resize", [t.arg(x)], attrs, nhwc(y).shape), nhwc(y)


# -- softmax and reductions --------------------------------------------------

@case("softmax_channels_nchw", shape=(2, 5, 4, 3), dim=1, axis=3)
@case("softmax_height_nchw", shape=(2, 5, 4, 3), dim=2, axis=1)
@case("softmax_2d_last", shape=(4, 10), dim=1, axis=1)
@case("softmax_3d_first", shape=(3, 5, 7), dim=0, axis=0)
def softmax(t: Case, shape, dim, axis):
    x = t.randn(*shape) * 3
    y = torch.softmax(x, dim)
    return t.op("vai.softmax", [t.arg(x)], {"axis": axis},
                nhwc(y).shape), nhwc(y)


@case("reduce_mean_hw_keepdims", dims=(2, 3), axes=[1, 2], keep=True)
@case("reduce_mean_hw_nokeep", dims=(2, 3), axes=[2, 1], keep=False)
@case("reduce_mean_channels_keepdims", dims=(1,), axes=[3], keep=True)
@case("reduce_mean_channels_nokeep", dims=(1,), axes=[3], keep=False)
def reduce_mean(t: Case, dims, axes, keep):
    x = t.randn(2, 6, 5, 7)
    y = x.mean(dims, keepdim=keep)
    return t.op("vai.reduce_mean", [t.arg(x)],
                {"axes": axes, "keep_dims": keep}, nhwc(y).shape), nhwc(y)


# -- a small network ---------------------------------------------------------

@case("chain_conv_bn_relu6_pool_fc_softmax")
def chain(t: Case):
    x = t.randn(2, 3, 15, 13)
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    bn = nn.BatchNorm2d(8)
    with torch.no_grad():
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 2.0)
    bn.eval()
    fc = nn.Linear(8, 4)
    h = F.relu6(bn(conv(x)))
    y = torch.softmax(fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)), 1)

    v = t.op("vai.conv2d", [t.arg(x), t.const(conv_weight(conv.weight))],
             {"strides": [2, 2], "pad": [1, 1, 1, 1]}, (2, 8, 7, 8))
    v = t.op("vai.batch_norm", [v, t.const(bn.running_mean),
                                t.const(bn.running_var), t.const(bn.weight),
                                t.const(bn.bias)], None, v.shape)
    v = t.op("vai.relu6", [v])
    v = t.op("vai.global_avg_pool2d", [v], None, (2, 1, 1, 8))
    v = t.op("vai.flatten", [v], None, (2, 8))  # 1x1 spatial: same as NCHW
    v = t.op("vai.inner_product", [v, t.const(fc.weight), t.const(fc.bias)],
             None, (2, 4))
    v = t.op("vai.softmax", [v], {"axis": 1}, (2, 4))
    return v, y.detach().numpy()


#===-----------------------------------------------------------------------===#
# Driver
#===-----------------------------------------------------------------------===#


def run_case(name, fn, params, vai_run: str, workdir: Path):
    """Builds, runs and compares one configuration; returns (ok, message)."""
    t = Case(name)
    with torch.no_grad():
        result, expected = fn(t, **params)
    expected = np.asarray(expected, np.float32)
    t.b.returns([result])
    model = workdir / f"{name}.mlir"
    t.b.write(model)
    cmd = [vai_run, "--reference", str(model)]
    for i, a in enumerate(t.inputs):
        path = workdir / f"{name}.in{i}.npy"
        np.save(path, a)
        cmd += ["--input", str(path)]
    out_path = workdir / f"{name}.out.npy"
    cmd += ["--output", str(out_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        return False, "vai-run failed: " + " | ".join(msg[:4])
    got = np.load(out_path)
    if got.shape != expected.shape:
        return False, f"shape {got.shape}, expected {expected.shape}"
    err = np.abs(got.astype(np.float64) - expected)
    bad = err > RTOL * np.maximum(1.0, np.abs(expected))
    detail = f"max_abs_err={err.max() if err.size else 0.0:.3e}"
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        detail += (f" ({int(bad.sum())}/{bad.size} off; first at {idx}: "
                   f"got {got[idx]:.6g}, expected {expected[idx]:.6g})")
        return False, detail
    return True, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vai-run", default="vai-run",
                        help="the vai-run binary (default: from PATH)")
    parser.add_argument("--workdir", required=True,
                        help="directory for the models, inputs and outputs")
    parser.add_argument("-k", dest="filter", default="",
                        help="run only configurations whose name contains "
                             "this")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    selected = [c for c in CASES if args.filter in c[0]]
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate configuration names"
    failures = []
    for name, fn, params in selected:
        try:
            ok, detail = run_case(name, fn, params, args.vai_run, workdir)
        except Exception as e:  # a bug in this script's own configuration
            traceback.print_exc()
            ok, detail = False, f"error building the case: {e}"
        print(f"{name:<40} {detail}  {'ok' if ok else 'FAIL'}", flush=True)
        if not ok:
            failures.append(name)

    if failures:
        print(f"{len(failures)} of {len(selected)} configurations FAIL: "
              + ", ".join(failures))
        return 1
    print(f"all {len(selected)} configurations match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
