//===- ONNXOperators.cpp - ONNX operators as vai ops ----------------------===//
//
// One handler per supported ONNX operator (the table is in
// ONNXImporter.cpp). Handlers read their inputs as Tensors, keep 4-D
// activations NHWC and fold constant-only computations.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporterImpl.h"

#include <cmath>
#include <limits>

namespace vai::import::onnx_import {

//===----------------------------------------------------------------------===//
// Convolution, products, normalisation, pooling
//===----------------------------------------------------------------------===//

LogicalResult Importer::window(const onnx::NodeProto &node, const Attrs &attrs,
                               ArrayRef<int64_t> inHW, ArrayRef<int64_t> kernel,
                               bool transposed, Window &w) {
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = attrs.getInts("strides", {1, 1});
  w.dilations = attrs.getInts("dilations", {1, 1});
  std::vector<int64_t> pads = attrs.getInts("pads", {0, 0, 0, 0});
  if (w.strides.size() != 2 || w.dilations.size() != 2 || pads.size() != 4)
    return fail(node, "only 2-D strides, dilations and pads are supported");
  std::string autoPad = attrs.getString("auto_pad", "NOTSET");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    if (transposed)
      return fail(node, "auto_pad " + autoPad +
                            " is not supported for ConvTranspose");
    for (int i = 0; i < 2; ++i) {
      int64_t out = (inHW[i] + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total =
          std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - inHW[i]);
      int64_t small = total / 2;
      pads[i] = autoPad == "SAME_UPPER" ? small : total - small;
      pads[i + 2] = total - pads[i];
    }
  } else if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (autoPad != "NOTSET") {
    return fail(node, "unknown auto_pad '" + autoPad + "'");
  }
  w.pad = {pads[0], pads[2], pads[1], pads[3]};
  return success();
}

LogicalResult Importer::onConv(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = activationInput(node, 0, 4);
  const ConstTensor *w = x ? constInput(node, 1, "the weight") : nullptr;
  if (!w)
    return failure();
  std::vector<int64_t> xs = x->shape();
  int64_t groups = attrs.getInt("group", 1);
  if (w->rank() != 4 || groups < 1 || w->shape[1] * groups != xs[1] ||
      w->shape[0] % groups)
    return fail(node, "weight " + shapeString(w->shape) +
                          " does not match the input's " + Twine(xs[1]) +
                          " channels and group " + Twine(groups));
  int64_t oc = w->shape[0], icg = w->shape[1], kh = w->shape[2],
          kw = w->shape[3];
  Window win;
  if (failed(window(node, attrs, {xs[2], xs[3]}, {kh, kw}, false, win)))
    return failure();
  Location loc = nodeLoc(node);
  SmallVector<Value> operands = {materialize(*x, loc)};
  bool depthwise = groups > 1 && groups == xs[1] && icg == 1;
  std::string name = node.name().empty() ? node.output(0) : node.name();
  if (depthwise) {
    int64_t m = oc / groups;
    operands.push_back(gb.constant(
        loc, {m, kh, kw, groups},
        depthwiseOihwToMhwc(w->floats(), groups, m, kh, kw), name + ".weight"));
  } else {
    operands.push_back(gb.constant(loc, {oc, kh, kw, icg},
                                   oihwToOhwi(w->floats(), oc, icg, kh, kw),
                                   name + ".weight"));
  }
  if (hasInput(node, 2)) {
    const ConstTensor *b = constInput(node, 2, "the bias");
    if (!b)
      return failure();
    if (numElements(b->shape) != oc)
      return fail(node, "bias has " + Twine(numElements(b->shape)) +
                            " values for " + Twine(oc) + " output channels");
    operands.push_back(gb.constant(loc, {oc}, b->floats(), name + ".bias"));
  }
  SmallVector<NamedAttribute> opAttrs = {gb.attr("strides", win.strides),
                                         gb.attr("pad", win.pad),
                                         gb.attr("dilations", win.dilations)};
  if (depthwise)
    return defineValue(node, build<DepthwiseConv2DOp>(loc, operands, opAttrs),
                       true);
  opAttrs.push_back(gb.attr("groups", groups));
  return defineValue(node, build<Conv2DOp>(loc, operands, opAttrs), true);
}

