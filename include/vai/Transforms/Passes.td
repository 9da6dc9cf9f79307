//===- Passes.td - vai graph passes ------------------------*- tablegen -*-===//
#ifndef VAI_TRANSFORMS_PASSES_TD
#define VAI_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RemoveInferenceNoops : Pass<"vai-remove-inference-noops"> {
  let summary = "Remove nodes that do nothing at inference";
  let description = [{
    Replaces by their input: `vai.dropout`, `vai.identity`, a `vai.reshape`
    whose result type equals its input type, a `vai.transpose` with the
    identity permutation, a `vai.squeeze` of no axes and a `vai.concat` of a
    single input. Then erases every vai op whose results are unused (dead
    values), so branches that feed nothing disappear.
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numRemoved", "num-removed", "Number of no-op nodes removed">,
    Statistic<"numDead", "num-dead", "Number of dead nodes erased">
  ];
}

def FoldBatchNorm : Pass<"vai-fold-batch-norm"> {
  let summary = "Fold batch norm, scale and bias add into the producing conv";
  let description = [{
    Rewrites every `vai.batch_norm` with constant parameters into the
    equivalent per-channel `vai.scale` (multiplier s = scale / sqrt(variance
    + epsilon), bias = offset - mean * s). Then folds each `vai.scale` and
    `vai.bias_add` with constant parameters into the `vai.conv2d`,
    `vai.depthwise_conv2d`, `vai.transposed_conv2d` or `vai.inner_product`
    that produces its input, when that producer has constant weights, no
    fused activation and no other user: weights are multiplied per output
    channel and the bias becomes s * bias + b. The result keeps the
    producer's location fused with the folded layer's.
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numBatchNorms", "num-batch-norms",
              "Number of batch norms turned into scales">,
    Statistic<"numFolded", "num-folded",
              "Number of scales and bias adds folded into a producer">
  ];
}

def FuseActivations : Pass<"vai-fuse-activations"> {
  let summary = "Fuse relu, relu6 and leaky relu into their producer";
  let description = [{
    Sets the `act` attribute of a `vai.conv2d`, `vai.depthwise_conv2d`,
    `vai.transposed_conv2d`, `vai.inner_product` or `vai.add` whose only
    user is a `vai.relu`, `vai.relu6` or `vai.leaky_relu`, and removes the
    activation: the DPUCADF8H applies these on the fly after the conv and
    eltwise engines. A `vai.clip` to [0, 6] counts as relu6.
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numFused", "num-fused", "Number of activations fused">
  ];
}

def FoldConstants : Pass<"vai-fold-constants"> {
  let summary = "Evaluate ops whose operands are all constants";
  let description = [{
    Every vai op (other than `vai.constant`) whose operands are all
    constants is evaluated once with the reference interpreter and replaced
    by a `vai.constant` holding its result (a dense resource when large).
    Importers leave such subgraphs behind (weight transposes, shape
    arithmetic, TensorFlow's unfused batch norm on constants).
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numFolded", "num-folded", "Number of ops folded">
  ];
}

def FoldTransposeIntoInnerProduct
    : Pass<"vai-fold-transpose-into-inner-product"> {
  let summary = "Fold a transpose before flatten into the inner product";
  let description = [{
    `inner_product(flatten(transpose(x, perm)), W)` with `perm[0] = 0` and
    a flatten at axis 1 (or a reshape to [N, rest]) computes the same as
    `inner_product(flatten(x), W')` where W' permutes W's columns. Caffe and
    ONNX models flatten in NCHW order, so their importers put an NHWC-to-NCHW
    transpose before the first inner product; folding it removes a layer the
    DPU cannot run (which would otherwise split the DPU subgraph).
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numFolded", "num-folded", "Transposes folded">
  ];
}

def Equalize : Pass<"vai-equalize"> {
  let summary = "Cross-layer equalization of consecutive conv layers";
  let description = [{
    For each pair of a conv2d, depthwise_conv2d (multiplier 1) or
    inner_product whose only user is another such layer reading its output
    channel by channel, rescales output channel c of the first by 1/s_c
    (weights and bias) and input channel c of the second by s_c, with
    s_c = sqrt(r1_c / r2_c) and r the channels' largest |weight| (Nagel et
    al., "Data-Free Quantization Through Weight Equalization and Bias
    Correction", 2019). The float function is unchanged when the first
    layer's fused activation is none, relu or leaky relu (positively
    homogeneous), so per-tensor weight quantization loses far less where
    batch-norm folding left channels of very different ranges (MobileNet's
    depthwise layers). A fused relu6 is not homogeneous: with
    `replace-relu6` (the default, as vai_q_tensorflow's replace_relu6) it
    becomes relu, which changes the float model where activations exceed 6;
    without it such pairs are left alone. Runs `iterations` sweeps.
    Before that, in every pair (relu6 or not), the second layer's weights
    that read a dead channel of the first (weights below 1e-6 of its
    largest, bias clamped to 0 by the activation: it only outputs zeros)
    are zeroed, so they no longer set its range.
  }];
  let options = [
    Option<"iterations", "iterations", "int", "4", "Sweeps over the pairs">,
    Option<"replaceRelu6", "replace-relu6", "bool", "true",
           "Turn a fused relu6 into relu to equalize across it">,
  ];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numPairs", "num-pairs", "Layer pairs equalized">,
    Statistic<"numRelu6", "num-relu6-replaced", "relu6 replaced by relu">,
    Statistic<"numPruned", "num-pruned", "Layers whose inputs from dead channels were zeroed">
  ];
}

def Quantize : Pass<"vai-quantize", "::mlir::func::FuncOp"> {
  let summary = "Power-of-two INT8 quantization from a calibration table";
  let description = [{
    Quantizes every op the target's DPU runs (the others stay float, for the
    CPU): `vai.fix` ops at the positions the calibration table gives its
    activation tensors (by tensor name, as vai-quantize writes them), its
    weights and biases replaced by constants on their 8-bit grid
    (STD_ROUND, [-128, 127], the position of least squared error) followed
    by their fix. Ops that only move data (reshape, flatten, squeeze, zero
    pad, max pooling, concat) make their inputs and output share one
    position, the smallest. Positions are then lowered until every shift
    the DPU performs is legal for the target (shift_bias, shift_cut, relu6's
    clamp, eltwise and average-pool right shifts), as vai_q's
    adjust_shift_bias and adjust_shift_cut do. docs/quantization.md defines
    the result.
  }];
  let options = [
    Option<"calibTable", "calib-table", "std::string", "",
           "Calibration table (<tensor> <method> <min> <max> <fix_point>)">,
    Option<"targetName", "target", "std::string", "\"DPUCADF8H_ISA0\"",
           "The DPU target (target-factory name)">,
  ];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
}

#endif // VAI_TRANSFORMS_PASSES_TD
