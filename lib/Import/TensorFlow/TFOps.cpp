//===- TFOps.cpp - TensorFlow ops as vai ops ------------------------------===//
//
// One handler per supported TensorFlow op (the table is in TFImporter.cpp).
// Computations on constants only (shape arithmetic, the parameters of the
// unfused batch norm, casts) are evaluated here; everything else becomes vai
// ops in TensorFlow's layout, with transposes around NCHW ops.
//
//===----------------------------------------------------------------------===//

#include "TFImporterImpl.h"

#include <cmath>
#include <limits>

namespace vai::import::tf_import {

//===----------------------------------------------------------------------===//
// Constants, placeholders, identities and casts
//===----------------------------------------------------------------------===//

LogicalResult Importer::onConst(const NodeDef &node) {
  const vai_tf::AttrValue *value = Attrs(node).get("value");
  if (!value || value->value_case() != vai_tf::AttrValue::kTensor)
    return fail(node, "has no 'value' tensor");
  ConstTensor c;
  if (std::optional<std::string> err = parseTensor(value->tensor(), c))
    return fail(node, "value " + *err);
  return defineConst(node, std::move(c));
}

LogicalResult Importer::onPlaceholder(const NodeDef &node) {
  return fail(node, "the outputs depend on this Placeholder, which is not "
                    "among --inputs; add it there or cut the graph after it");
}

LogicalResult Importer::onIdentity(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  return x ? define(node, *x) : failure();
}

LogicalResult Importer::onIdentityN(const NodeDef &node) {
  for (int i = 0, e = dataInputCount(node); i < e; ++i) {
    const Tensor *x = input(node, i);
    if (!x)
      return failure();
    (void)define(node, *x, i);
  }
  return success();
}

LogicalResult Importer::onCast(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  vai_tf::DataType to = Attrs(node).getType("DstT");
  bool toFloat = to == vai_tf::DT_FLOAT || to == vai_tf::DT_DOUBLE ||
                 to == vai_tf::DT_HALF || to == vai_tf::DT_BFLOAT16;
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    if (to == vai_tf::DT_BOOL) {
      for (double &d : c.data)
        d = d != 0.0;
    } else if (!toFloat) {
      for (double &d : c.data)
        d = std::trunc(d);
    } else if (to == vai_tf::DT_FLOAT) {
      for (double &d : c.data)
        d = static_cast<float>(d);
    }
    c.isInteger = !toFloat;
    return define(node,
                  Tensor{{}, std::make_shared<ConstTensor>(c), x->constName});
  }
  if (!toFloat || Attrs(node).getType("SrcT") != vai_tf::DT_FLOAT)
    return fail(node, "only float-to-float casts of activations are "
                      "supported (to " +
                          vai_tf::DataType_Name(to) + ")");
  return define(node, *x);
}

//===----------------------------------------------------------------------===//
// Layout and geometry
//===----------------------------------------------------------------------===//

std::optional<bool> Importer::isNCHW(const NodeDef &node) {
  std::string format = Attrs(node).getString("data_format", "NHWC");
  if (format == "NHWC")
    return false;
  if (format == "NCHW")
    return true;
  (void)fail(node, "data_format '" + format +
                       "' is not supported (NHWC and NCHW are)");
  return std::nullopt;
}

/// The H and W entries of a 4-element attribute in the node's data_format;
/// the N and C entries must be `expected`.
static std::optional<std::vector<int64_t>>
spatialPair(const std::vector<int64_t> &v, bool nchw, int64_t expected) {
  if (v.size() != 4)
    return std::nullopt;
  int h = nchw ? 2 : 1, w = nchw ? 3 : 2, c = nchw ? 1 : 3;
  if (v[0] != expected || v[c] != expected)
    return std::nullopt;
  return std::vector<int64_t>{v[h], v[w]};
}