LogicalResult Importer::onConvTranspose(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = activationInput(node, 0, 4);
  const ConstTensor *w = x ? constInput(node, 1, "the weight") : nullptr;
  if (!w)
    return failure();
  std::vector<int64_t> xs = x->shape();
  int64_t groups = attrs.getInt("group", 1);
  if (w->rank() != 4 || groups < 1 || w->shape[0] != xs[1] || xs[1] % groups)
    return fail(node, "weight " + shapeString(w->shape) +
                          " does not match the input's " + Twine(xs[1]) +
                          " channels and group " + Twine(groups));
  int64_t ic = w->shape[0], ocg = w->shape[1], kh = w->shape[2],
          kw = w->shape[3], oc = ocg * groups;
  Window win;
  if (failed(window(node, attrs, {xs[2], xs[3]}, {kh, kw}, true, win)))
    return failure();
  std::vector<int64_t> outputPadding = attrs.getInts("output_padding", {0, 0});
  if (attrs.has("output_shape")) {
    // Derive pads (and output padding) from the requested size.
    std::vector<int64_t> outShape = attrs.getInts("output_shape");
    outShape = ArrayRef<int64_t>(outShape).take_back(2);
    for (int i = 0; i < 2; ++i) {
      int64_t full = (xs[2 + i] - 1) * win.strides[i] +
                     (win.kernel[i] - 1) * win.dilations[i] + 1 +
                     outputPadding[i];
      int64_t total = full - outShape[i];
      if (total < 0)
        return fail(node, "output_shape larger than the full result");
      // The spec's rule without auto_pad: the odd row goes at the start.
      win.pad[2 * i] = total - total / 2;
      win.pad[2 * i + 1] = total / 2;
    }
  }
  Location loc = nodeLoc(node);
  std::string name = node.name().empty() ? node.output(0) : node.name();
  SmallVector<Value> operands = {
      materialize(*x, loc),
      gb.constant(loc, {oc, kh, kw, ic / groups},
                  iohwToOhwi(w->floats(), ic, ocg, kh, kw, groups),
                  name + ".weight")};
  if (hasInput(node, 2)) {
    const ConstTensor *b = constInput(node, 2, "the bias");
    if (!b)
      return failure();
    operands.push_back(gb.constant(loc, {oc}, b->floats(), name + ".bias"));
  }
  return defineValue(
      node,
      build<TransposedConv2DOp>(loc, operands,
                                {gb.attr("strides", win.strides),
                                 gb.attr("pad", win.pad),
                                 gb.attr("dilations", win.dilations),
                                 gb.attr("output_padding", outputPadding),
                                 gb.attr("groups", groups)}),
      true);
}

LogicalResult Importer::onGemm(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *a = activationInput(node, 0, 2);
  const Tensor *bT = a ? input(node, 1) : nullptr;
  if (!bT)
    return failure();
  Location loc = nodeLoc(node);
  float alpha = attrs.getFloat("alpha", 1.0f),
        beta = attrs.getFloat("beta", 1.0f);
  bool transA = attrs.getInt("transA", 0), transB = attrs.getInt("transB", 0);
  Value lhs = materialize(*a, loc);
  if (transA)
    lhs = transpose(loc, lhs, {1, 0});
  if (bT->rank() != 2)
    return fail(node, "B must be 2-D");
  if (!bT->isConstant()) {
    // A product of two activations: matmul, then alpha and beta * C.
    Value rhs = materialize(*bT, loc);
    if (transB)
      rhs = transpose(loc, rhs, {1, 0});
    Value v = build<MatMulOp>(loc, {lhs, rhs});
    if (alpha != 1.0f)
      v = build<MulOp>(loc, {v, gb.scalarConstant(loc, alpha)});
    if (hasInput(node, 2)) {
      const Tensor *c = input(node, 2);
      if (!c)
        return failure();
      Value cv = materialize(*c, loc);
      if (beta != 1.0f)
        cv = build<MulOp>(loc, {cv, gb.scalarConstant(loc, beta)});
      v = build<AddOp>(loc, {v, cv});
    }
    return defineValue(node, v, false);
  }
  // inner_product weight [O, I] = B^T (or B when transB), scaled by alpha.
  ConstTensor weight =
      transB ? *bT->constant : transposeConst(*bT->constant, {1, 0});
  for (double &v : weight.data)
    v *= alpha;
  int64_t outFeatures = weight.shape[0];
  std::string name = node.name().empty() ? node.output(0) : node.name();
  SmallVector<Value> operands = {
      lhs, gb.constant(loc, weight.shape, weight.floats(), name + ".weight")};
  if (hasInput(node, 2)) {
    const ConstTensor *c = constInput(node, 2, "C");
    if (!c)
      return failure();
    ConstTensor bias;
    ConstTensor row;
    row.shape = {outFeatures};
    row.data.assign(outFeatures, 0.0);
    if (!foldBinary(
            row, *c, [beta](double, double v) { return beta * v; }, bias) ||
        numElements(bias.shape) != outFeatures)
      return fail(node, "only a C broadcastable to [" + Twine(outFeatures) +
                            "] is supported");
    operands.push_back(
        gb.constant(loc, {outFeatures}, bias.floats(), name + ".bias"));
  }
  return defineValue(node, build<InnerProductOp>(loc, operands), false);
}

LogicalResult Importer::onMatMul(const onnx::NodeProto &node) {
  const Tensor *a = input(node, 0);
  const Tensor *b = a ? input(node, 1) : nullptr;
  if (!b)
    return failure();
  Location loc = nodeLoc(node);
  if (a->rank() == 2 && !a->isConstant() && b->isConstant() && b->rank() == 2) {
    ConstTensor weight = transposeConst(*b->constant, {1, 0});
    std::string name = node.name().empty() ? node.output(0) : node.name();
    return defineValue(node,
                       build<InnerProductOp>(
                           loc, {materialize(*a, loc),
                                 gb.constant(loc, weight.shape, weight.floats(),
                                             name + ".weight")}),
                       false);
  }
  if (a->rank() < 2 || b->rank() < 2)
    return fail(node, "1-D MatMul operands are not supported");
  return defineOnnxOrder(
      node, build<MatMulOp>(loc, {onnxOrder(*a, loc), onnxOrder(*b, loc)}));
}

