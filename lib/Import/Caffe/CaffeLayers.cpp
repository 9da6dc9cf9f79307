//===- CaffeLayers.cpp - One converter per Caffe layer type ---------------===//
//
// Every converter reads its bottoms (NHWC when 4-D, Caffe's order
// otherwise), checks its parameters and weight blobs against the bottom's
// shape, and emits vai ops at the layer's location. Order-sensitive
// reshapes (Flatten, Reshape, InnerProduct) run in Caffe's NCHW order
// between transposes; axes of 4-D tensors are mapped NCHW -> NHWC.
//
//===----------------------------------------------------------------------===//

#include "CaffeImporterImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <climits>
#include <numeric>

using namespace mlir;
using namespace mlir::vai;
using llvm::ArrayRef;
using llvm::SmallVector;
using llvm::StringRef;

namespace vai::import::caffe {

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> shapeOf(Value v) {
  return SmallVector<int64_t>(cast<RankedTensorType>(v.getType()).getShape());
}

SmallVector<int64_t> caffeShape(Value v) {
  SmallVector<int64_t> s = shapeOf(v);
  if (s.size() == 4)
    return {s[0], s[3], s[1], s[2]};
  return s;
}

/// A Caffe axis of a rank-`rank` tensor as an axis of our value.
static int64_t internalAxis(int64_t axis, int64_t rank) {
  return rank == 4 ? nchwAxisToNhwc(axis) : axis;
}

static int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

template <typename Range>
static SmallVector<int64_t> toVector(const Range &range) {
  return SmallVector<int64_t>(range.begin(), range.end());
}

static std::optional<int64_t> optionalField(bool present, int64_t value) {
  return present ? std::optional<int64_t>(value) : std::nullopt;
}

/// (h, w) from Caffe's "one value for both or one per dimension" list and
/// the explicit *_h / *_w fields, which win.
static std::pair<int64_t, int64_t> heightWidth(ArrayRef<int64_t> list,
                                               std::optional<int64_t> h,
                                               std::optional<int64_t> w,
                                               int64_t fallback) {
  int64_t first = list.empty() ? fallback : list[0];
  int64_t second = list.size() > 1 ? list[1] : first;
  return {h.value_or(first), w.value_or(second)};
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

const llvm::StringMap<LayerConverter::ConvertFn> &LayerConverter::converters() {
  static const llvm::StringMap<ConvertFn> table = {
      {"Input", &LayerConverter::convertInputLayer},
      {"Convolution", &LayerConverter::convertConvolution},
      {"Deconvolution", &LayerConverter::convertDeconvolution},
      {"InnerProduct", &LayerConverter::convertInnerProduct},
      {"Pooling", &LayerConverter::convertPooling},
      {"ReLU", &LayerConverter::convertReLU},
      {"PReLU", &LayerConverter::convertPReLU},
      {"Sigmoid", &LayerConverter::convertSigmoid},
      {"TanH", &LayerConverter::convertTanH},
      {"BatchNorm", &LayerConverter::convertBatchNorm},
      {"Scale", &LayerConverter::convertScale},
      {"Eltwise", &LayerConverter::convertEltwise},
      {"Concat", &LayerConverter::convertConcat},
      {"Slice", &LayerConverter::convertSlice},
      {"Split", &LayerConverter::convertSplit},
      {"Flatten", &LayerConverter::convertFlatten},
      {"Reshape", &LayerConverter::convertReshape},
      {"Softmax", &LayerConverter::convertSoftmax},
      {"Dropout", &LayerConverter::convertDropout},
  };
  return table;
}

std::string LayerConverter::supportedLayerList() {
  SmallVector<StringRef> names;
  for (const auto &entry : converters())
    names.push_back(entry.getKey());
  llvm::sort(names);
  return llvm::join(names, ", ");
}

Value LayerConverter::reshape(const Layer &layer, Value v,
                              ArrayRef<int64_t> shape) {
  if (!v)
    return v;
  return gb.create<ReshapeOp>(gb.loc(layer.name()), v,
                              {gb.attr("shape", shape)});
}

//===----------------------------------------------------------------------===//
// Convolutions and inner product
//===----------------------------------------------------------------------===//

LogicalResult LayerConverter::convertConvolution(const Layer &layer) {
  return convertConv(layer, /*transposed=*/false);
}

LogicalResult LayerConverter::convertDeconvolution(const Layer &layer) {
  return convertConv(layer, /*transposed=*/true);
}

LogicalResult LayerConverter::convertConv(const Layer &layer, bool transposed) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0, /*rank=*/4);
  if (failed(x))
    return failure();
  const auto &p = layer.convolution_param();
  if (p.axis() != 1)
    return error(layer) << "has axis " << p.axis()
                        << "; only 1 (channels) is supported";
  if (p.kernel_size_size() > 2 || p.stride_size() > 2 || p.pad_size() > 2 ||
      p.dilation_size() > 2)
    return error(layer) << "has more than two spatial dimensions; only 2-D "
                           "convolution is supported";
  SmallVector<int64_t> kernelList = toVector(p.kernel_size());
  if (kernelList.empty() && !(p.has_kernel_h() && p.has_kernel_w()))
    return error(layer) << "has no kernel_size (or kernel_h and kernel_w)";
  auto [kh, kw] =
      heightWidth(kernelList, optionalField(p.has_kernel_h(), p.kernel_h()),
                  optionalField(p.has_kernel_w(), p.kernel_w()), 1);
  auto [sh, sw] = heightWidth(toVector(p.stride()),
                              optionalField(p.has_stride_h(), p.stride_h()),
                              optionalField(p.has_stride_w(), p.stride_w()), 1);
  auto [ph, pw] =
      heightWidth(toVector(p.pad()), optionalField(p.has_pad_h(), p.pad_h()),
                  optionalField(p.has_pad_w(), p.pad_w()), 0);
  auto [dh, dw] =
      heightWidth(toVector(p.dilation()), std::nullopt, std::nullopt, 1);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1)
    return error(layer) << "has a zero kernel size, stride or dilation";
  int64_t c = caffeShape(*x)[1];
  int64_t oc = p.num_output(), groups = p.group();
  if (oc < 1 || groups < 1 || c % groups || oc % groups)
    return error(layer) << "has num_output " << oc << " and group " << groups
                        << ", which do not split its " << c
                        << " input channels into equal groups";
  SmallVector<int64_t> blobShape =
      transposed ? SmallVector<int64_t>{c, oc / groups, kh, kw}
                 : SmallVector<int64_t>{oc, c / groups, kh, kw};
  FailureOr<std::vector<float>> w = weight(layer, 0, blobShape, "the weight");
  if (failed(w))
    return failure();
  SmallVector<Value, 3> operands = {*x};
  Value bias;
  if (p.bias_term()) {
    FailureOr<std::vector<float>> b = weight(layer, 1, {oc}, "the bias");
    if (failed(b))
      return failure();
    bias = constant(layer, {oc}, *b, "bias");
  }

  Location loc = gb.loc(layer.name());
  SmallVector<NamedAttribute> attrs = {
      gb.attr("strides", ArrayRef<int64_t>{sh, sw}),
      gb.attr("pad", ArrayRef<int64_t>{ph, ph, pw, pw}),
      gb.attr("dilations", ArrayRef<int64_t>{dh, dw})};
  auto withWeight = [&](Value weightValue) {
    operands.push_back(weightValue);
    if (bias)
      operands.push_back(bias);
    return ValueRange(operands);
  };
  if (transposed) {
    attrs.push_back(gb.attr("groups", groups));
    Value wv =
        constant(layer, {oc, kh, kw, c / groups},
                 iohwToOhwi(*w, c, oc / groups, kh, kw, groups), "weight");
    return setTop(layer, 0,
                  gb.create<TransposedConv2DOp>(loc, withWeight(wv), attrs),
                  "vai.transposed_conv2d");
  }
  if (groups > 1 && groups == c) {
    int64_t m = oc / c;
    Value wv = constant(layer, {m, kh, kw, c},
                        depthwiseOihwToMhwc(*w, c, m, kh, kw), "weight");
    return setTop(layer, 0,
                  gb.create<DepthwiseConv2DOp>(loc, withWeight(wv), attrs),
                  "vai.depthwise_conv2d");
  }
  attrs.push_back(gb.attr("groups", groups));
  Value wv = constant(layer, {oc, kh, kw, c / groups},
                      oihwToOhwi(*w, oc, c / groups, kh, kw), "weight");
  return setTop(layer, 0, gb.create<Conv2DOp>(loc, withWeight(wv), attrs),
                "vai.conv2d");
}