LogicalResult Importer::window(const NodeDef &node, bool nchw,
                               ArrayRef<int64_t> inHW, ArrayRef<int64_t> kernel,
                               Window &w) {
  Attrs attrs(node);
  w.kernel.assign(kernel.begin(), kernel.end());
  auto strides = spatialPair(attrs.getInts("strides", {1, 1, 1, 1}), nchw, 1);
  auto dilations =
      spatialPair(attrs.getInts("dilations", {1, 1, 1, 1}), nchw, 1);
  if (!strides || !dilations)
    return fail(node, "strides and dilations must have 4 entries with 1 "
                      "for the batch and channel dimensions");
  w.strides = *strides;
  w.dilations = *dilations;
  if (llvm::any_of(w.strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(w.dilations, [](int64_t d) { return d < 1; }))
    return fail(node, "strides and dilations must be positive");
  std::string padding = attrs.getString("padding", "");
  if (padding == "VALID") {
    w.pad = {0, 0, 0, 0};
  } else if (padding == "SAME") {
    // Output ceil(in / stride); the extra row or column goes at the bottom
    // or right.
    w.pad.clear();
    for (int i = 0; i < 2; ++i) {
      int64_t out = (inHW[i] + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total =
          std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - inHW[i]);
      w.pad.push_back(total / 2);
      w.pad.push_back(total - total / 2);
    }
  } else if (padding == "EXPLICIT") {
    std::vector<int64_t> p = attrs.getInts("explicit_paddings");
    int h = nchw ? 2 : 1, wd = nchw ? 3 : 2, c = nchw ? 1 : 3;
    if (p.size() != 8 || p[0] || p[1] || p[2 * c] || p[2 * c + 1] ||
        llvm::any_of(p, [](int64_t v) { return v < 0; }))
      return fail(node, "explicit_paddings must have 8 non-negative entries, "
                        "0 for the batch and channel dimensions");
    w.pad = {p[2 * h], p[2 * h + 1], p[2 * wd], p[2 * wd + 1]};
  } else {
    return fail(node, "padding '" + padding +
                          "' is not supported (SAME, VALID and EXPLICIT are)");
  }
  return success();
}

std::optional<int64_t> Importer::axis(const NodeDef &node, int64_t a,
                                      int64_t rank) {
  if (a < -rank || a >= std::max<int64_t>(rank, 1)) {
    (void)fail(node,
               "axis " + Twine(a) + " is out of range for rank " + Twine(rank));
    return std::nullopt;
  }
  return a < 0 ? a + rank : a;
}

//===----------------------------------------------------------------------===//
// Convolutions and products
//===----------------------------------------------------------------------===//

/// [H, W] and C of a 4-D shape in the node's data_format.
static std::vector<int64_t> spatialOf(ArrayRef<int64_t> s, bool nchw) {
  return nchw ? std::vector<int64_t>{s[2], s[3]}
              : std::vector<int64_t>{s[1], s[2]};
}
static int64_t channelsOf(ArrayRef<int64_t> s, bool nchw) {
  return nchw ? s[1] : s[3];
}

Value Importer::filter(const NodeDef &node, int i, ArrayRef<int64_t> perm) {
  const Tensor *t = input(node, i);
  ConstTensor w = permuteConst(*t->constant, perm);
  return gb.constant(nodeLoc(node), w.shape, w.floats(),
                     resourceName(t->constName));
}

LogicalResult Importer::onConv(const NodeDef &node) {
  bool depthwise = node.op() == "DepthwiseConv2dNative";
  std::optional<bool> nchw = isNCHW(node);
  const Tensor *x = nchw ? activationInput(node, 0, 4) : nullptr;
  const ConstTensor *f = x ? constInput(node, 1, "the filter") : nullptr;
  if (!f)
    return failure();
  std::vector<int64_t> xs = x->shape();
  int64_t c = channelsOf(xs, *nchw);
  // Conv2D: [KH, KW, IC / groups, OC]; depthwise: [KH, KW, C, M]. Both
  // become ours with the last dimension first.
  bool matches = f->rank() == 4 && f->shape[2] >= 1 &&
                 (depthwise ? f->shape[2] == c
                            : c % f->shape[2] == 0 &&
                                  f->shape[3] % (c / f->shape[2]) == 0);
  if (!matches)
    return fail(node, "filter " + formatShape(f->shape) +
                          " does not match the input's " + Twine(c) +
                          " channels");
  Window win;
  if (failed(window(node, *nchw, spatialOf(xs, *nchw),
                    {f->shape[0], f->shape[1]}, win)))
    return failure();
  Location loc = nodeLoc(node);
  Value weight = filter(node, 1, {3, 0, 1, 2});
  Value in = toNHWC(loc, materialize(*x, loc), *nchw);
  SmallVector<NamedAttribute> attrs = {gb.attr("strides", win.strides),
                                       gb.attr("pad", win.pad),
                                       gb.attr("dilations", win.dilations)};
  Value y;
  if (depthwise) {
    y = build<DepthwiseConv2DOp>(loc, {in, weight}, attrs);
  } else {
    attrs.push_back(gb.attr("groups", c / f->shape[2]));
    y = build<Conv2DOp>(loc, {in, weight}, attrs);
  }
  return defineValue(node, fromNHWC(loc, y, *nchw));
}

LogicalResult Importer::onConv2DBackpropInput(const NodeDef &node) {
  std::optional<bool> nchw = isNCHW(node);
  std::optional<std::vector<int64_t>> sizes =
      nchw ? intsInput(node, 0, "input_sizes") : std::nullopt;
  const ConstTensor *f = sizes ? constInput(node, 1, "the filter") : nullptr;
  const Tensor *x = f ? activationInput(node, 2, 4) : nullptr;
  if (!x)
    return failure();
  std::vector<int64_t> xs = x->shape();
  int64_t c = channelsOf(xs, *nchw);
  // filter [KH, KW, OC, IC] (OC: this op's output channels).
  if (f->rank() != 4 || f->shape[3] != c)
    return fail(node, "filter " + formatShape(f->shape) +
                          " does not match the input's " + Twine(c) +
                          " channels");
  if (sizes->size() != 4)
    return fail(node, "input_sizes must have 4 entries");
  std::vector<int64_t> outHW =
      *nchw ? std::vector<int64_t>{(*sizes)[2], (*sizes)[3]}
            : std::vector<int64_t>{(*sizes)[1], (*sizes)[2]};
  int64_t outC = *nchw ? (*sizes)[1] : (*sizes)[3];
  if (outC != f->shape[2] || (*sizes)[0] != xs[0])
    return fail(node, "input_sizes " + formatShape(*sizes) +
                          " does not match the filter " +
                          formatShape(f->shape) + " and the input " +
                          formatShape(xs));
  // The geometry is that of the forward convolution from the output.
  Window win;
  if (failed(window(node, *nchw, outHW, {f->shape[0], f->shape[1]}, win)))
    return failure();
  std::vector<int64_t> outputPadding;
  std::vector<int64_t> inHW = spatialOf(xs, *nchw);
  for (int i = 0; i < 2; ++i) {
    int64_t full = (inHW[i] - 1) * win.strides[i] - win.pad[2 * i] -
                   win.pad[2 * i + 1] + win.dilations[i] * (win.kernel[i] - 1) +
                   1;
    int64_t extra = outHW[i] - full;
    if (extra < 0 || extra >= std::max(win.strides[i], win.dilations[i]))
      return fail(node, "input_sizes " + formatShape(*sizes) +
                            " is not a size the forward convolution maps to "
                            "the input " +
                            formatShape(xs));
    outputPadding.push_back(extra);
  }
  Location loc = nodeLoc(node);
  Value weight = filter(node, 1, {2, 0, 1, 3});
  Value in = toNHWC(loc, materialize(*x, loc), *nchw);
  Value y = build<TransposedConv2DOp>(
      loc, {in, weight},
      {gb.attr("strides", win.strides), gb.attr("pad", win.pad),
       gb.attr("dilations", win.dilations),
       gb.attr("output_padding", outputPadding)});
  return defineValue(node, fromNHWC(loc, y, *nchw));
}

LogicalResult Importer::onMatMul(const NodeDef &node) {
  Attrs attrs(node);
  const Tensor *a = activationInput(node, 0, 2);
  const Tensor *b = a ? activationInput(node, 1, 2) : nullptr;
  if (!b)
    return failure();
  bool ta = attrs.getBool("transpose_a", false);
  bool tb = attrs.getBool("transpose_b", false);
  Location loc = nodeLoc(node);
  Value lhs = materialize(*a, loc);
  if (ta)
    lhs = build<TransposeOp>(loc, lhs, {gb.attr("perm", {1, 0})});
  if (b->isConstant()) {
    // inner_product weights are [N, K]: b as stored when transposed.
    ConstTensor w = tb ? *b->constant : permuteConst(*b->constant, {1, 0});
    Value weight =
        gb.constant(loc, w.shape, w.floats(), resourceName(b->constName));
    return defineValue(node, build<InnerProductOp>(loc, {lhs, weight}));
  }
  Value rhs = materialize(*b, loc);
  if (tb)
    rhs = build<TransposeOp>(loc, rhs, {gb.attr("perm", {1, 0})});
  return defineValue(node, build<MatMulOp>(loc, {lhs, rhs}));
}

LogicalResult Importer::onBiasAdd(const NodeDef &node) {
  std::optional<bool> nchw = isNCHW(node);
  const Tensor *x = nchw ? input(node, 0) : nullptr;
  const Tensor *b = x ? input(node, 1) : nullptr;
  if (!b)
    return failure();
  int64_t rank = x->rank();
  if (rank < 2 || b->rank() != 1)
    return fail(node, "expects an input of rank >= 2 and a 1-D bias, got " +
                          formatShape(x->shape()) + " and " +
                          formatShape(b->shape()));
  // NCHW: the channels are dimension 1.
  bool channelsFirst = *nchw && rank >= 3;
  if (x->isConstant() && b->isConstant()) {
    ConstTensor bias = *b->constant;
    if (channelsFirst)
      bias.shape.resize(rank - 1, 1);
    std::optional<ConstTensor> sum = broadcastConst(
        *x->constant, bias, [](double p, double q) { return p + q; });
    if (!sum)
      return fail(node, "bias does not match the input's channels");
    return defineConst(node, *sum);
  }
  Location loc = nodeLoc(node);
  Value in = materialize(*x, loc), bias = materialize(*b, loc);
  if (!channelsFirst)
    return defineValue(node, build<BiasAddOp>(loc, {in, bias}));
  std::vector<int64_t> shape(rank - 1, 1);
  shape[0] = b->shape()[0];
  return defineValue(node, build<AddOp>(loc, {in, reshape(loc, bias, shape)}));
}

LogicalResult Importer::onFusedBatchNorm(const NodeDef &node) {
  Attrs attrs(node);
  if (attrs.getBool("is_training", true))
    return fail(node, "is_training is true (batch statistics); only "
                      "inference batch norms with is_training=false are "
                      "supported");
  std::optional<bool> nchw = isNCHW(node);
  const Tensor *x = nchw ? activationInput(node, 0, 4) : nullptr;
  if (!x)
    return failure();
  int64_t c = channelsOf(x->shape(), *nchw);
  Location loc = nodeLoc(node);
  SmallVector<Value> operands = {toNHWC(loc, materialize(*x, loc), *nchw)};
  // Operands 1-4 are scale, offset, mean, variance; vai wants mean,
  // variance, scale, offset.
  static const int kOrder[4] = {3, 4, 1, 2};
  static const char *kNames[5] = {"", "scale", "offset", "mean", "variance"};
  for (int i : kOrder) {
    const ConstTensor *p = constInput(node, i, kNames[i]);
    if (!p)
      return failure();
    if (p->shape != std::vector<int64_t>{c})
      return fail(node, Twine(kNames[i]) + " has shape " +
                            formatShape(p->shape) + ", expected [" + Twine(c) +
                            "]");
    operands.push_back(gb.constant(loc, p->shape, p->floats(),
                                   resourceName(input(node, i)->constName)));
  }
  Value y = build<BatchNormOp>(
      loc, operands, {gb.attr("epsilon", attrs.getFloat("epsilon", 1e-4f))});
  return defineValue(node, fromNHWC(loc, y, *nchw));
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

/// `c` as a per-channel vector of `x`'s last dimension: [C] or [1, ..., C]
/// no longer than `x`'s rank.
static std::optional<ConstTensor> perChannel(const ConstTensor &c,
                                             ArrayRef<int64_t> x) {
  if (c.rank() < 1 || x.empty() || c.rank() > static_cast<int64_t>(x.size()) ||
      c.shape.back() != x.back() || x.back() == 1 ||
      elementCount(c.shape) != x.back())
    return std::nullopt;
  ConstTensor v = c;
  v.shape = {x.back()};
  return v;
}

static bool isScalarValue(const ConstTensor &c, double v) {
  return c.data.size() == 1 && c.data[0] == v;
}

LogicalResult Importer::clampToRelu6(const NodeDef &node, const Tensor &x,
                                     float bound, bool isMax, Value &result) {
  // Maximum(Minimum(y, 6), 0) or Minimum(Maximum(y, 0), 6) is relu6(y) (a
  // relu on y before it is absorbed too). Only when the inner node feeds
  // nothing else, so that its op can go.
  auto it = clamps.find(x.value);
  if (it == clamps.end() || it->second.isMax == isMax ||
      !removable(it->second.node))
    return success();
  float lo = isMax ? bound : it->second.bound;
  float hi = isMax ? it->second.bound : bound;
  if (lo != 0.0f || hi != 6.0f)
    return success();
  Value source = it->second.source;
  Operation *inner = x.value.getDefiningOp();
  clamps.erase(it);
  // Erases the inner min/max (or relu) and the bound constant it used.
  auto eraseInner = [inner] {
    Operation *bound = inner->getNumOperands() > 1
                           ? inner->getOperand(1).getDefiningOp()
                           : nullptr;
    inner->erase();
    if (bound && isa<ConstantOp>(bound) && bound->use_empty())
      bound->erase();
  };
  auto relu = source.getDefiningOp<ReluOp>();
  if (relu && source.hasOneUse() && reluNodes.count(source) &&
      removable(reluNodes.lookup(source))) {
    Value pre = relu.getInput();
    result = build<Relu6Op>(nodeLoc(node), pre);
    eraseInner();
    reluNodes.erase(source);
    relu->erase();
    return success();
  }
  result = build<Relu6Op>(nodeLoc(node), source);
  eraseInner();
  return success();
}

LogicalResult Importer::binary(const NodeDef &node, BinaryKind kind) {
  const Tensor *a = input(node, 0);
  const Tensor *b = a ? input(node, 1) : nullptr;
  if (!b)
    return failure();
  if (a->isConstant() && b->isConstant()) {
    bool integral = a->constant->isInteger && b->constant->isInteger;
    std::function<double(double, double)> fn;
    switch (kind) {
    case BinaryKind::Add:
      fn = [](double p, double q) { return p + q; };
      break;
    case BinaryKind::Sub:
      fn = [](double p, double q) { return p - q; };
      break;
    case BinaryKind::Mul:
      fn = [](double p, double q) { return p * q; };
      break;
    case BinaryKind::Div:
      fn = [integral](double p, double q) {
        return integral ? (q == 0.0 ? 0.0 : std::trunc(p / q)) : p / q;
      };
      break;
    case BinaryKind::FloorDiv:
      fn = [integral](double p, double q) {
        return integral && q == 0.0 ? 0.0 : std::floor(p / q);
      };
      break;
    case BinaryKind::Max:
      fn = [](double p, double q) { return std::max(p, q); };
      break;
    case BinaryKind::Min:
      fn = [](double p, double q) { return std::min(p, q); };
      break;
    }
    // Float constants are float32 in TensorFlow: round like it does.
    std::function<double(double, double)> rounded =
        integral ? fn : [fn](double p, double q) {
          return static_cast<double>(static_cast<float>(fn(p, q)));
        };
    std::optional<ConstTensor> out =
        broadcastConst(*a->constant, *b->constant, rounded);
    if (!out)
      return fail(node, "shapes " + formatShape(a->shape()) + " and " +
                            formatShape(b->shape()) + " do not broadcast");
    return defineConst(node, *out);
  }
  Location loc = nodeLoc(node);
  bool commutative = kind == BinaryKind::Add || kind == BinaryKind::Mul ||
                     kind == BinaryKind::Max || kind == BinaryKind::Min;
  const Tensor *x = a, *c = b;
  if (commutative && a->isConstant())
    std::swap(x, c);
  // x (an activation) with a per-channel or scalar constant c.
  if (c->isConstant() && !x->isConstant()) {
    std::vector<int64_t> xs = x->shape();
    std::optional<ConstTensor> channel = perChannel(*c->constant, xs);
    Value in = x->value;
    if (channel && c->rank() <= x->rank()) {
      // The forms vai-fold-batch-norm folds into a producing conv.
      if (kind == BinaryKind::Mul)
        return defineValue(
            node,
            build<ScaleOp>(
                loc, {in, gb.constant(loc, channel->shape, channel->floats(),
                                      resourceName(c->constName))}));
      if (kind == BinaryKind::Add || (kind == BinaryKind::Sub && x == a)) {
        std::vector<float> bias = channel->floats();
        if (kind == BinaryKind::Sub)
          for (float &v : bias)
            v = -v;
        return defineValue(
            node, build<BiasAddOp>(
                      loc, {in, gb.constant(loc, channel->shape, bias,
                                            resourceName(c->constName))}));
      }
    }
    if ((kind == BinaryKind::Max || kind == BinaryKind::Min) &&
        c->constant->data.size() == 1 && c->rank() <= x->rank()) {
      float bound = static_cast<float>(c->constant->data[0]);
      bool isMax = kind == BinaryKind::Max;
      Value relu6;
      if (failed(clampToRelu6(node, *x, bound, isMax, relu6)))
        return failure();
      if (relu6)
        return defineValue(node, relu6);
      Value bounded = isMax && isScalarValue(*c->constant, 0.0)
                          ? build<ReluOp>(loc, in)
                      : isMax ? build<MaxOp>(loc, {in, materialize(*c, loc)})
                              : build<MinOp>(loc, {in, materialize(*c, loc)});
      if (bounded)
        clamps[bounded] = Clamp{in, bound, isMax, node.name()};
      return defineValue(node, bounded);
    }
  }
  Value lhs = materialize(*x, loc), rhs = materialize(*c, loc);
  switch (kind) {
  case BinaryKind::Add:
    return defineValue(node, build<AddOp>(loc, {lhs, rhs}));
  case BinaryKind::Sub:
    return defineValue(node, build<SubOp>(loc, {lhs, rhs}));
  case BinaryKind::Mul:
    return defineValue(node, build<MulOp>(loc, {lhs, rhs}));
  case BinaryKind::Div:
    return defineValue(node, build<DivOp>(loc, {lhs, rhs}));
  case BinaryKind::Max:
    return defineValue(node, build<MaxOp>(loc, {lhs, rhs}));
  case BinaryKind::Min:
    return defineValue(node, build<MinOp>(loc, {lhs, rhs}));
  case BinaryKind::FloorDiv:
    break;
  }
  return fail(node, "is only supported on constants");
}

LogicalResult Importer::onConstUnary(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  if (!x->isConstant())
    return fail(node, "is only supported on constants (there is no vai op "
                      "for it)");
  ConstTensor c = *x->constant;
  StringRef op = node.op();
  for (double &d : c.data) {
    float v = static_cast<float>(d);
    if (op == "Rsqrt")
      v = 1.0f / std::sqrt(v);
    else if (op == "Sqrt")
      v = std::sqrt(v);
    else // Reciprocal
      v = 1.0f / v;
    d = v;
  }
  return defineConst(node, c);
}

LogicalResult Importer::onNeg(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    for (double &d : c.data)
      d = -d;
    return defineConst(node, c);
  }
  Location loc = nodeLoc(node);
  return defineValue(
      node, build<MulOp>(loc, {x->value, gb.scalarConstant(loc, -1.0f)}));
}

LogicalResult Importer::onSquare(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    for (double &d : c.data)
      d = c.isInteger ? d * d : static_cast<float>(d) * static_cast<float>(d);
    return defineConst(node, c);
  }
  return defineValue(node, build<MulOp>(nodeLoc(node), {x->value, x->value}));
}