LogicalResult Importer::onBatchNorm(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  int64_t channels = x->rank() >= 2 ? x->shape()[1] : 0;
  Location loc = nodeLoc(node);
  SmallVector<Value> params;
  std::string name = node.name().empty() ? node.output(0) : node.name();
  // ONNX order: scale, B, mean, var; vai: mean, variance, scale, offset.
  static const int order[4] = {3, 4, 1, 2};
  static const char *names[4] = {".mean", ".variance", ".scale", ".offset"};
  for (int i = 0; i < 4; ++i) {
    const ConstTensor *c = constInput(node, order[i], "a parameter");
    if (!c)
      return failure();
    if (numElements(c->shape) != channels)
      return fail(node, "parameter '" + node.input(order[i]) + "' has " +
                            Twine(numElements(c->shape)) + " values for " +
                            Twine(channels) + " channels");
    params.push_back(
        gb.constant(loc, {channels}, c->floats(), name + names[i]));
  }
  float eps = Attrs(node).getFloat("epsilon", 1e-5f);
  return perChannel(node, *x, [&](Value v) {
    return build<BatchNormOp>(loc,
                              {v, params[0], params[1], params[2], params[3]},
                              {gb.attr("epsilon", eps)});
  });
}

LogicalResult Importer::onPool(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = activationInput(node, 0, 4);
  if (!x)
    return failure();
  std::vector<int64_t> xs = x->shape();
  std::vector<int64_t> kernel = attrs.getInts("kernel_shape");
  if (kernel.size() != 2)
    return fail(node, "only 2-D kernel_shape is supported");
  Window win;
  if (failed(window(node, attrs, {xs[2], xs[3]}, kernel, false, win)))
    return failure();
  if (win.dilations != std::vector<int64_t>{1, 1})
    return fail(node, "pooling dilations are not supported");
  Location loc = nodeLoc(node);
  SmallVector<NamedAttribute> opAttrs = {
      gb.attr("kernel", kernel), gb.attr("strides", win.strides),
      gb.attr("pad", win.pad),
      gb.attr("ceil_mode", static_cast<bool>(attrs.getInt("ceil_mode", 0)))};
  if (node.op_type() == "MaxPool") {
    if (node.output_size() > 1 && !node.output(1).empty())
      return fail(node, "the Indices output is not supported");
    return defineValue(
        node, build<MaxPool2DOp>(loc, materialize(*x, loc), opAttrs), true);
  }
  opAttrs.push_back(gb.attr("count_include_pad", static_cast<bool>(attrs.getInt(
                                                     "count_include_pad", 0))));
  return defineValue(
      node, build<AvgPool2DOp>(loc, materialize(*x, loc), opAttrs), true);
}

LogicalResult Importer::onGlobalPool(const onnx::NodeProto &node) {
  const Tensor *x = activationInput(node, 0, 4);
  if (!x)
    return failure();
  Location loc = nodeLoc(node);
  Value v = materialize(*x, loc);
  if (node.op_type() == "GlobalMaxPool")
    return defineValue(node, build<GlobalMaxPool2DOp>(loc, v), true);
  return defineValue(node, build<GlobalAvgPool2DOp>(loc, v), true);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult
Importer::activation(const onnx::NodeProto &node,
                     const std::function<Value(Location, Value)> &fn) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  Location loc = nodeLoc(node);
  return defineValue(node, fn(loc, materialize(*x, loc)), x->nhwc);
}

LogicalResult Importer::onRelu(const onnx::NodeProto &node) {
  return activation(
      node, [&](Location loc, Value v) { return build<ReluOp>(loc, v); });
}

LogicalResult Importer::onSigmoid(const onnx::NodeProto &node) {
  return activation(
      node, [&](Location loc, Value v) { return build<SigmoidOp>(loc, v); });
}

LogicalResult Importer::onTanh(const onnx::NodeProto &node) {
  return activation(
      node, [&](Location loc, Value v) { return build<TanhOp>(loc, v); });
}

LogicalResult Importer::onLeakyRelu(const onnx::NodeProto &node) {
  float alpha = Attrs(node).getFloat("alpha", 0.01f);
  return activation(node, [&](Location loc, Value v) {
    return build<LeakyReluOp>(loc, v, {gb.attr("alpha", alpha)});
  });
}

LogicalResult Importer::onHardSigmoid(const onnx::NodeProto &node) {
  Attrs attrs(node);
  float alpha = attrs.getFloat("alpha", 0.2f),
        beta = attrs.getFloat("beta", 0.5f);
  return activation(node, [&](Location loc, Value v) {
    return build<HardSigmoidOp>(
        loc, v, {gb.attr("alpha", alpha), gb.attr("beta", beta)});
  });
}