LogicalResult LayerConverter::convertInnerProduct(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  const auto &p = layer.inner_product_param();
  SmallVector<int64_t> in = caffeShape(*x);
  FailureOr<int64_t> axis = caffeAxis(layer, p.axis(), in.size());
  if (failed(axis))
    return failure();
  int64_t k = product(ArrayRef<int64_t>(in).drop_front(*axis));
  int64_t o = p.num_output();
  if (o < 1)
    return error(layer) << "has num_output " << o;
  SmallVector<int64_t> blobShape =
      p.transpose() ? SmallVector<int64_t>{k, o} : SmallVector<int64_t>{o, k};
  FailureOr<std::vector<float>> w = weight(layer, 0, blobShape, "the weight");
  if (failed(w))
    return failure();
  std::vector<float> matrix = *w;
  if (p.transpose())
    for (int64_t r = 0; r < o; ++r)
      for (int64_t col = 0; col < k; ++col)
        matrix[r * k + col] = (*w)[col * o + r];
  SmallVector<Value, 3> operands;
  Location loc = gb.loc(layer.name());
  // Flatten in Caffe's (NCHW) element order.
  Value flat = toCaffeOrder(layer, *x);
  if (in.size() != 2 || *axis != 1)
    flat = gb.create<FlattenOp>(loc, flat, {gb.attr("axis", *axis)});
  if (!flat)
    return setTop(layer, 0, flat, "vai.flatten");
  operands = {flat, constant(layer, {o, k}, matrix, "weight")};
  if (p.bias_term()) {
    FailureOr<std::vector<float>> b = weight(layer, 1, {o}, "the bias");
    if (failed(b))
      return failure();
    operands.push_back(constant(layer, {o}, *b, "bias"));
  }
  Value out = gb.create<InnerProductOp>(loc, operands);
  if (out && *axis != 1) {
    SmallVector<int64_t> shape(in.begin(), in.begin() + *axis);
    shape.push_back(o);
    out = fromCaffeOrder(layer, reshape(layer, out, shape));
  }
  return setTop(layer, 0, out, "vai.inner_product");
}