LogicalResult Importer::onRelu(const NodeDef &node) {
  Value y = build<ReluOp>(nodeLoc(node), operand(node, 0));
  if (y)
    reluNodes[y] = node.name();
  return defineValue(node, y);
}

LogicalResult Importer::onLeakyRelu(const NodeDef &node) {
  return unary<LeakyReluOp>(
      node, {gb.attr("alpha", Attrs(node).getFloat("alpha", 0.2f))});
}

LogicalResult Importer::onSoftmax(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  if (x->rank() < 1)
    return fail(node, "expects an input of rank >= 1");
  return unary<SoftmaxOp>(node, {gb.attr("axis", x->rank() - 1)});
}

//===----------------------------------------------------------------------===//
// Pooling and reductions
//===----------------------------------------------------------------------===//

LogicalResult Importer::onPool(const NodeDef &node) {
  std::optional<bool> nchw = isNCHW(node);
  const Tensor *x = nchw ? activationInput(node, 0, 4) : nullptr;
  if (!x)
    return failure();
  auto ksize = spatialPair(Attrs(node).getInts("ksize"), *nchw, 1);
  if (!ksize || (*ksize)[0] < 1 || (*ksize)[1] < 1)
    return fail(node, "ksize must have 4 positive entries with 1 for the "
                      "batch and channel dimensions");
  std::vector<int64_t> xs = x->shape();
  Window win;
  if (failed(window(node, *nchw, spatialOf(xs, *nchw), *ksize, win)))
    return failure();
  if (win.dilations != std::vector<int64_t>{1, 1})
    return fail(node, "dilated pooling is not supported");
  Location loc = nodeLoc(node);
  Value in = toNHWC(loc, materialize(*x, loc), *nchw);
  SmallVector<NamedAttribute> attrs = {gb.attr("kernel", win.kernel),
                                       gb.attr("strides", win.strides),
                                       gb.attr("pad", win.pad)};
  Value y;
  if (node.op() == "MaxPool") {
    y = build<MaxPool2DOp>(loc, in, attrs);
  } else {
    // TensorFlow averages over the in-bounds elements only.
    attrs.push_back(gb.attr("count_include_pad", false));
    y = build<AvgPool2DOp>(loc, in, attrs);
  }
  return defineValue(node, fromNHWC(loc, y, *nchw));
}