LogicalResult Importer::onClip(const onnx::NodeProto &node) {
  Attrs attrs(node);
  float lo = -std::numeric_limits<float>::max();
  float hi = std::numeric_limits<float>::max();
  if (opset < 11) {
    lo = attrs.getFloat("min", lo);
    hi = attrs.getFloat("max", hi);
  } else {
    for (int i = 1; i <= 2; ++i) {
      if (!hasInput(node, i))
        continue;
      const ConstTensor *c = constInput(node, i, i == 1 ? "min" : "max");
      if (!c)
        return failure();
      if (c->data.size() != 1)
        return fail(node, "min and max must be scalars");
      (i == 1 ? lo : hi) = static_cast<float>(c->data[0]);
    }
  }
  return activation(node, [&](Location loc, Value v) -> Value {
    if (lo == 0.0f && hi == 6.0f)
      return build<Relu6Op>(loc, v);
    if (lo == 0.0f && hi == std::numeric_limits<float>::max())
      return build<ReluOp>(loc, v);
    return build<ClipOp>(loc, v, {gb.attr("min", lo), gb.attr("max", hi)});
  });
}

LogicalResult Importer::onPRelu(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  const ConstTensor *slope = x ? constInput(node, 1, "the slope") : nullptr;
  if (!slope)
    return failure();
  // The slope broadcasts to x; only a per-channel (axis 1) or a single
  // slope maps onto vai.prelu.
  std::vector<int64_t> xs = x->shape();
  ConstTensor s = padRank(*slope, xs.size());
  int64_t count = numElements(s.shape);
  // Before opset 7 a 1-D slope of C values is per channel.
  bool legacyPerChannel =
      opset < 7 && slope->rank() == 1 && xs.size() >= 2 && count == xs[1];
  bool perChannelSlope =
      legacyPerChannel ||
      (xs.size() >= 2 && s.shape[1] == xs[1] && count == xs[1]);
  if (count != 1 && !perChannelSlope)
    return fail(node, "only a single slope or one per channel (axis 1) is "
                      "supported");
  Location loc = nodeLoc(node);
  Value slopeValue = gb.constant(loc, {count}, s.floats());
  return perChannel(node, *x, [&](Value v) {
    return build<PReluOp>(loc, {v, slopeValue});
  });
}

//===----------------------------------------------------------------------===//
// Element-wise binary ops
//===----------------------------------------------------------------------===//

static double applyBinary(BinaryKind kind, double a, double b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    return a / b;
  }
  return 0;
}