//===----------------------------------------------------------------------===//
// Pooling and activations
//===----------------------------------------------------------------------===//

LogicalResult LayerConverter::convertPooling(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0, /*rank=*/4);
  if (failed(x))
    return failure();
  const auto &p = layer.pooling_param();
  using PP = vai_caffe::PoolingParameter;
  if (p.pool() == PP::STOCHASTIC)
    return error(layer) << "uses STOCHASTIC pooling; only MAX and AVE are "
                           "supported";
  bool isMax = p.pool() == PP::MAX;
  Location loc = gb.loc(layer.name());
  if (p.global_pooling())
    return setTop(layer, 0,
                  isMax ? gb.create<GlobalMaxPool2DOp>(loc, *x)
                        : gb.create<GlobalAvgPool2DOp>(loc, *x),
                  isMax ? "vai.global_max_pool2d" : "vai.global_avg_pool2d");
  if (!p.has_kernel_size() && !(p.has_kernel_h() && p.has_kernel_w()))
    return error(layer) << "has no kernel_size (or kernel_h and kernel_w) "
                           "and is not global_pooling";
  auto [kh, kw] = heightWidth({}, optionalField(p.has_kernel_h(), p.kernel_h()),
                              optionalField(p.has_kernel_w(), p.kernel_w()),
                              p.kernel_size());
  auto [sh, sw] =
      heightWidth({}, optionalField(p.has_stride_h(), p.stride_h()),
                  optionalField(p.has_stride_w(), p.stride_w()), p.stride());
  auto [ph, pw] = heightWidth({}, optionalField(p.has_pad_h(), p.pad_h()),
                              optionalField(p.has_pad_w(), p.pad_w()), p.pad());
  SmallVector<NamedAttribute> attrs = {
      gb.attr("kernel", ArrayRef<int64_t>{kh, kw}),
      gb.attr("strides", ArrayRef<int64_t>{sh, sw}),
      gb.attr("pad", ArrayRef<int64_t>{ph, ph, pw, pw}),
      // Caffe rounds the output size up.
      gb.attr("ceil_mode", true)};
  if (isMax)
    return setTop(layer, 0, gb.create<MaxPool2DOp>(loc, *x, attrs),
                  "vai.max_pool2d");
  // Caffe's AVE divides by the window clipped to the padded extent.
  attrs.push_back(gb.attr("count_include_pad", true));
  return setTop(layer, 0, gb.create<AvgPool2DOp>(loc, *x, attrs),
                "vai.avg_pool2d");
}