LogicalResult Importer::onMean(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  std::optional<std::vector<int64_t>> axes =
      x ? intsInput(node, 1, "the axes") : std::nullopt;
  if (!axes)
    return failure();
  int64_t rank = x->rank();
  for (int64_t &a : *axes) {
    std::optional<int64_t> ax = axis(node, a, rank);
    if (!ax)
      return failure();
    a = *ax;
  }
  llvm::sort(*axes);
  axes->erase(std::unique(axes->begin(), axes->end()), axes->end());
  bool keep = Attrs(node).getBool("keep_dims", false);
  Location loc = nodeLoc(node);
  Value in = materialize(*x, loc);
  if (rank == 4 && *axes == std::vector<int64_t>{1, 2}) {
    // Global average pooling over H and W.
    Value y = build<GlobalAvgPool2DOp>(loc, in);
    if (!keep && y) {
      std::vector<int64_t> xs = x->shape();
      y = reshape(loc, y, {xs[0], xs[3]});
    }
    return defineValue(node, y);
  }
  return defineValue(
      node, build<ReduceMeanOp>(
                loc, in, {gb.attr("axes", *axes), gb.attr("keep_dims", keep)}));
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

LogicalResult Importer::onPad(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  const ConstTensor *p = x ? constInput(node, 1, "the paddings") : nullptr;
  if (!p)
    return failure();
  int64_t rank = x->rank();
  if (p->shape != std::vector<int64_t>{rank, 2})
    return fail(node, "paddings has shape " + formatShape(p->shape) +
                          ", expected [" + Twine(rank) + ", 2]");
  std::vector<int64_t> pads = p->ints(), low, high;
  for (int64_t i = 0; i < rank; ++i) {
    low.push_back(pads[2 * i]);
    high.push_back(pads[2 * i + 1]);
  }
  SmallVector<NamedAttribute> attrs = {gb.attr("low", low),
                                       gb.attr("high", high)};
  if (node.op() == "PadV2") {
    const ConstTensor *v = constInput(node, 2, "constant_values");
    if (!v)
      return failure();
    if (v->data.size() != 1)
      return fail(node, "constant_values must be a scalar");
    attrs.push_back(gb.attr("value", static_cast<float>(v->data[0])));
  } else if (node.op() == "MirrorPad") {
    std::string mode = Attrs(node).getString("mode", "");
    if (mode != "REFLECT")
      return fail(node, "mode '" + mode +
                            "' is not supported (REFLECT is; vai.pad has no "
                            "symmetric mode)");
    attrs.push_back(
        gb.attr("mode", PadModeAttr::get(gb.getContext(), PadMode::Reflect)));
  }
  Location loc = nodeLoc(node);
  return defineValue(node, build<PadOp>(loc, materialize(*x, loc), attrs));
}

LogicalResult Importer::onConcat(const NodeDef &node) {
  int n = dataInputCount(node);
  if (n < 2)
    return fail(node, "expects at least one value and the axis");
  // ConcatV2: values..., axis; Concat: axis, values...
  bool v2 = node.op() == "ConcatV2";
  int axisIndex = v2 ? n - 1 : 0, first = v2 ? 0 : 1;
  std::optional<std::vector<int64_t>> axisValue =
      intsInput(node, axisIndex, "the axis");
  if (!axisValue)
    return failure();
  if (axisValue->size() != 1)
    return fail(node, "the axis must be a scalar");
  std::vector<const Tensor *> ins;
  for (int i = first; i < first + n - 1; ++i) {
    const Tensor *t = input(node, i);
    if (!t)
      return failure();
    ins.push_back(t);
  }
  std::optional<int64_t> ax = axis(node, axisValue->front(), ins[0]->rank());
  if (!ax)
    return failure();
  if (llvm::all_of(ins, [](const Tensor *t) { return t->isConstant(); })) {
    std::vector<const ConstTensor *> cs;
    for (const Tensor *t : ins)
      cs.push_back(t->constant.get());
    std::optional<ConstTensor> out = concatConst(cs, *ax);
    if (!out)
      return fail(node, "the inputs' shapes do not agree off the axis");
    return defineConst(node, *out);
  }
  Location loc = nodeLoc(node);
  SmallVector<Value> operands;
  for (const Tensor *t : ins)
    operands.push_back(materialize(*t, loc));
  return defineValue(node,
                     build<ConcatOp>(loc, operands, {gb.attr("axis", *ax)}));
}

LogicalResult Importer::onPack(const NodeDef &node) {
  int n = dataInputCount(node);
  if (n < 1)
    return fail(node, "has no inputs");
  std::vector<const Tensor *> ins;
  for (int i = 0; i < n; ++i) {
    const Tensor *t = input(node, i);
    if (!t)
      return failure();
    if (!ins.empty() && t->shape() != ins[0]->shape())
      return fail(node, "the inputs' shapes differ");
    ins.push_back(t);
  }
  std::vector<int64_t> shape = ins[0]->shape();
  std::optional<int64_t> ax =
      axis(node, Attrs(node).getInt("axis", 0), ins[0]->rank() + 1);
  if (!ax)
    return failure();
  // Each input gets a new dimension of 1 at the axis; then a concat.
  std::vector<int64_t> expanded = shape;
  expanded.insert(expanded.begin() + *ax, 1);
  if (llvm::all_of(ins, [](const Tensor *t) { return t->isConstant(); })) {
    std::vector<ConstTensor> parts;
    for (const Tensor *t : ins) {
      parts.push_back(*t->constant);
      parts.back().shape = expanded;
    }
    std::vector<const ConstTensor *> cs;
    for (const ConstTensor &c : parts)
      cs.push_back(&c);
    return defineConst(node, *concatConst(cs, *ax));
  }
  Location loc = nodeLoc(node);
  SmallVector<Value> operands;
  for (const Tensor *t : ins)
    operands.push_back(reshape(loc, materialize(*t, loc), expanded));
  return defineValue(node,
                     build<ConcatOp>(loc, operands, {gb.attr("axis", *ax)}));
}

LogicalResult Importer::onReshape(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  std::optional<std::vector<int64_t>> shape =
      x ? intsInput(node, 1, "the shape") : std::nullopt;
  if (!shape)
    return failure();
  int64_t count = elementCount(x->shape()), known = 1, inferred = -1;
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t d = (*shape)[i];
    if (d == -1 && inferred < 0)
      inferred = static_cast<int64_t>(i);
    else if (d < 0)
      return fail(node, "bad shape " + formatShape(*shape));
    else
      known *= d;
  }
  if (inferred >= 0 && known > 0 && count % known == 0)
    (*shape)[inferred] = count / known;
  if (elementCount(*shape) != count)
    return fail(node, "cannot reshape " + formatShape(x->shape()) + " to " +
                          formatShape(*shape));
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.shape = *shape;
    return define(node,
                  Tensor{{}, std::make_shared<ConstTensor>(c), x->constName});
  }
  return defineValue(node, reshape(nodeLoc(node), x->value, *shape));
}