LogicalResult Importer::binary(const onnx::NodeProto &node, BinaryKind kind) {
  const Tensor *a = input(node, 0);
  const Tensor *b = a ? input(node, 1) : nullptr;
  if (!b)
    return failure();
  if (a->isConstant() && b->isConstant()) {
    ConstTensor out;
    bool integer = a->constant->isInteger && b->constant->isInteger;
    auto fn = [kind, integer](double x, double y) {
      if (integer && kind == BinaryKind::Div)
        return std::floor(x / y);
      return applyBinary(kind, x, y);
    };
    if (!foldBinary(*a->constant, *b->constant, fn, out))
      return fail(node, "operand shapes do not broadcast");
    return defineConst(node, out);
  }
  Location loc = nodeLoc(node);
  int64_t rank = std::max(a->rank(), b->rank());
  Value lhs, rhs;
  bool nhwc = rank == 4;
  if (nhwc) {
    // A per-channel constant ([C,1,1] against NCHW) becomes bias_add/scale.
    const Tensor *act = a->isConstant() ? b : a;
    const Tensor *cst = a->isConstant() ? a : b;
    if (cst->isConstant() &&
        (cst == b || kind == BinaryKind::Add || kind == BinaryKind::Mul)) {
      ConstTensor c = padRank(*cst->constant, 4);
      int64_t channels = act->shape()[1];
      if (act->rank() == 4 && c.shape[0] == 1 && c.shape[1] == channels &&
          c.shape[2] == 1 && c.shape[3] == 1 && channels > 1) {
        std::vector<float> data = c.floats();
        for (float &v : data)
          v = kind == BinaryKind::Sub   ? -v
              : kind == BinaryKind::Div ? 1.0f / v
                                        : v;
        Value x = toNhwcOperand(*act, loc);
        Value param = gb.constant(loc, {channels}, data);
        if (kind == BinaryKind::Add || kind == BinaryKind::Sub)
          return defineValue(node, build<BiasAddOp>(loc, {x, param}), true);
        return defineValue(node, build<ScaleOp>(loc, {x, param}), true);
      }
    }
    lhs = toNhwcOperand(*a, loc);
    rhs = toNhwcOperand(*b, loc);
  } else {
    lhs = onnxOrder(*a, loc);
    rhs = onnxOrder(*b, loc);
  }
  if (!lhs || !rhs)
    return failure();
  Value result;
  switch (kind) {
  case BinaryKind::Add:
    result = build<AddOp>(loc, {lhs, rhs});
    break;
  case BinaryKind::Sub:
    result = build<SubOp>(loc, {lhs, rhs});
    break;
  case BinaryKind::Mul:
    result = build<MulOp>(loc, {lhs, rhs});
    break;
  case BinaryKind::Div:
    result = build<DivOp>(loc, {lhs, rhs});
    break;
  }
  return defineValue(node, result, nhwc);
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

LogicalResult Importer::onConcat(const onnx::NodeProto &node) {
  if (node.input_size() == 0)
    return fail(node, "has no inputs");
  std::vector<const Tensor *> inputs;
  bool allConstant = true, anyNhwc = false;
  for (int i = 0; i < node.input_size(); ++i) {
    const Tensor *t = input(node, i);
    if (!t)
      return failure();
    inputs.push_back(t);
    allConstant &= t->isConstant();
    anyNhwc |= t->nhwc;
  }
  int64_t rank = inputs.front()->rank();
  std::optional<int64_t> axis =
      axisAttr(node, Attrs(node).getInt("axis", 1), rank);
  if (!axis)
    return failure();
  if (allConstant) {
    // Concatenate row-major blocks along the axis.
    ConstTensor out = *inputs.front()->constant;
    out.data.clear();
    out.shape[*axis] = 0;
    int64_t outer = numElements(ArrayRef<int64_t>(out.shape).take_front(*axis));
    for (const Tensor *t : inputs) {
      if (t->rank() != rank)
        return fail(node, "inputs differ in rank");
      out.shape[*axis] += t->constant->shape[*axis];
    }
    for (int64_t o = 0; o < outer; ++o)
      for (const Tensor *t : inputs) {
        int64_t block = t->constant->data.size() / std::max<int64_t>(outer, 1);
        out.data.insert(out.data.end(), t->constant->data.begin() + o * block,
                        t->constant->data.begin() + (o + 1) * block);
      }
    return defineConst(node, out);
  }
  Location loc = nodeLoc(node);
  SmallVector<Value> operands;
  for (const Tensor *t : inputs)
    operands.push_back(anyNhwc ? toNhwcOperand(*t, loc) : onnxOrder(*t, loc));
  int64_t vaiAxis = anyNhwc ? nchwAxisToNhwc(*axis) : *axis;
  return defineValue(node,
                     build<ConcatOp>(loc, operands, {gb.attr("axis", vaiAxis)}),
                     anyNhwc);
}

LogicalResult Importer::onSplit(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> xs = x->shape();
  std::optional<int64_t> axis =
      axisAttr(node, attrs.getInt("axis", 0), xs.size());
  if (!axis)
    return failure();
  std::vector<int64_t> sizes = attrs.getInts("split");
  if (hasInput(node, 1)) {
    const ConstTensor *c = constInput(node, 1, "split");
    if (!c)
      return failure();
    sizes = c->ints();
  }
  int64_t parts = node.output_size();
  if (sizes.empty()) {
    if (xs[*axis] % parts)
      return fail(node, "dimension does not split evenly");
    sizes.assign(parts, xs[*axis] / parts);
  }
  if (static_cast<int64_t>(sizes.size()) != parts)
    return fail(node, "split sizes do not match the number of outputs");
  Location loc = nodeLoc(node);
  Value v = materialize(*x, loc);
  int64_t vaiAxis = x->nhwc ? nchwAxisToNhwc(*axis) : *axis;
  auto full = cast<RankedTensorType>(v.getType()).getShape();
  int64_t offset = 0;
  for (int64_t i = 0; i < parts; ++i) {
    std::vector<int64_t> offsets(full.size(), 0),
        size(full.begin(), full.end());
    offsets[vaiAxis] = offset;
    size[vaiAxis] = sizes[i];
    offset += sizes[i];
    Value part = build<SliceOp>(
        loc, v, {gb.attr("offsets", offsets), gb.attr("sizes", size)});
    if (!part)
      return failure();
    (void)define(node, Tensor{part, x->nhwc, nullptr}, i);
  }
  return success();
}

LogicalResult Importer::onSlice(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = attrs.getInts("starts");
    ends = attrs.getInts("ends");
    axes = attrs.getInts("axes");
  } else {
    std::vector<int64_t> *fields[4] = {&starts, &ends, &axes, &steps};
    static const char *what[4] = {"starts", "ends", "axes", "steps"};
    for (int i = 1; i <= 4; ++i) {
      if (!hasInput(node, i))
        continue;
      const ConstTensor *c = constInput(node, i, what[i - 1]);
      if (!c)
        return failure();
      *fields[i - 1] = c->ints();
    }
  }
  std::vector<SliceDim> dims;
  std::string err;
  if (!resolveSlice(x->shape(), starts, ends, axes, steps, dims, err))
    return fail(node, err);
  if (x->isConstant())
    return defineConst(node, sliceConst(*x->constant, dims));
  std::vector<int64_t> offsets, sizes, strides;
  for (const SliceDim &d : dims) {
    if (d.step < 1)
      return fail(node, "negative slice steps on activations are not "
                        "supported");
    offsets.push_back(d.start);
    sizes.push_back(d.size);
    strides.push_back(d.step);
  }
  if (x->nhwc) {
    auto permute = [](std::vector<int64_t> &v) {
      v = {v[0], v[2], v[3], v[1]};
    };
    permute(offsets);
    permute(sizes);
    permute(strides);
  }
  Location loc = nodeLoc(node);
  return defineValue(
      node,
      build<SliceOp>(loc, materialize(*x, loc),
                     {gb.attr("offsets", offsets), gb.attr("sizes", sizes),
                      gb.attr("strides", strides)}),
      x->nhwc);
}