template <typename OpTy>
LogicalResult LayerConverter::convertUnary(const Layer &layer,
                                           ArrayRef<NamedAttribute> attrs,
                                           StringRef opName) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  return setTop(layer, 0, gb.create<OpTy>(gb.loc(layer.name()), *x, attrs),
                opName);
}

LogicalResult LayerConverter::convertReLU(const Layer &layer) {
  float slope = layer.relu_param().negative_slope();
  if (slope != 0.0f)
    return convertUnary<LeakyReluOp>(layer, {gb.attr("alpha", slope)},
                                     "vai.leaky_relu");
  return convertUnary<ReluOp>(layer, {}, "vai.relu");
}

LogicalResult LayerConverter::convertSigmoid(const Layer &layer) {
  return convertUnary<SigmoidOp>(layer, {}, "vai.sigmoid");
}

LogicalResult LayerConverter::convertTanH(const Layer &layer) {
  return convertUnary<TanhOp>(layer, {}, "vai.tanh");
}

LogicalResult LayerConverter::convertDropout(const Layer &layer) {
  float ratio = layer.dropout_param().dropout_ratio();
  if (ratio < 0.0f || ratio >= 1.0f)
    return error(layer) << "has dropout_ratio " << ratio
                        << ", expected a value in [0, 1)";
  return convertUnary<DropoutOp>(layer, {gb.attr("ratio", ratio)},
                                 "vai.dropout");
}

//===----------------------------------------------------------------------===//
// Per-channel layers: channels are Caffe's axis 1, our last dimension
//===----------------------------------------------------------------------===//

/// The channel count of a per-channel layer's bottom (2-D or 4-D).
static std::optional<int64_t> channelsOf(Value v) {
  SmallVector<int64_t> s = caffeShape(v);
  if (s.size() != 2 && s.size() != 4)
    return std::nullopt;
  return s[1];
}

LogicalResult LayerConverter::convertPReLU(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  bool shared = layer.prelu_param().channel_shared();
  std::optional<int64_t> c = channelsOf(*x);
  if (!shared && !c)
    return error(layer) << "needs a 2-D or 4-D bottom for per-channel slopes";
  int64_t n = shared ? 1 : *c;
  FailureOr<std::vector<float>> slope = weight(layer, 0, {n}, "the slope");
  if (failed(slope))
    return failure();
  Value slopeValue = constant(layer, {n}, *slope, "slope");
  return setTop(
      layer, 0,
      gb.create<PReluOp>(gb.loc(layer.name()), ValueRange{*x, slopeValue}),
      "vai.prelu");
}