LogicalResult Importer::onSqueeze(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  std::vector<int64_t> xs = x->shape(), axes, shape;
  int64_t rank = x->rank();
  for (int64_t a : Attrs(node).getInts("squeeze_dims")) {
    std::optional<int64_t> ax = axis(node, a, rank);
    if (!ax)
      return failure();
    if (xs[*ax] != 1)
      return fail(node, "dimension " + Twine(*ax) + " of " + formatShape(xs) +
                            " is not 1");
    axes.push_back(*ax);
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      if (xs[i] == 1)
        axes.push_back(i);
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(axes, i))
      shape.push_back(xs[i]);
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.shape = shape;
    return define(node,
                  Tensor{{}, std::make_shared<ConstTensor>(c), x->constName});
  }
  return defineValue(
      node, build<SqueezeOp>(nodeLoc(node), x->value, {gb.attr("axes", axes)}));
}

LogicalResult Importer::onExpandDims(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  std::optional<std::vector<int64_t>> dim =
      x ? intsInput(node, 1, "the axis") : std::nullopt;
  if (!dim)
    return failure();
  if (dim->size() != 1)
    return fail(node, "the axis must be a scalar");
  std::vector<int64_t> shape = x->shape();
  std::optional<int64_t> ax = axis(node, dim->front(), x->rank() + 1);
  if (!ax)
    return failure();
  shape.insert(shape.begin() + *ax, 1);
  if (x->isConstant()) {
    ConstTensor c = *x->constant;
    c.shape = shape;
    return define(node,
                  Tensor{{}, std::make_shared<ConstTensor>(c), x->constName});
  }
  return defineValue(node, reshape(nodeLoc(node), x->value, shape));
}