LogicalResult Importer::onReshape(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  const ConstTensor *shapeT = x ? constInput(node, 1, "the shape") : nullptr;
  if (!shapeT)
    return failure();
  std::vector<int64_t> in = x->shape(), shape = shapeT->ints();
  bool allowZero = Attrs(node).getInt("allowzero", 0);
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= in.size())
        return fail(node, "0 in the shape refers past the input's rank");
      shape[i] = in[i];
    }
    if (shape[i] == -1) {
      if (inferred >= 0)
        return fail(node, "more than one -1 in the shape");
      inferred = i;
    } else {
      known *= shape[i];
    }
  }
  int64_t total = numElements(in);
  if (inferred >= 0)
    shape[inferred] = known ? total / known : 0;
  if (numElements(shape) != total)
    return fail(node, "cannot reshape " + Twine(total) + " elements");
  return defineReshaped(node, *x, shape);
}

LogicalResult Importer::onFlatten(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  int64_t rank = x->rank();
  int64_t axis = Attrs(node).getInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return fail(node, "axis out of range");
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.shape = {numElements(ArrayRef<int64_t>(c.shape).take_front(axis)),
               numElements(ArrayRef<int64_t>(c.shape).drop_front(axis))};
    return defineConst(node, c);
  }
  Location loc = nodeLoc(node);
  return defineOnnxOrder(
      node, build<FlattenOp>(loc, onnxOrder(*x, loc), {gb.attr("axis", axis)}));
}

LogicalResult Importer::onTranspose(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  int64_t rank = x->rank();
  std::vector<int64_t> perm = Attrs(node).getInts("perm");
  if (perm.empty())
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  std::vector<int64_t> sorted = perm;
  llvm::sort(sorted);
  for (int64_t i = 0; i < rank; ++i)
    if (static_cast<int64_t>(sorted.size()) != rank || sorted[i] != i)
      return fail(node, "perm is not a permutation of the input's axes");
  if (x->isConstant())
    return defineConst(node, transposeConst(*x->constant, perm));
  Location loc = nodeLoc(node);
  if (rank != 4)
    return defineValue(node, transpose(loc, x->value, perm), false);
  // 4-D in and out: compose the NCHW permutation with both layout changes.
  std::vector<int64_t> composed(4);
  for (int j = 0; j < 4; ++j) {
    int64_t onnxAxis = perm[kToNHWC[j]];
    composed[j] = x->nhwc ? kToNCHW[onnxAxis] : onnxAxis;
  }
  Value v = materialize(*x, loc);
  if (composed != std::vector<int64_t>{0, 1, 2, 3})
    v = transpose(loc, v, composed);
  return defineValue(node, v, true);
}

LogicalResult Importer::onSqueeze(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> shape = x->shape();
  std::optional<std::vector<int64_t>> axes = axesOf(node, 1, shape.size());
  if (!axes)
    return failure();
  if (axes->empty())
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] == 1)
        axes->push_back(i);
  std::vector<int64_t> outShape;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!llvm::is_contained(*axes, static_cast<int64_t>(i)))
      outShape.push_back(shape[i]);
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.shape = outShape;
    return defineConst(node, c);
  }
  Location loc = nodeLoc(node);
  return defineOnnxOrder(node, build<SqueezeOp>(loc, onnxOrder(*x, loc),
                                                {gb.attr("axes", *axes)}));
}

LogicalResult Importer::onUnsqueeze(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> shape = x->shape();
  int64_t added = Attrs(node).getInts("axes").size();
  if (hasInput(node, 1)) {
    const ConstTensor *axesT = constInput(node, 1, "axes");
    if (!axesT)
      return failure();
    added = numElements(axesT->shape);
  }
  int64_t outRank = shape.size() + added;
  std::optional<std::vector<int64_t>> axes = axesOf(node, 1, outRank);
  if (!axes)
    return failure();
  std::vector<int64_t> outShape;
  for (int64_t i = 0, j = 0; i < outRank; ++i)
    outShape.push_back(llvm::is_contained(*axes, i) ? 1 : shape[j++]);
  return defineReshaped(node, *x, outShape);
}

LogicalResult Importer::onPad(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> pads = attrs.getInts(opset < 2 ? "paddings" : "pads");
  float value = attrs.getFloat("value", 0.0f);
  if (opset >= 11) {
    const ConstTensor *p = constInput(node, 1, "pads");
    if (!p)
      return failure();
    pads = p->ints();
    if (hasInput(node, 2)) {
      const ConstTensor *v = constInput(node, 2, "constant_value");
      if (!v)
        return failure();
      value = v->data.empty() ? 0.0f : static_cast<float>(v->data[0]);
    }
  }
  int64_t rank = x->rank();
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return fail(node, "pads has " + Twine(pads.size()) + " values for a " +
                          Twine(rank) + "-D input");
  std::vector<int64_t> low(pads.begin(), pads.begin() + rank),
      high(pads.begin() + rank, pads.end());
  for (int64_t p : pads)
    if (p < 0)
      return fail(node, "negative pads (cropping) are not supported");
  std::string mode = attrs.getString("mode", "constant");
  PadMode padMode;
  if (mode == "constant")
    padMode = PadMode::Constant;
  else if (mode == "reflect")
    padMode = PadMode::Reflect;
  else if (mode == "edge")
    padMode = PadMode::Edge;
  else
    return fail(node, "unsupported pad mode '" + mode + "'");
  if (x->nhwc) {
    low = {low[0], low[2], low[3], low[1]};
    high = {high[0], high[2], high[3], high[1]};
  }
  Location loc = nodeLoc(node);
  return defineValue(
      node,
      build<PadOp>(loc, materialize(*x, loc),
                   {gb.attr("low", low), gb.attr("high", high),
                    gb.attr("mode", PadModeAttr::get(gb.getContext(), padMode)),
                    gb.attr("value", value)}),
      x->nhwc);
}