LogicalResult LayerConverter::convertBatchNorm(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  std::optional<int64_t> c = channelsOf(*x);
  if (!c)
    return error(layer) << "needs a 2-D or 4-D bottom";
  FailureOr<std::vector<float>> mean = weight(layer, 0, {*c}, "the mean");
  if (failed(mean))
    return failure();
  FailureOr<std::vector<float>> variance =
      weight(layer, 1, {*c}, "the variance");
  if (failed(variance))
    return failure();
  FailureOr<std::vector<float>> factor =
      weight(layer, 2, {1}, "the moving-average factor");
  if (failed(factor))
    return failure();
  // Caffe stores running sums; blob 2 holds the factor to divide them by.
  float f = (*factor)[0];
  float norm = f == 0.0f ? 0.0f : 1.0f / f;
  for (float &v : *mean)
    v *= norm;
  for (float &v : *variance)
    v *= norm;
  const auto &p = layer.batch_norm_param();
  Location loc = gb.loc(layer.name());
  if (p.has_use_global_stats() && !p.use_global_stats())
    emitWarning(loc) << gb.file() << ": layer '" << layer.name()
                     << "' of type 'BatchNorm' has use_global_stats: false; "
                        "imported with its stored statistics (inference)";
  std::vector<float> ones(*c, 1.0f), zeros(*c, 0.0f);
  Value operands[] = {*x, constant(layer, {*c}, *mean, "mean"),
                      constant(layer, {*c}, *variance, "variance"),
                      constant(layer, {*c}, ones, "scale"),
                      constant(layer, {*c}, zeros, "offset")};
  return setTop(
      layer, 0,
      gb.create<BatchNormOp>(loc, operands, {gb.attr("epsilon", p.eps())}),
      "vai.batch_norm");
}

LogicalResult LayerConverter::convertScale(const Layer &layer) {
  if (layer.bottom_size() == 2)
    return error(layer) << "takes its scale from a second bottom, which is "
                           "not supported (only learned scales are)";
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  const auto &p = layer.scale_param();
  std::optional<int64_t> c = channelsOf(*x);
  if (!c)
    return error(layer) << "needs a 2-D or 4-D bottom";
  FailureOr<int64_t> axis = caffeAxis(layer, p.axis(), caffeShape(*x).size());
  if (failed(axis))
    return failure();
  if (*axis != 1 || p.num_axes() != 1)
    return error(layer) << "has axis " << p.axis() << " and num_axes "
                        << p.num_axes()
                        << "; only per-channel scaling (axis 1, num_axes 1) "
                           "is supported";
  FailureOr<std::vector<float>> scale = weight(layer, 0, {*c}, "the scale");
  if (failed(scale))
    return failure();
  SmallVector<Value, 3> operands = {*x, constant(layer, {*c}, *scale, "scale")};
  if (p.bias_term()) {
    FailureOr<std::vector<float>> bias = weight(layer, 1, {*c}, "the bias");
    if (failed(bias))
      return failure();
    operands.push_back(constant(layer, {*c}, *bias, "bias"));
  }
  return setTop(layer, 0, gb.create<ScaleOp>(gb.loc(layer.name()), operands),
                "vai.scale");
}

//===----------------------------------------------------------------------===//
// Multi-input and data movement
//===----------------------------------------------------------------------===//