LogicalResult Importer::onShape(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  if (!x)
    return failure();
  ConstTensor c;
  std::vector<int64_t> shape = x->shape();
  c.shape = {static_cast<int64_t>(shape.size())};
  c.data.assign(shape.begin(), shape.end());
  c.isInteger = true;
  return defineConst(node, c);
}

LogicalResult Importer::onStridedSlice(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  std::optional<std::vector<int64_t>> begin, end, strides;
  if (!x || !(begin = intsInput(node, 1, "begin")) ||
      !(end = intsInput(node, 2, "end")) ||
      !(strides = intsInput(node, 3, "strides")))
    return failure();
  Attrs attrs(node);
  StridedSliceSpec spec;
  if (std::optional<std::string> err = resolveStridedSlice(
          x->shape(), *begin, *end, *strides, attrs.getInt("begin_mask", 0),
          attrs.getInt("end_mask", 0), attrs.getInt("ellipsis_mask", 0),
          attrs.getInt("new_axis_mask", 0), attrs.getInt("shrink_axis_mask", 0),
          spec))
    return fail(node, "the slice " + *err);
  if (x->isConstant())
    return defineConst(node, sliceConst(*x->constant, spec));
  if (llvm::any_of(spec.size, [](int64_t s) { return s < 1; }))
    return fail(node, "the slice of " + formatShape(x->shape()) + " is empty");
  if (llvm::any_of(spec.step, [](int64_t s) { return s < 1; }))
    return fail(node, "negative strides are only supported on constants");
  Location loc = nodeLoc(node);
  Value y = build<SliceOp>(loc, x->value,
                           {gb.attr("offsets", spec.begin),
                            gb.attr("sizes", spec.size),
                            gb.attr("strides", spec.step)});
  if (y && spec.resultShape != spec.size)
    y = reshape(loc, y, spec.resultShape);
  return defineValue(node, y);
}