LogicalResult Importer::onResize(const onnx::NodeProto &node) {
  Attrs attrs(node);
  const Tensor *x = activationInput(node, 0, 4);
  if (!x)
    return failure();
  std::vector<int64_t> xs = x->shape();
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  bool isUpsample = node.op_type() == "Upsample";
  if (isUpsample && opset < 9) {
    for (float s : attrs.getFloats("scales"))
      scales.push_back(s);
  } else {
    // Upsample-9 and Resize-10: scales is input 1; Resize-11+: roi, scales,
    // sizes.
    int scalesIndex = isUpsample || opset < 11 ? 1 : 2;
    if (hasInput(node, scalesIndex)) {
      const ConstTensor *c = constInput(node, scalesIndex, "scales");
      if (!c)
        return failure();
      scales = c->data;
    }
    if (!isUpsample && opset >= 11 && hasInput(node, 3)) {
      const ConstTensor *c = constInput(node, 3, "sizes");
      if (!c)
        return failure();
      sizes = c->ints();
    }
  }
  if (sizes.empty()) {
    if (scales.size() != 4)
      return fail(node, "needs 4 scales or 4 sizes");
    for (int i = 0; i < 4; ++i)
      sizes.push_back(static_cast<int64_t>(std::floor(xs[i] * scales[i])));
  }
  if (sizes.size() != 4 || sizes[0] != xs[0] || sizes[1] != xs[1])
    return fail(node, "only spatial (H, W) resizing is supported");
  std::string mode = attrs.getString("mode", "nearest");
  ResizeMode resizeMode;
  if (mode == "nearest")
    resizeMode = ResizeMode::Nearest;
  else if (mode == "linear" || mode == "bilinear")
    resizeMode = ResizeMode::Bilinear;
  else
    return fail(node, "unsupported mode '" + mode + "'");
  // Before Resize-11 there are no modes: asymmetric coordinates, floor.
  bool modern = !isUpsample && opset >= 11;
  std::string coord =
      modern ? attrs.getString("coordinate_transformation_mode", "half_pixel")
             : "asymmetric";
  std::string nearest =
      modern ? attrs.getString("nearest_mode", "round_prefer_floor") : "floor";
  // The dialect's enums are spelled as ONNX spells these attributes.
  std::optional<CoordMode> coordMode = symbolizeCoordMode(coord);
  if (!coordMode)
    return fail(node,
                "unsupported coordinate_transformation_mode '" + coord + "'");
  std::optional<NearestMode> nearestMode = symbolizeNearestMode(nearest);
  if (!nearestMode)
    return fail(node, "unsupported nearest_mode '" + nearest + "'");
  Location loc = nodeLoc(node);
  MLIRContext *ctx = gb.getContext();
  return defineValue(
      node,
      build<ResizeOp>(
          loc, materialize(*x, loc),
          {gb.attr("size", ArrayRef<int64_t>{sizes[2], sizes[3]}),
           gb.attr("mode", ResizeModeAttr::get(ctx, resizeMode)),
           gb.attr("coord_mode", CoordModeAttr::get(ctx, *coordMode)),
           gb.attr("nearest_mode", NearestModeAttr::get(ctx, *nearestMode))}),
      true);
}

LogicalResult Importer::onSoftmax(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> shape = x->shape();
  int64_t rank = shape.size();
  std::optional<int64_t> axis =
      axisAttr(node, Attrs(node).getInt("axis", opset < 13 ? 1 : -1), rank);
  if (!axis)
    return failure();
  Location loc = nodeLoc(node);
  if (opset >= 13 || *axis == rank - 1) {
    int64_t vaiAxis = x->nhwc ? nchwAxisToNhwc(*axis) : *axis;
    return defineValue(
        node,
        build<SoftmaxOp>(loc, materialize(*x, loc), {gb.attr("axis", vaiAxis)}),
        x->nhwc);
  }
  // Before opset 13: softmax over the input coerced to 2-D at `axis`.
  Value flat =
      build<FlattenOp>(loc, onnxOrder(*x, loc), {gb.attr("axis", *axis)});
  if (!flat)
    return failure();
  Value soft = build<SoftmaxOp>(loc, flat, {gb.attr("axis", int64_t(1))});
  if (!soft)
    return failure();
  return defineOnnxOrder(node, reshape(loc, soft, shape));
}