/// All bottoms of `layer`, or failure after a diagnostic.
static FailureOr<SmallVector<Value>>
allBottoms(const vai_caffe::LayerParameter &layer,
           llvm::function_ref<FailureOr<Value>(int)> get) {
  SmallVector<Value> values;
  for (int i = 0; i < layer.bottom_size(); ++i) {
    FailureOr<Value> v = get(i);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

LogicalResult LayerConverter::convertEltwise(const Layer &layer) {
  if (failed(expectArity(layer, 2, INT_MAX, 1)))
    return failure();
  FailureOr<SmallVector<Value>> inputs =
      allBottoms(layer, [&](int i) { return bottom(layer, i); });
  if (failed(inputs))
    return failure();
  const auto &p = layer.eltwise_param();
  using EP = vai_caffe::EltwiseParameter;
  if (p.coeff_size() &&
      (p.operation() != EP::SUM || p.coeff_size() != layer.bottom_size()))
    return error(layer) << "has " << p.coeff_size()
                        << " coeff values; SUM takes one per bottom ("
                        << layer.bottom_size() << ")";
  Location loc = gb.loc(layer.name());
  Value acc;
  StringRef opName;
  for (int i = 0; i < layer.bottom_size(); ++i) {
    Value term = (*inputs)[i];
    if (p.coeff_size() && p.coeff(i) != 1.0f) {
      term = gb.create<MulOp>(
          loc, ValueRange{term, gb.scalarConstant(loc, p.coeff(i))});
      if (!term)
        return setTop(layer, 0, term, "vai.mul");
    }
    if (!acc) {
      acc = term;
      continue;
    }
    switch (p.operation()) {
    case EP::SUM:
      acc = gb.create<AddOp>(loc, ValueRange{acc, term});
      opName = "vai.add";
      break;
    case EP::PROD:
      acc = gb.create<MulOp>(loc, ValueRange{acc, term});
      opName = "vai.mul";
      break;
    case EP::MAX:
      acc = gb.create<MaxOp>(loc, ValueRange{acc, term});
      opName = "vai.max";
      break;
    }
    if (!acc)
      break;
  }
  return setTop(layer, 0, acc, opName);
}

LogicalResult LayerConverter::convertConcat(const Layer &layer) {
  if (failed(expectArity(layer, 1, INT_MAX, 1)))
    return failure();
  FailureOr<SmallVector<Value>> inputs =
      allBottoms(layer, [&](int i) { return bottom(layer, i); });
  if (failed(inputs))
    return failure();
  const auto &p = layer.concat_param();
  int64_t rank = shapeOf(inputs->front()).size();
  int64_t raw = p.has_axis() ? p.axis() : static_cast<int64_t>(p.concat_dim());
  FailureOr<int64_t> axis = caffeAxis(layer, raw, rank);
  if (failed(axis))
    return failure();
  if (inputs->size() == 1)
    return setTop(layer, 0, inputs->front(), "");
  return setTop(
      layer, 0,
      gb.create<ConcatOp>(gb.loc(layer.name()), *inputs,
                          {gb.attr("axis", internalAxis(*axis, rank))}),
      "vai.concat");
}

LogicalResult LayerConverter::convertSlice(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, -1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  const auto &p = layer.slice_param();
  SmallVector<int64_t> in = caffeShape(*x);
  int64_t raw = p.has_axis() ? p.axis() : static_cast<int64_t>(p.slice_dim());
  FailureOr<int64_t> axis = caffeAxis(layer, raw, in.size());
  if (failed(axis))
    return failure();
  int64_t dim = in[*axis], tops = layer.top_size();
  SmallVector<int64_t> bounds = {0};
  if (p.slice_point_size()) {
    if (p.slice_point_size() != tops - 1)
      return error(layer) << "has " << p.slice_point_size()
                          << " slice_point values for " << tops
                          << " tops; expected " << tops - 1;
    for (int64_t point : p.slice_point()) {
      if (point <= bounds.back() || point >= dim)
        return error(layer)
               << "has slice_point " << point
               << ", not increasing inside the axis of size " << dim;
      bounds.push_back(point);
    }
  } else {
    if (tops < 1 || dim % tops)
      return error(layer) << "cannot split an axis of size " << dim << " into "
                          << tops << " equal parts";
    for (int64_t i = 1; i < tops; ++i)
      bounds.push_back(dim / tops * i);
  }
  bounds.push_back(dim);
  int64_t ia = internalAxis(*axis, in.size());
  SmallVector<int64_t> sizes = shapeOf(*x);
  for (int64_t i = 0; i < tops; ++i) {
    SmallVector<int64_t> offsets(sizes.size(), 0);
    offsets[ia] = bounds[i];
    sizes[ia] = bounds[i + 1] - bounds[i];
    Value part = gb.create<SliceOp>(
        gb.loc(layer.name()), *x,
        {gb.attr("offsets", offsets), gb.attr("sizes", sizes)});
    if (failed(setTop(layer, i, part, "vai.slice")))
      return failure();
  }
  return success();
}

LogicalResult LayerConverter::convertSplit(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, -1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  for (int i = 0; i < layer.top_size(); ++i)
    if (failed(setTop(layer, i, *x, "")))
      return failure();
  return success();
}

LogicalResult LayerConverter::convertFlatten(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  const auto &p = layer.flatten_param();
  SmallVector<int64_t> in = caffeShape(*x);
  int64_t rank = in.size();
  FailureOr<int64_t> start = caffeAxis(layer, p.axis(), rank);
  if (failed(start))
    return failure();
  FailureOr<int64_t> end = caffeAxis(layer, p.end_axis(), rank);
  if (failed(end))
    return failure();
  if (*end < *start)
    return error(layer) << "has end_axis " << p.end_axis() << " before axis "
                        << p.axis();
  Value v = toCaffeOrder(layer, *x);
  if (*start == 1 && *end == rank - 1)
    return setTop(layer, 0,
                  gb.create<FlattenOp>(gb.loc(layer.name()), v,
                                       {gb.attr("axis", int64_t{1})}),
                  "vai.flatten");
  SmallVector<int64_t> shape(in.begin(), in.begin() + *start);
  shape.push_back(
      product(ArrayRef<int64_t>(in).slice(*start, *end - *start + 1)));
  shape.append(in.begin() + *end + 1, in.end());
  return setTop(layer, 0, fromCaffeOrder(layer, reshape(layer, v, shape)),
                "vai.reshape");
}

LogicalResult LayerConverter::convertReshape(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  const auto &p = layer.reshape_param();
  SmallVector<int64_t> in = caffeShape(*x);
  int64_t rank = in.size();
  FailureOr<int64_t> start = caffeAxis(layer, p.axis(), rank, true);
  if (failed(start))
    return failure();
  int64_t end = p.num_axes() == -1 ? rank : *start + p.num_axes();
  if (p.num_axes() < -1 || end > rank)
    return error(layer) << "has num_axes " << p.num_axes()
                        << ", out of range for a " << rank << "-D bottom";
  SmallVector<int64_t> shape(in.begin(), in.begin() + *start);
  int64_t inferred = -1;
  for (int i = 0; i < p.shape().dim_size(); ++i) {
    int64_t d = p.shape().dim(i);
    if (d == 0) {
      if (*start + i >= rank)
        return error(layer) << "copies dimension " << *start + i
                            << " (dim: 0) of a " << rank << "-D bottom";
      shape.push_back(in[*start + i]);
    } else if (d == -1 && inferred < 0) {
      inferred = shape.size();
      shape.push_back(1);
    } else if (d < 1) {
      return error(layer) << "has an invalid shape dim " << d
                          << " (at most one -1 is allowed)";
    } else {
      shape.push_back(d);
    }
  }
  shape.append(in.begin() + end, in.end());
  int64_t total = product(in), known = product(shape);
  if (inferred >= 0 && known > 0 && total % known == 0)
    shape[inferred] = total / known;
  if (product(shape) != total)
    return error(layer) << "cannot reshape " << formatShape(in) << " to "
                        << formatShape(shape);
  Value v = toCaffeOrder(layer, *x);
  return setTop(layer, 0, fromCaffeOrder(layer, reshape(layer, v, shape)),
                "vai.reshape");
}

LogicalResult LayerConverter::convertSoftmax(const Layer &layer) {
  if (failed(expectArity(layer, 1, 1, 1)))
    return failure();
  FailureOr<Value> x = bottom(layer, 0);
  if (failed(x))
    return failure();
  int64_t rank = shapeOf(*x).size();
  FailureOr<int64_t> axis =
      caffeAxis(layer, layer.softmax_param().axis(), rank);
  if (failed(axis))
    return failure();
  return setTop(
      layer, 0,
      gb.create<SoftmaxOp>(gb.loc(layer.name()), *x,
                           {gb.attr("axis", internalAxis(*axis, rank))}),
      "vai.softmax");
}

} // namespace vai::import::caffe
