//===- VaiOps.td - vai dialect operations ------------------*- tablegen -*-===//
//
// Every op states its exact semantics; docs/dialect.md collects the
// conventions. Shapes are inferred from operands and attributes
// (InferTypeOpInterface), and the verifier rejects a result type that differs
// from the inferred one, naming the op.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_DIALECT_VAI_VAIOPS_TD
#define VAI_DIALECT_VAI_VAIOPS_TD

include "vai/Dialect/Vai/VaiDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

//===----------------------------------------------------------------------===//
// Types and common argument lists
//===----------------------------------------------------------------------===//

def Vai_FloatTensor : StaticShapeTensorOf<[F32]>;
/// Data-movement ops also carry integer tensors (quantized data, labels).
def Vai_Tensor : StaticShapeTensorOf<[F32, I8, UI8, I32, I64]>;

class Vai_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vai_Dialect, mnemonic, !listconcat(traits, [Pure])>;

/// Ops whose result type is inferred from operands and attributes.
class Vai_InferOp<string mnemonic, list<Trait> traits = []>
    : Vai_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor])> {
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
}

/// Same-type element-wise unary op on float tensors.
class Vai_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Vai_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType,
                                            InferTypeOpInterface])> {
  let results = (outs Vai_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

// The fused activation of conv, inner product and add.
defvar FusedActivationArgs = (ins
    DefaultValuedAttr<Vai_ActivationAttr, "::mlir::vai::Activation::None">:$act,
    DefaultValuedAttr<F32Attr, "0.0f">:$act_alpha);

defvar ConvGeometryArgs = (ins
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pad,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations);

defvar ConvSemantics = [{
    Geometry attributes: `strides` = [sh, sw]; `pad` = [top, bottom, left,
    right] (asymmetric padding allowed; padded positions read 0);
    `dilations` = [dh, dw]. For output position (oy, ox) and kernel tap
    (ky, kx) the input position is
    (oy * sh - top + ky * dh, ox * sw - left + kx * dw).
    Output size: OH = floor((H + top + bottom - dh * (KH - 1) - 1) / sh) + 1,
    likewise OW; both must be at least 1.
    The fused activation `act` (none, relu, relu6, leaky_relu with slope
    `act_alpha`) is applied to the biased result.
}];

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Vai_ConstantOp : Vai_Op<"constant", [ConstantLike,
    InferTypeOpAdaptor]> {
  let summary = "constant tensor (weights, biases, parameters)";
  let description = [{
    Holds a constant tensor: a dense elements attribute or a dense resource
    (`dense_resource<...>`, used for large weights). The result type is the
    attribute's type.

    ```mlir
    %w = vai.constant dense<1.0> : tensor<8x3x3x3xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Vai_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Convolutions and products
//===----------------------------------------------------------------------===//

def Vai_Conv2DOp : Vai_InferOp<"conv2d"> {
  let summary = "2-D convolution, NHWC input, OHWI weights";
  let description = !strconcat([{
    out[n, oy, ox, o] = bias[o] + sum over ky, kx and the input channels i of
    o's group of in[n, iy, ix, i] * weight[o, ky, kx, i - g * IC/groups]
    where g = o / (OC / groups).

    Operands: input [N, H, W, IC], weight [OC, KH, KW, IC / groups], optional
    bias [OC]. `groups` divides both IC and OC.
  }], ConvSemantics);
  let arguments = !con((ins Vai_FloatTensor:$input, Vai_FloatTensor:$weight,
                           Optional<Vai_FloatTensor>:$bias),
                       ConvGeometryArgs,
                       (ins DefaultValuedAttr<I64Attr, "1">:$groups),
                       FusedActivationArgs);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_DepthwiseConv2DOp : Vai_InferOp<"depthwise_conv2d"> {
  let summary = "depthwise 2-D convolution";
  let description = !strconcat([{
    out[n, oy, ox, c * M + m] = bias[c * M + m] +
        sum over ky, kx of in[n, iy, ix, c] * weight[m, ky, kx, c]

    Operands: input [N, H, W, C], weight [M, KH, KW, C] with channel
    multiplier M, optional bias [C * M]. Result [N, OH, OW, C * M].
  }], ConvSemantics);
  let arguments = !con((ins Vai_FloatTensor:$input, Vai_FloatTensor:$weight,
                           Optional<Vai_FloatTensor>:$bias),
                       ConvGeometryArgs, FusedActivationArgs);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_TransposedConv2DOp : Vai_InferOp<"transposed_conv2d"> {
  let summary = "2-D transposed convolution (deconvolution)";
  let description = [{
    The gradient of conv2d with respect to its input:
    out[n, iy * sh - top + ky * dh, ix * sw - left + kx * dw, o] +=
        in[n, iy, ix, i] * weight[o, ky, kx, i - g * IC/groups]
    for every input position and kernel tap, plus bias[o]; contributions that
    land outside the output are dropped.

    Operands: input [N, H, W, IC], weight [OC, KH, KW, IC / groups], optional
    bias [OC]. `pad` = [top, bottom, left, right] crops the full result
    (PyTorch's `padding`, Caffe's `pad`); `output_padding` = [ph, pw] adds
    rows/columns at the bottom/right (each smaller than the stride or the
    dilation). Output size:
    OH = (H - 1) * sh - top - bottom + dh * (KH - 1) + 1 + ph, likewise OW.
    The fused activation applies to the biased result.
  }];
  let arguments = !con((ins Vai_FloatTensor:$input, Vai_FloatTensor:$weight,
                           Optional<Vai_FloatTensor>:$bias),
                       ConvGeometryArgs,
                       (ins DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$output_padding,
                            DefaultValuedAttr<I64Attr, "1">:$groups),
                       FusedActivationArgs);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_InnerProductOp : Vai_InferOp<"inner_product"> {
  let summary = "fully connected layer";
  let description = [{
    out[b, o] = bias[o] + sum_i in[b, i] * weight[o, i], then the fused
    activation. Operands: input [B, I], weight [O, I], optional bias [O].
    Importers flatten higher-rank inputs first (in the framework's layout
    order).
  }];
  let arguments = !con((ins Vai_FloatTensor:$input, Vai_FloatTensor:$weight,
                           Optional<Vai_FloatTensor>:$bias),
                       FusedActivationArgs);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_MatMulOp : Vai_InferOp<"matmul"> {
  let summary = "batched matrix product";
  let description = [{
    out[..., m, n] = sum_k lhs[..., m, k] * rhs[..., k, n]. Both operands
    have rank >= 2; their batch dimensions are equal, or one operand is
    rank 2 and is shared by every batch.
  }];
  let arguments = (ins Vai_FloatTensor:$lhs, Vai_FloatTensor:$rhs);
  let results = (outs Vai_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Normalisation and per-channel ops (channels = last dimension)
//===----------------------------------------------------------------------===//

def Vai_BatchNormOp : Vai_InferOp<"batch_norm"> {
  let summary = "inference batch normalisation";
  let description = [{
    out[..., c] = (in[..., c] - mean[c]) / sqrt(variance[c] + epsilon)
                  * scale[c] + offset[c]
    over the last dimension. All four parameter operands are [C].
  }];
  let arguments = (ins Vai_FloatTensor:$input, Vai_FloatTensor:$mean,
                       Vai_FloatTensor:$variance, Vai_FloatTensor:$scale,
                       Vai_FloatTensor:$offset,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_ScaleOp : Vai_InferOp<"scale"> {
  let summary = "per-channel multiply-add (Caffe Scale)";
  let description = [{
    out[..., c] = in[..., c] * scale[c] + bias[c] (bias optional, 0 when
    absent); scale and bias are [C], C the last dimension.
  }];
  let arguments = (ins Vai_FloatTensor:$input, Vai_FloatTensor:$scale,
                       Optional<Vai_FloatTensor>:$bias);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_BiasAddOp : Vai_InferOp<"bias_add"> {
  let summary = "per-channel bias";
  let description = [{
    out[..., c] = in[..., c] + bias[c]; bias is [C], C the last dimension.
  }];
  let arguments = (ins Vai_FloatTensor:$input, Vai_FloatTensor:$bias);
  let results = (outs Vai_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def Vai_ReluOp : Vai_UnaryOp<"relu"> {
  let summary = "max(x, 0)";
  let arguments = (ins Vai_FloatTensor:$input);
}

def Vai_Relu6Op : Vai_UnaryOp<"relu6"> {
  let summary = "min(max(x, 0), 6)";
  let arguments = (ins Vai_FloatTensor:$input);
}

def Vai_LeakyReluOp : Vai_UnaryOp<"leaky_relu"> {
  let summary = "x >= 0 ? x : alpha * x";
  let description = [{
    Float semantics use `alpha` exactly; the DPU applies 26/256 for 0.1
    (see docs/quantization.md).
  }];
  let arguments = (ins Vai_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01f">:$alpha);
  let hasVerifier = 1;
}

def Vai_SigmoidOp : Vai_UnaryOp<"sigmoid"> {
  let summary = "1 / (1 + exp(-x))";
  let arguments = (ins Vai_FloatTensor:$input);
}

def Vai_TanhOp : Vai_UnaryOp<"tanh"> {
  let summary = "hyperbolic tangent";
  let arguments = (ins Vai_FloatTensor:$input);
}

def Vai_HardSigmoidOp : Vai_UnaryOp<"hard_sigmoid"> {
  let summary = "max(0, min(1, alpha * x + beta))";
  let description = [{
    ONNX and Keras use alpha = 0.2, beta = 0.5; PyTorch's Hardsigmoid is
    alpha = 1/6, beta = 0.5.
  }];
  let arguments = (ins Vai_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.2f">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5f">:$beta);
}

def Vai_ClipOp : Vai_UnaryOp<"clip"> {
  let summary = "min(max(x, min), max)";
  let arguments = (ins Vai_FloatTensor:$input, F32Attr:$min, F32Attr:$max);
  let hasVerifier = 1;
}

def Vai_PReluOp : Vai_InferOp<"prelu"> {
  let summary = "parametric relu, one slope per channel";
  let description = [{
    out[..., c] = in[..., c] >= 0 ? in[..., c] : slope[c] * in[..., c];
    slope is [C] (C the last dimension) or [1] (one slope shared).
  }];
  let arguments = (ins Vai_FloatTensor:$input, Vai_FloatTensor:$slope);
  let results = (outs Vai_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

defvar PoolArgs = (ins Vai_FloatTensor:$input,
    DenseI64ArrayAttr:$kernel,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pad,
    DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);

defvar PoolSemantics = [{
    Input [N, H, W, C]; `kernel` = [KH, KW]; `strides` = [sh, sw];
    `pad` = [top, bottom, left, right], each smaller than the kernel.
    Window (oy, ox) covers rows [oy * sh - top, oy * sh - top + KH) and the
    matching columns. Output size: OH = floor((H + top + bottom - KH) / sh)
    + 1, or with `ceil_mode` ceil(...) + 1 reduced by one when the last
    window would start at or past H + top (PyTorch's and Caffe's rule),
    likewise OW.
}];

def Vai_MaxPool2DOp : Vai_InferOp<"max_pool2d"> {
  let summary = "2-D max pooling";
  let description = !strconcat(PoolSemantics, [{
    Each output is the maximum of the window's in-bounds elements (padding
    never wins).
  }]);
  let arguments = PoolArgs;
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_AvgPool2DOp : Vai_InferOp<"avg_pool2d"> {
  let summary = "2-D average pooling";
  let description = !strconcat(PoolSemantics, [{
    Each output is the sum of the window's in-bounds elements divided by:
    with `count_include_pad`, the window clipped to the padded extent
    (min(y0 + KH, H + bottom) - y0) * (min(x0 + KW, W + right) - x0) where
    y0, x0 is the window's first row and column (PyTorch and Caffe; windows
    that ceil mode adds count only up to the padding); without it, the
    number of in-bounds elements. The DPU's fixed-point scaling of the
    divisor is part of the quantized semantics (docs/quantization.md).
  }]);
  let arguments = !con(PoolArgs,
      (ins DefaultValuedAttr<BoolAttr, "true">:$count_include_pad));
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_GlobalAvgPool2DOp : Vai_InferOp<"global_avg_pool2d"> {
  let summary = "mean over height and width";
  let description = "[N, H, W, C] -> [N, 1, 1, C], the mean of each channel.";
  let arguments = (ins Vai_FloatTensor:$input);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_GlobalMaxPool2DOp : Vai_InferOp<"global_max_pool2d"> {
  let summary = "max over height and width";
  let description = "[N, H, W, C] -> [N, 1, 1, C], the max of each channel.";
  let arguments = (ins Vai_FloatTensor:$input);
  let results = (outs Vai_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Element-wise binary ops (NumPy broadcasting)
//===----------------------------------------------------------------------===//

class Vai_BinaryOp<string mnemonic, string formula>
    : Vai_InferOp<mnemonic> {
  let summary = "element-wise " # formula # " with broadcasting";
  let description = "out = " # formula # [{, with NumPy broadcasting:
    shapes are aligned at the last dimension, and each pair of dimensions is
    equal or one of them is 1.
  }];
  let arguments = (ins Vai_FloatTensor:$lhs, Vai_FloatTensor:$rhs);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_AddOp : Vai_BinaryOp<"add", "lhs + rhs"> {
  let description = [{
    out = lhs + rhs with NumPy broadcasting (shapes aligned at the last
    dimension; each pair of dimensions equal or one of them 1), then the
    fused activation (the DPU's eltwise engine applies relu).
  }];
  let arguments = !con((ins Vai_FloatTensor:$lhs, Vai_FloatTensor:$rhs),
                       FusedActivationArgs);
}
def Vai_SubOp : Vai_BinaryOp<"sub", "lhs - rhs">;
def Vai_MulOp : Vai_BinaryOp<"mul", "lhs * rhs">;
def Vai_DivOp : Vai_BinaryOp<"div", "lhs / rhs">;
def Vai_MaxOp : Vai_BinaryOp<"max", "max(lhs, rhs)">;
def Vai_MinOp : Vai_BinaryOp<"min", "min(lhs, rhs)">;

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

def Vai_ConcatOp : Vai_InferOp<"concat"> {
  let summary = "concatenation along one axis";
  let description = [{
    Joins one or more tensors of equal rank and element type along `axis`
    (0 <= axis < rank); every other dimension must agree.
  }];
  let arguments = (ins Variadic<Vai_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Vai_Tensor:$output);
}

def Vai_ReshapeOp : Vai_InferOp<"reshape"> {
  let summary = "reinterpret the row-major element order with a new shape";
  let description = [{
    The elements in row-major order are unchanged; `shape` (all dimensions
    >= 1, no -1: importers resolve it) has the same element count.
  }];
  let arguments = (ins Vai_Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Vai_Tensor:$output);
}

def Vai_FlattenOp : Vai_InferOp<"flatten"> {
  let summary = "collapse to rank 2 at `axis` (ONNX Flatten)";
  let description = [{
    [d0, ..., dn-1] -> [d0 * ... * d(axis-1), d(axis) * ... * dn-1] in
    row-major order of the tensor's own layout; 0 <= axis <= rank. Importers
    of NCHW frameworks transpose to NCHW first where the order matters.
  }];
  let arguments = (ins Vai_Tensor:$input,
                       DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Vai_Tensor:$output);
}

def Vai_TransposeOp : Vai_InferOp<"transpose"> {
  let summary = "permute dimensions";
  let description = [{
    out.shape[i] = in.shape[perm[i]]; `perm` is a permutation of 0..rank-1.
  }];
  let arguments = (ins Vai_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Vai_Tensor:$output);
}

def Vai_SqueezeOp : Vai_InferOp<"squeeze"> {
  let summary = "remove listed dimensions of size 1";
  let description = [{
    Drops the dimensions listed in `axes` (unique, in range, each of size 1).
  }];
  let arguments = (ins Vai_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Vai_Tensor:$output);
}

def Vai_SliceOp : Vai_InferOp<"slice"> {
  let summary = "strided slice";
  let description = [{
    out[i0, ..., ik] = in[offsets[0] + i0 * strides[0], ...] for each output
    index below `sizes`; every accessed index is inside the input, strides
    are >= 1 (defaults to 1 when omitted).
  }];
  let arguments = (ins Vai_Tensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$sizes,
                       OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs Vai_Tensor:$output);
}

def Vai_PadOp : Vai_InferOp<"pad"> {
  let summary = "pad every dimension";
  let description = [{
    Adds `low[i]` elements before and `high[i]` after dimension i (both
    >= 0). `mode`: constant writes `value`; reflect mirrors without
    repeating the edge (needs low, high < dim); edge repeats the border.
  }];
  let arguments = (ins Vai_Tensor:$input, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high,
                       DefaultValuedAttr<Vai_PadModeAttr, "::mlir::vai::PadMode::Constant">:$mode,
                       DefaultValuedAttr<F32Attr, "0.0f">:$value);
  let results = (outs Vai_Tensor:$output);
}

def Vai_ResizeOp : Vai_InferOp<"resize"> {
  let summary = "spatial resize of NHWC tensors";
  let description = [{
    [N, H, W, C] -> [N, size[0], size[1], C]. With scale = out / in per
    axis, an output coordinate x maps to the input coordinate
    - asymmetric: x / scale (PyTorch nearest, TF without half pixels)
    - align_corners: x * (in - 1) / (out - 1), 0 when out == 1
    - half_pixel: (x + 0.5) / scale - 0.5 (TF2, ONNX default)
    - pytorch_half_pixel: half_pixel, but 0 when out == 1 (PyTorch
      bilinear without align_corners).
    `nearest`: that coordinate rounded by `nearest_mode` (floor, ceil,
    round_prefer_floor, round_prefer_ceil), clamped to [0, in - 1].
    `bilinear`: the coordinate clamped to [0, in - 1], then linear
    interpolation between its two neighbours on each axis.
  }];
  let arguments = (ins Vai_FloatTensor:$input, DenseI64ArrayAttr:$size,
                       DefaultValuedAttr<Vai_ResizeModeAttr, "::mlir::vai::ResizeMode::Nearest">:$mode,
                       DefaultValuedAttr<Vai_CoordModeAttr, "::mlir::vai::CoordMode::Asymmetric">:$coord_mode,
                       DefaultValuedAttr<Vai_NearestModeAttr, "::mlir::vai::NearestMode::Floor">:$nearest_mode);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_SoftmaxOp : Vai_InferOp<"softmax"> {
  let summary = "softmax along one axis";
  let description = [{
    out = exp(x - max) / sum(exp(x - max)) along `axis` (0 <= axis < rank).
  }];
  let arguments = (ins Vai_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Vai_FloatTensor:$output);
}

def Vai_ReduceMeanOp : Vai_InferOp<"reduce_mean"> {
  let summary = "mean over axes";
  let description = [{
    Mean over the listed `axes` (unique, in range); with `keep_dims` they
    stay as size 1, otherwise they are removed.
  }];
  let arguments = (ins Vai_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keep_dims);
  let results = (outs Vai_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Vai_FixOp : Vai_Op<"fix", [SameOperandsAndResultType,
                                InferTypeOpInterface]> {
  let summary = "power-of-two fixed-point quantize-dequantize (XIR's fix)";
  let description = [{
    out = clamp(ROUND(x * 2^fix_point), lo, hi) * 2^-fix_point, with
    lo = -2^(bit_width-1) and hi = 2^(bit_width-1) - 1, or lo = -hi when
    `symmetric` (activations on DPUCADF8H: [-127, 127]).
    `round_mode`: dpu_round = floor(v + 0.5); std_round = half away from
    zero; py3_round = half to even. NaN becomes 0.
    docs/quantization.md defines how ops between fix ops compute.
  }];
  let arguments = (ins Vai_FloatTensor:$input, I64Attr:$fix_point,
                       DefaultValuedAttr<I64Attr, "8">:$bit_width,
                       DefaultValuedAttr<Vai_RoundModeAttr, "::mlir::vai::RoundMode::DpuRound">:$round_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$symmetric);
  let results = (outs Vai_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Training-time ops kept only until preprocessing removes them
//===----------------------------------------------------------------------===//

def Vai_IdentityOp : Vai_Op<"identity", [SameOperandsAndResultType,
                                          InferTypeOpInterface]> {
  let summary = "returns its input";
  let arguments = (ins Vai_Tensor:$input);
  let results = (outs Vai_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vai_DropoutOp : Vai_Op<"dropout", [SameOperandsAndResultType,
                                        InferTypeOpInterface]> {
  let summary = "dropout; the identity at inference";
  let description = "`ratio` in [0, 1) is kept for the record.";
  let arguments = (ins Vai_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.5f">:$ratio);
  let results = (outs Vai_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // VAI_DIALECT_VAI_VAIOPS_TD