LogicalResult Importer::onReduceMean(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  int64_t rank = x->rank();
  std::optional<std::vector<int64_t>> axes =
      axesOf(node, opset >= 18 ? 1 : kNoInput, rank);
  if (!axes)
    return failure();
  if (axes->empty())
    for (int64_t i = 0; i < rank; ++i)
      axes->push_back(i);
  bool keepDims = Attrs(node).getInt("keepdims", 1);
  Location loc = nodeLoc(node);
  std::vector<int64_t> vaiAxes = *axes;
  if (x->nhwc)
    for (int64_t &a : vaiAxes)
      a = nchwAxisToNhwc(a);
  llvm::sort(vaiAxes);
  // Reduce in the stored layout keeping dims, then drop them in ONNX order.
  Value v = build<ReduceMeanOp>(
      loc, materialize(*x, loc),
      {gb.attr("axes", vaiAxes), gb.attr("keep_dims", true)});
  if (!v)
    return failure();
  if (keepDims)
    return defineValue(node, v, x->nhwc);
  Tensor kept{v, x->nhwc, nullptr};
  return defineOnnxOrder(node, build<SqueezeOp>(loc, onnxOrder(kept, loc),
                                                {gb.attr("axes", *axes)}));
}

//===----------------------------------------------------------------------===//
// Constants and shape computations (folded)
//===----------------------------------------------------------------------===//

LogicalResult Importer::onConstant(const onnx::NodeProto &node) {
  Attrs attrs(node);
  ConstTensor c;
  if (const onnx::TensorProto *t = attrs.getTensor("value")) {
    std::string err;
    if (!parseTensor(*t, c, err))
      return fail(node, err);
  } else if (attrs.has("value_float")) {
    c.data = {attrs.getFloat("value_float", 0)};
  } else if (attrs.has("value_floats")) {
    std::vector<float> f = attrs.getFloats("value_floats");
    c.data.assign(f.begin(), f.end());
    c.shape = {static_cast<int64_t>(f.size())};
  } else if (attrs.has("value_int")) {
    c.data = {static_cast<double>(attrs.getInt("value_int", 0))};
    c.isInteger = true;
  } else if (attrs.has("value_ints")) {
    std::vector<int64_t> v = attrs.getInts("value_ints");
    c.data.assign(v.begin(), v.end());
    c.shape = {static_cast<int64_t>(v.size())};
    c.isInteger = true;
  } else {
    return fail(node, "unsupported Constant form (no value)");
  }
  return defineConst(node, c);
}

LogicalResult Importer::onIdentity(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  if (node.op_type() == "Dropout" && node.output_size() > 1 &&
      !node.output(1).empty() && opset >= 12)
    return fail(node, "the mask output is not supported");
  return define(node, *x);
}

LogicalResult Importer::onCast(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  int64_t to = Attrs(node).getInt("to", onnx::TensorProto::FLOAT);
  bool toFloat = to == onnx::TensorProto::FLOAT ||
                 to == onnx::TensorProto::DOUBLE ||
                 to == onnx::TensorProto::FLOAT16;
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.isInteger = !toFloat;
    if (!toFloat)
      for (double &v : c.data)
        v = std::trunc(v);
    return defineConst(node, c);
  }
  // vai computes in f32; a cast of an activation to an integer type (e.g. a
  // uint8 output) is kept as the float value.
  if (!toFloat)
    emitWarning(nodeLoc(node))
        << display << ": node '" << node.output(0)
        << "' (Cast): the cast of an activation to an integer type is not "
           "represented; the value stays float";
  return define(node, *x);
}

LogicalResult Importer::onShape(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  Attrs attrs(node);
  std::vector<int64_t> shape = x->shape();
  int64_t rank = shape.size();
  int64_t start = attrs.getInt("start", 0), end = attrs.getInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  ConstTensor c;
  c.isInteger = true;
  c.data.assign(shape.begin() + start, shape.begin() + end);
  c.shape = {end - start};
  return defineConst(node, c);
}

LogicalResult Importer::onGather(const onnx::NodeProto &node) {
  const Tensor *x = input(node, 0);
  const ConstTensor *indices = x ? constInput(node, 1, "indices") : nullptr;
  if (!indices)
    return failure();
  if (!x->isConstant())
    return fail(node, "Gather is only supported on constants (shape "
                      "computations)");
  std::optional<int64_t> axis =
      axisAttr(node, Attrs(node).getInt("axis", 0), x->rank());
  if (!axis)
    return failure();
  ConstTensor out;
  if (!gatherConst(*x->constant, *indices, *axis, out))
    return fail(node, "index out of range");
  return defineConst(node, out);
}

LogicalResult Importer::onConstantOfShape(const onnx::NodeProto &node) {
  const ConstTensor *shape = constInput(node, 0, "the shape");
  if (!shape)
    return failure();
  ConstTensor c;
  c.shape = shape->ints();
  if (llvm::any_of(c.shape, [](int64_t d) { return d < 0 || d > (1 << 30); }) ||
      numElements(c.shape) > (int64_t(1) << 30))
    return fail(node, "shape " + shapeString(c.shape) + " is out of range");
  double fill = 0;
  if (const onnx::TensorProto *t = Attrs(node).getTensor("value")) {
    ConstTensor v;
    std::string err;
    if (!parseTensor(*t, v, err) || v.data.size() != 1)
      return fail(node, "bad value: " + err);
    fill = v.data[0];
    c.isInteger = v.isInteger;
  }
  c.data.assign(numElements(c.shape), fill);
  return defineConst(node, c);
}

} // namespace vai::import::onnx_import