LogicalResult Importer::onTranspose(const NodeDef &node) {
  const Tensor *x = input(node, 0);
  std::optional<std::vector<int64_t>> perm =
      x ? intsInput(node, 1, "the permutation") : std::nullopt;
  if (!perm)
    return failure();
  std::vector<int64_t> sorted = *perm;
  llvm::sort(sorted);
  for (int64_t i = 0; i < static_cast<int64_t>(sorted.size()); ++i)
    if (sorted[i] != i || static_cast<int64_t>(sorted.size()) != x->rank())
      return fail(node, "bad permutation " + formatShape(*perm) + " for " +
                            formatShape(x->shape()));
  if (x->isConstant())
    return defineConst(node, permuteConst(*x->constant, *perm));
  return defineValue(node, build<TransposeOp>(nodeLoc(node), x->value,
                                              {gb.attr("perm", *perm)}));
}

LogicalResult Importer::onResize(const NodeDef &node) {
  const Tensor *x = activationInput(node, 0, 4);
  std::optional<std::vector<int64_t>> size =
      x ? intsInput(node, 1, "the size") : std::nullopt;
  if (!size)
    return failure();
  if (size->size() != 2 || (*size)[0] < 1 || (*size)[1] < 1)
    return fail(node, "size must hold two positive values");
  Attrs attrs(node);
  bool alignCorners = attrs.getBool("align_corners", false);
  bool halfPixel = attrs.getBool("half_pixel_centers", false);
  if (alignCorners && halfPixel)
    return fail(node, "align_corners and half_pixel_centers cannot both be "
                      "true");
  bool bilinear = node.op() == "ResizeBilinear";
  CoordMode coord = alignCorners ? CoordMode::AlignCorners
                    : halfPixel  ? CoordMode::HalfPixel
                                 : CoordMode::Asymmetric;
  // TensorFlow's nearest neighbour floors the asymmetric coordinate and
  // rounds half up otherwise ((x + 0.5) * scale floored, or roundf).
  NearestMode nearest = alignCorners || halfPixel ? NearestMode::RoundPreferCeil
                                                  : NearestMode::Floor;
  MLIRContext *ctx = gb.getContext();
  SmallVector<NamedAttribute> attrList = {
      gb.attr("size", *size),
      gb.attr("mode", ResizeModeAttr::get(ctx, bilinear ? ResizeMode::Bilinear
                                                        : ResizeMode::Nearest)),
      gb.attr("coord_mode", CoordModeAttr::get(ctx, coord))};
  if (!bilinear)
    attrList.push_back(
        gb.attr("nearest_mode", NearestModeAttr::get(ctx, nearest)));
  Location loc = nodeLoc(node);
  return defineValue(node,
                     build<ResizeOp>(loc, materialize(*x, loc), attrList));
}

} // namespace vai::import::tf_import
