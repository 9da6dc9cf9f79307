//===- KerasLayers.cpp - One converter per Keras layer class --------------===//
//
// Every converter reads its inbound tensors (exactly Keras's tensors: NHWC
// for channels_last), checks its config and weights against their shapes
// and emits vai ops at the layer's location. Keras kernels are HWIO
// ([KH, KW, IC, OC]); they are reordered here to vai's layouts. channels_first
// layers run between transposes. Config fields a converter does not read
// must be harmless (names, dtypes, initializers, regularizers, constraints),
// so a field from a newer Keras that could change the result is an error.
//
//===----------------------------------------------------------------------===//

#include "KerasImporterImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cfloat>
#include <numeric>

using namespace mlir;
using namespace mlir::vai;
using llvm::ArrayRef;
using llvm::SmallVector;
using llvm::StringRef;
namespace json = llvm::json;

namespace vai::import::keras {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> shapeOf(Value v) {
  return SmallVector<int64_t>(cast<RankedTensorType>(v.getType()).getShape());
}

static int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

/// `data` of row-major `shape` with its dimensions permuted:
/// out.shape[i] = shape[perm[i]].
static std::vector<float> permute(ArrayRef<float> data, ArrayRef<int64_t> shape,
                                  ArrayRef<int64_t> perm) {
  size_t rank = shape.size();
  SmallVector<int64_t> inStrides(rank, 1), outShape(rank);
  for (size_t i = rank; i-- > 1;)
    inStrides[i - 1] = inStrides[i] * shape[i];
  for (size_t i = 0; i < rank; ++i)
    outShape[i] = shape[perm[i]];
  std::vector<float> out(data.size());
  SmallVector<int64_t> index(rank, 0);
  for (size_t o = 0; o < out.size(); ++o) {
    int64_t src = 0;
    for (size_t i = 0; i < rank; ++i)
      src += index[i] * inStrides[perm[i]];
    out[o] = data[src];
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
  return out;
}

InFlightDiagnostic LayerConverter::error(const Layer &layer) {
  InFlightDiagnostic diag = emitError(gb.loc(layer.name));
  diag << gb.file() << ": layer '" << layer.name << "' (" << layer.className
       << ") ";
  return diag;
}

/// Config fields that never change inference results.
static bool harmlessField(StringRef key) {
  static const char *const names[] = {"name",        "trainable",
                                      "dtype",       "batch_input_shape",
                                      "batch_shape", "activity_regularizer",
                                      "autocast"};
  return llvm::is_contained(names, key) || key.ends_with("_initializer") ||
         key.ends_with("_regularizer") || key.ends_with("_constraint");
}

LogicalResult LayerConverter::checkFields(const Layer &layer,
                                          const LayerKind &kind) {
  for (const auto &entry : *layer.config) {
    StringRef key = entry.first;
    if (harmlessField(key) || llvm::is_contained(kind.fields, key))
      continue;
    return error(layer) << "has the config field '" << key
                        << "', which the importer does not know (it may "
                           "change what the layer computes)";
  }
  return success();
}

const json::Value *LayerConverter::field(const Layer &layer, StringRef key) {
  const json::Value *v = layer.config->get(key);
  return v && v->kind() != json::Value::Null ? v : nullptr;
}

template <typename T>
FailureOr<T> LayerConverter::getScalar(
    const Layer &layer, StringRef key, std::optional<T> fallback,
    std::optional<T> (*read)(const json::Value &), StringRef kind) {
  const json::Value *v = field(layer, key);
  if (!v && fallback)
    return *fallback;
  std::optional<T> r = v ? read(*v) : std::nullopt;
  if (!r)
    return error(layer) << "has " << (v ? "a non-" + kind.str() : "no") << " '"
                        << key << "'";
  return *r;
}

FailureOr<int64_t> LayerConverter::getInt(const Layer &layer, StringRef key,
                                          std::optional<int64_t> fallback) {
  return getScalar<int64_t>(
      layer, key, fallback,
      [](const json::Value &v) { return v.getAsInteger(); }, "integer");
}

FailureOr<double> LayerConverter::getFloat(const Layer &layer, StringRef key,
                                           std::optional<double> fallback) {
  return getScalar<double>(
      layer, key, fallback,
      [](const json::Value &v) { return v.getAsNumber(); }, "numeric");
}

FailureOr<bool> LayerConverter::getBool(const Layer &layer, StringRef key,
                                        bool fallback) {
  return getScalar<bool>(
      layer, key, fallback,
      [](const json::Value &v) { return v.getAsBoolean(); }, "boolean");
}

FailureOr<std::string>
LayerConverter::getString(const Layer &layer, StringRef key,
                          std::optional<std::string> fallback) {
  return getScalar<std::string>(
      layer, key, fallback,
      [](const json::Value &v) -> std::optional<std::string> {
        if (std::optional<StringRef> s = v.getAsString())
          return s->str();
        return std::nullopt;
      },
      "string");
}

FailureOr<int64_t> LayerConverter::getAxis(const Layer &layer, Value v) {
  int64_t rank = shapeOf(v).size();
  FailureOr<int64_t> axis = getInt(layer, "axis", -1);
  if (failed(axis))
    return failure();
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  if (a < 0 || a >= rank)
    return error(layer) << "has axis " << *axis << ", out of range for rank "
                        << rank;
  return a;
}

FailureOr<SmallVector<int64_t>>
LayerConverter::getInts(const Layer &layer, StringRef key, size_t n,
                        std::optional<int64_t> fallback) {
  const json::Value *v = field(layer, key);
  if (!v && fallback)
    return SmallVector<int64_t>(n, *fallback);
  if (std::optional<int64_t> i = v ? v->getAsInteger() : std::nullopt)
    return SmallVector<int64_t>(n, *i);
  const json::Array *a = v ? v->getAsArray() : nullptr;
  SmallVector<int64_t> out;
  if (a && a->size() == n)
    for (const json::Value &e : *a)
      if (std::optional<int64_t> i = e.getAsInteger())
        out.push_back(*i);
  if (out.size() != n)
    return error(layer) << (v ? "has a malformed '" : "has no '") << key
                        << "' (expected " << n << " integer(s))";
  return out;
}

FailureOr<bool> LayerConverter::channelsFirst(const Layer &layer) {
  FailureOr<std::string> format =
      getString(layer, "data_format", std::string("channels_last"));
  if (failed(format))
    return failure();
  if (*format != "channels_last" && *format != "channels_first")
    return error(layer) << "has data_format '" << *format << "'";
  return *format == "channels_first";
}

static bool knownActivation(StringRef act) {
  static const char *const names[] = {
      "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "hard_sigmoid"};
  return llvm::is_contained(names, act);
}

FailureOr<std::string> LayerConverter::activation(const Layer &layer) {
  FailureOr<std::string> act =
      getString(layer, "activation", std::string("linear"));
  if (failed(act))
    return failure();
  if (!knownActivation(*act))
    return error(layer) << "has activation '" << *act
                        << "', which is not supported; supported: "
                           "hard_sigmoid, linear, relu, relu6, sigmoid, "
                           "softmax, tanh";
  return act;
}

FailureOr<const std::vector<Weight> *>
LayerConverter::layerWeights(const Layer &layer) {
  auto cached = weightCache.find(layer.name);
  if (cached != weightCache.end())
    return &cached->second;
  if (!weights)
    return error(layer) << "has weights, but no weights file was given "
                           "(vai-translate model.json --weights FILE.h5)";
  std::string problem;
  std::optional<std::vector<Weight>> ws =
      weights->layerWeights(layer.name, problem);
  if (!problem.empty())
    return error(layer) << "cannot read its weights from '" << weightsPath
                        << "': " << problem;
  if (!ws)
    return error(layer) << "has no weights in '" << weightsPath
                        << "' (no group '" << weights->weightsPrefix()
                        << layer.name << "')";
  return &(weightCache[layer.name] = std::move(*ws));
}

static std::string weightNames(const std::vector<Weight> &ws) {
  std::string names;
  for (const Weight &w : ws)
    names += (names.empty() ? "" : ", ") + w.name;
  return names.empty() ? "none" : names;
}

FailureOr<const Weight *> LayerConverter::weight(const Layer &layer,
                                                 StringRef key, unsigned index,
                                                 ArrayRef<int64_t> expected) {
  FailureOr<const std::vector<Weight> *> ws = layerWeights(layer);
  if (failed(ws))
    return failure();
  const Weight *w = nullptr;
  for (const Weight &candidate : **ws)
    if (candidate.key == key)
      w = &candidate;
  if (!w && index < (*ws)->size())
    w = &(**ws)[index];
  if (!w)
    return error(layer) << "has no weight '" << key << "' in '" << weightsPath
                        << "' (its weights: " << weightNames(**ws) << ")";
  if (ArrayRef<int64_t>(w->shape) != expected)
    return error(layer) << "has the weight '" << w->name << "' of shape "
                        << formatShape(w->shape) << ", expected "
                        << formatShape(expected);
  return w;
}

LogicalResult LayerConverter::expectWeightCount(const Layer &layer,
                                                size_t count) {
  FailureOr<const std::vector<Weight> *> ws = layerWeights(layer);
  if (failed(ws))
    return failure();
  if ((*ws)->size() != count)
    return error(layer) << "has " << (*ws)->size() << " weight(s) in '"
                        << weightsPath << "' (" << weightNames(**ws)
                        << "), expected " << count;
  return success();
}

Value LayerConverter::constant(const Layer &layer, ArrayRef<int64_t> shape,
                               ArrayRef<float> data, StringRef suffix) {
  std::string key = layer.name + "_" + suffix.str();
  for (char &c : key)
    if (!llvm::isAlnum(c))
      c = '_';
  return gb.constant(gb.loc(layer.name), shape, data, key);
}

FailureOr<Value> LayerConverter::checked(const Layer &layer, Value v) {
  if (!v)
    return error(layer) << "cannot be expressed as vai ops (see the error "
                           "above)";
  return v;
}

Value LayerConverter::reshape(const Layer &layer, Value v,
                              ArrayRef<int64_t> shape) {
  if (!v)
    return v;
  return gb.create<ReshapeOp>(gb.loc(layer.name), v, {gb.attr("shape", shape)});
}

Value LayerConverter::transpose(const Layer &layer, Value v,
                                ArrayRef<int64_t> perm) {
  if (!v)
    return v;
  return gb.create<TransposeOp>(gb.loc(layer.name), v, {gb.attr("perm", perm)});
}

FailureOr<Value> LayerConverter::expectRank(const Layer &layer, Value v,
                                            int64_t rank) {
  if (static_cast<int64_t>(shapeOf(v).size()) != rank)
    return error(layer) << "needs a " << rank << "-D input, got one of shape "
                        << formatShape(shapeOf(v));
  return v;
}

Value LayerConverter::applyActivation(const Layer &layer, Value v,
                                      StringRef act) {
  Location loc = gb.loc(layer.name);
  if (!v || act == "linear")
    return v;
  if (act == "relu")
    return gb.create<ReluOp>(loc, v);
  if (act == "relu6")
    return gb.create<Relu6Op>(loc, v);
  if (act == "sigmoid")
    return gb.create<SigmoidOp>(loc, v);
  if (act == "tanh")
    return gb.create<TanhOp>(loc, v);
  if (act == "softmax")
    return gb.create<SoftmaxOp>(
        loc, v, {gb.attr("axis", static_cast<int64_t>(shapeOf(v).size()) - 1)});
  // hard_sigmoid: Keras 2 clips 0.2 x + 0.5, Keras 3 relu6(x + 3) / 6.
  float alpha = model.kerasMajor >= 3 ? 1.0f / 6.0f : 0.2f;
  return gb.create<HardSigmoidOp>(
      loc, v, {gb.attr("alpha", alpha), gb.attr("beta", 0.5f)});
}

FailureOr<std::pair<int64_t, int64_t>>
LayerConverter::padding(const Layer &layer, StringRef mode, int64_t size,
                        int64_t kernel, int64_t stride, int64_t dilation) {
  if (kernel < 1 || stride < 1 || dilation < 1)
    return error(layer) << "has a kernel, stride or dilation below 1";
  if (mode == "valid")
    return std::make_pair(int64_t{0}, int64_t{0});
  if (mode != "same")
    return error(layer) << "has padding '" << mode
                        << "'; supported: valid, same";
  // TensorFlow's SAME: the output has ceil(size / stride) positions, the
  // padding is split with the extra row or column at the bottom/right.
  int64_t out = (size + stride - 1) / stride;
  int64_t total = std::max<int64_t>(
      (out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return std::make_pair(total / 2, total - total / 2);
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

const llvm::StringMap<LayerConverter::LayerKind> &LayerConverter::kinds() {
  using C = LayerConverter;
  static const std::vector<StringRef> convFields = {
      "filters",       "kernel_size", "strides",    "padding", "data_format",
      "dilation_rate", "groups",      "activation", "use_bias"};
  static const std::vector<StringRef> depthwiseFields = {
      "kernel_size",   "strides",          "padding",    "data_format",
      "dilation_rate", "depth_multiplier", "activation", "use_bias"};
  static const std::vector<StringRef> separableFields = {
      "filters",          "kernel_size", "strides",
      "padding",          "data_format", "dilation_rate",
      "depth_multiplier", "activation",  "use_bias"};
  static const std::vector<StringRef> transposeFields = {
      "filters",       "kernel_size",    "strides",    "padding", "data_format",
      "dilation_rate", "output_padding", "activation", "use_bias"};
  static const std::vector<StringRef> poolFields = {"pool_size", "strides",
                                                    "padding", "data_format"};
  static const std::vector<StringRef> globalPoolFields = {"data_format",
                                                          "keepdims"};
  static const std::vector<StringRef> bnFields = {"axis",
                                                  "momentum",
                                                  "epsilon",
                                                  "center",
                                                  "scale",
                                                  "renorm",
                                                  "renorm_clipping",
                                                  "renorm_momentum",
                                                  "fused",
                                                  "virtual_batch_size",
                                                  "adjustment",
                                                  "synchronized"};
  static const std::vector<StringRef> dropoutFields = {"rate", "noise_shape",
                                                       "seed"};
  static const llvm::StringMap<LayerKind> table = {
      {"Conv2D", {&C::convertConv, convFields}},
      {"Conv1D", {&C::convertConv, convFields}},
      {"DepthwiseConv2D", {&C::convertDepthwise, depthwiseFields}},
      {"SeparableConv2D", {&C::convertDepthwise, separableFields}},
      {"Conv2DTranspose", {&C::convertConv2DTranspose, transposeFields}},
      {"Dense", {&C::convertDense, {"units", "activation", "use_bias"}}},
      {"BatchNormalization", {&C::convertBatchNorm, bnFields}},
      {"Activation", {&C::convertActivation, {"activation"}}},
      {"ReLU", {&C::convertReLU, {"max_value", "negative_slope", "threshold"}}},
      {"LeakyReLU", {&C::convertLeakyReLU, {"alpha", "negative_slope"}}},
      {"PReLU", {&C::convertPReLU, {"shared_axes"}}},
      {"Softmax", {&C::convertSoftmax, {"axis"}}},
      {"MaxPooling2D", {&C::convertPool<true>, poolFields}},
      {"AveragePooling2D", {&C::convertPool<false>, poolFields}},
      {"GlobalAveragePooling2D",
       {&C::convertGlobalPool<false>, globalPoolFields}},
      {"GlobalMaxPooling2D", {&C::convertGlobalPool<true>, globalPoolFields}},
      {"Add", {&C::convertMerge<AddOp>, {}, 1, true}},
      {"Subtract", {&C::convertMerge<SubOp>, {}, 2}},
      {"Multiply", {&C::convertMerge<MulOp>, {}, 1, true}},
      {"Average", {&C::convertAverage, {}, 1, true}},
      {"Maximum", {&C::convertMerge<MaxOp>, {}, 1, true}},
      {"Minimum", {&C::convertMerge<MinOp>, {}, 1, true}},
      {"Concatenate", {&C::convertConcatenate, {"axis"}, 1, true}},
      {"Flatten", {&C::convertFlatten, {"data_format"}}},
      {"Reshape", {&C::convertReshape, {"target_shape"}}},
      {"ZeroPadding2D", {&C::convertZeroPadding2D, {"padding", "data_format"}}},
      {"UpSampling2D",
       {&C::convertUpSampling2D, {"size", "data_format", "interpolation"}}},
      {"Dropout", {&C::convertDropout, dropoutFields}},
      {"SpatialDropout1D", {&C::convertDropout, dropoutFields}},
      {"SpatialDropout2D",
       {&C::convertDropout, {"rate", "data_format", "seed", "noise_shape"}}},
      {"GaussianNoise", {&C::convertIdentity, {"stddev", "seed"}}},
      {"GaussianDropout", {&C::convertIdentity, {"rate", "seed"}}},
      {"AlphaDropout", {&C::convertIdentity, dropoutFields}},
      {"ActivityRegularization", {&C::convertIdentity, {"l1", "l2"}}},
  };
  return table;
}

std::string LayerConverter::supportedLayerList() {
  std::vector<StringRef> names;
  for (const auto &entry : kinds())
    names.push_back(entry.first());
  names.push_back("InputLayer");
  llvm::sort(names);
  return llvm::join(names, ", ");
}

//===----------------------------------------------------------------------===//
// Convolutions and Dense
//===----------------------------------------------------------------------===//

FailureOr<std::pair<Value, bool>>
LayerConverter::channelsLastInput(const Layer &layer, Value v, int64_t rank) {
  FailureOr<Value> x = expectRank(layer, v, rank);
  FailureOr<bool> cf = channelsFirst(layer);
  if (failed(x) || failed(cf))
    return failure();
  if (!*cf)
    return std::make_pair(*x, false);
  SmallVector<int64_t> perm = {0};
  for (int64_t i = 2; i < rank; ++i)
    perm.push_back(i);
  perm.push_back(1);
  return std::make_pair(transpose(layer, *x, perm), true);
}

FailureOr<Value> LayerConverter::finishLayer(const Layer &layer, Value y,
                                             StringRef act, bool cf) {
  y = applyActivation(layer, y, act);
  if (y && cf) {
    int64_t rank = shapeOf(y).size();
    SmallVector<int64_t> perm = {0, rank - 1};
    for (int64_t i = 1; i < rank - 1; ++i)
      perm.push_back(i);
    y = transpose(layer, y, perm);
  }
  return checked(layer, y);
}

LogicalResult LayerConverter::appendBias(const Layer &layer,
                                         SmallVectorImpl<Value> &operands,
                                         unsigned index, int64_t size) {
  FailureOr<bool> useBias = getBool(layer, "use_bias", true);
  if (failed(useBias))
    return failure();
  if (*useBias) {
    FailureOr<const Weight *> b = weight(layer, "bias", index, {size});
    if (failed(b))
      return failure();
    operands.push_back(constant(layer, {size}, b.value()->data, "bias"));
  }
  return expectWeightCount(layer, index + (*useBias ? 1 : 0));
}

FailureOr<LayerConverter::ConvGeometry>
LayerConverter::convGeometry(const Layer &layer, Value nhwc,
                             size_t spatialDims) {
  ConvGeometry g;
  auto kernel = getInts(layer, "kernel_size", spatialDims, std::nullopt);
  auto strides = getInts(layer, "strides", spatialDims, 1);
  auto dilations = getInts(layer, "dilation_rate", spatialDims, 1);
  auto mode = getString(layer, "padding", std::string("valid"));
  if (failed(kernel) || failed(strides) || failed(dilations) || failed(mode))
    return failure();
  SmallVector<int64_t> shape = shapeOf(nhwc);
  // 1-D convolutions run as 2-D ones of height 1.
  size_t lead = 2 - spatialDims;
  g.kernel.assign(lead, 1);
  g.strides.assign(lead, 1);
  g.dilations.assign(lead, 1);
  g.pad.assign(2 * lead, 0);
  for (size_t i = 0; i < spatialDims; ++i) {
    int64_t k = (*kernel)[i], s = (*strides)[i], d = (*dilations)[i];
    FailureOr<std::pair<int64_t, int64_t>> p;
    if (*mode == "causal" && spatialDims == 1) {
      if (k < 1 || d < 1)
        return error(layer) << "has a kernel or dilation below 1";
      p = std::make_pair((k - 1) * d, int64_t{0});
    } else {
      p = padding(layer, *mode, shape[1 + lead + i], k, s, d);
    }
    if (failed(p))
      return failure();
    g.kernel.push_back(k);
    g.strides.push_back(s);
    g.dilations.push_back(d);
    g.pad.push_back(p->first);
    g.pad.push_back(p->second);
  }
  return g;
}

SmallVector<NamedAttribute>
LayerConverter::geometryAttrs(const ConvGeometry &g) {
  return {gb.attr("strides", ArrayRef<int64_t>(g.strides)),
          gb.attr("pad", ArrayRef<int64_t>(g.pad)),
          gb.attr("dilations", ArrayRef<int64_t>(g.dilations))};
}

FailureOr<Value> LayerConverter::convertConv(const Layer &layer,
                                             Values inputs) {
  // Conv1D ([N, W, C], kernel [KW, C/g, F]) runs as a Conv2D of height 1:
  // its kernel is the HWIO kernel [1, KW, C/g, F].
  bool oneD = layer.className == "Conv1D";
  auto in = channelsLastInput(layer, inputs[0], oneD ? 3 : 4);
  if (failed(in))
    return failure();
  auto [x, cf] = *in;
  SmallVector<int64_t> s = shapeOf(x);
  Value x4 = oneD ? reshape(layer, x, {s[0], 1, s[1], s[2]}) : x;
  FailureOr<ConvGeometry> g = convGeometry(layer, x4, oneD ? 1 : 2);
  FailureOr<int64_t> filters = getInt(layer, "filters", std::nullopt);
  FailureOr<int64_t> groups = getInt(layer, "groups", 1);
  FailureOr<std::string> act = activation(layer);
  if (failed(g) || failed(filters) || failed(groups) || failed(act))
    return failure();
  int64_t c = s.back(), f = *filters;
  if (*groups < 1 || c % *groups || f % *groups)
    return error(layer) << "has groups " << *groups
                        << ", which does not divide its " << c
                        << " input channels and " << f << " filters";
  SmallVector<int64_t> hwio = {g->kernel[0], g->kernel[1], c / *groups, f};
  FailureOr<const Weight *> w =
      weight(layer, "kernel", 0, ArrayRef<int64_t>(hwio).drop_front(oneD));
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {
      x4, constant(layer, {f, hwio[0], hwio[1], hwio[2]},
                   permute(w.value()->data, hwio, {3, 0, 1, 2}), "kernel")};
  if (failed(appendBias(layer, operands, 1, f)))
    return failure();
  SmallVector<NamedAttribute> attrs = geometryAttrs(*g);
  attrs.push_back(gb.attr("groups", *groups));
  Value y = gb.create<Conv2DOp>(gb.loc(layer.name), operands, attrs);
  if (y && oneD) {
    SmallVector<int64_t> o = shapeOf(y);
    y = reshape(layer, y, {o[0], o[2], o[3]});
  }
  return finishLayer(layer, y, *act, cf);
}

FailureOr<SmallVector<Value>>
LayerConverter::depthwiseOperands(const Layer &layer, Value x,
                                  int64_t multiplier, const ConvGeometry &g) {
  int64_t c = shapeOf(x)[3];
  SmallVector<int64_t> kshape = {g.kernel[0], g.kernel[1], c, multiplier};
  FailureOr<const Weight *> w = weight(layer, "depthwise_kernel", 0, kshape);
  if (failed(w))
    return failure();
  return SmallVector<Value>{
      x, constant(layer, {multiplier, kshape[0], kshape[1], c},
                  permute(w.value()->data, kshape, {3, 0, 1, 2}),
                  "depthwise_kernel")};
}

FailureOr<Value> LayerConverter::convertDepthwise(const Layer &layer,
                                                  Values inputs) {
  // SeparableConv2D: a depthwise convolution without bias, then a 1x1
  // convolution with the bias and the activation.
  bool separable = layer.className == "SeparableConv2D";
  auto in = channelsLastInput(layer, inputs[0], 4);
  if (failed(in))
    return failure();
  auto [x, cf] = *in;
  FailureOr<ConvGeometry> g = convGeometry(layer, x, 2);
  FailureOr<int64_t> m = getInt(layer, "depth_multiplier", 1);
  FailureOr<std::string> act = activation(layer);
  if (failed(g) || failed(m) || failed(act))
    return failure();
  auto operands = depthwiseOperands(layer, x, *m, *g);
  int64_t cm = shapeOf(x)[3] * *m;
  if (failed(operands) ||
      (!separable && failed(appendBias(layer, *operands, 1, cm))))
    return failure();
  Location loc = gb.loc(layer.name);
  Value y = gb.create<DepthwiseConv2DOp>(loc, *operands, geometryAttrs(*g));
  if (!separable || !y)
    return finishLayer(layer, y, *act, cf);
  FailureOr<int64_t> filters = getInt(layer, "filters", std::nullopt);
  if (failed(filters))
    return failure();
  SmallVector<int64_t> pshape = {1, 1, cm, *filters};
  FailureOr<const Weight *> pw = weight(layer, "pointwise_kernel", 1, pshape);
  if (failed(pw))
    return failure();
  SmallVector<Value> pointwise = {
      y, constant(layer, {*filters, 1, 1, cm},
                  permute(pw.value()->data, pshape, {3, 0, 1, 2}),
                  "pointwise_kernel")};
  if (failed(appendBias(layer, pointwise, 2, *filters)))
    return failure();
  return finishLayer(layer, gb.create<Conv2DOp>(loc, pointwise), *act, cf);
}

FailureOr<Value> LayerConverter::convertConv2DTranspose(const Layer &layer,
                                                        Values inputs) {
  auto in = channelsLastInput(layer, inputs[0], 4);
  if (failed(in))
    return failure();
  auto [x, cf] = *in;
  auto kernel = getInts(layer, "kernel_size", 2, std::nullopt);
  auto strides = getInts(layer, "strides", 2, 1);
  auto dilations = getInts(layer, "dilation_rate", 2, 1);
  auto mode = getString(layer, "padding", std::string("valid"));
  FailureOr<int64_t> filters = getInt(layer, "filters", std::nullopt);
  FailureOr<std::string> act = activation(layer);
  FailureOr<SmallVector<int64_t>> outputPadding =
      getInts(layer, "output_padding", 2, 0);
  if (failed(kernel) || failed(strides) || failed(dilations) || failed(mode) ||
      failed(filters) || failed(act) || failed(outputPadding))
    return failure();
  if (*mode != "valid" && *mode != "same")
    return error(layer) << "has padding '" << *mode
                        << "'; supported: valid, same";
  bool hasOutputPadding = field(layer, "output_padding") != nullptr;
  SmallVector<int64_t> s = shapeOf(x);
  // Keras's output size (deconv_output_length), then TensorFlow's
  // conv2d_transpose: the gradient of a convolution with that padding.
  ConvGeometry g{*kernel, *strides, *dilations, {}};
  SmallVector<int64_t> extra;
  for (int i = 0; i < 2; ++i) {
    int64_t h = s[1 + i], k = (*kernel)[i], st = (*strides)[i],
            d = (*dilations)[i];
    if (k < 1 || st < 1 || d < 1)
      return error(layer) << "has a kernel, stride or dilation below 1";
    int64_t dk = (k - 1) * d + 1, length;
    if (!hasOutputPadding)
      length =
          *mode == "valid" ? h * st + std::max<int64_t>(dk - st, 0) : h * st;
    else
      length = (h - 1) * st + dk - 2 * (*mode == "same" ? dk / 2 : 0) +
               (*outputPadding)[i];
    int64_t total = (h - 1) * st + dk - length;
    g.pad.append(
        {std::max<int64_t>(total, 0) / 2,
         std::max<int64_t>(total, 0) - std::max<int64_t>(total, 0) / 2});
    extra.push_back(std::max<int64_t>(-total, 0));
  }
  int64_t c = s[3];
  SmallVector<int64_t> kshape = {(*kernel)[0], (*kernel)[1], *filters, c};
  FailureOr<const Weight *> w = weight(layer, "kernel", 0, kshape);
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {
      x, constant(layer, {*filters, kshape[0], kshape[1], c},
                  permute(w.value()->data, kshape, {2, 0, 1, 3}), "kernel")};
  if (failed(appendBias(layer, operands, 1, *filters)))
    return failure();
  SmallVector<NamedAttribute> attrs = geometryAttrs(g);
  attrs.push_back(gb.attr("output_padding", ArrayRef<int64_t>(extra)));
  return finishLayer(
      layer, gb.create<TransposedConv2DOp>(gb.loc(layer.name), operands, attrs),
      *act, cf);
}

FailureOr<Value> LayerConverter::convertDense(const Layer &layer,
                                              Values inputs) {
  Value x = inputs[0];
  SmallVector<int64_t> s = shapeOf(x);
  FailureOr<int64_t> units = getInt(layer, "units", std::nullopt);
  FailureOr<std::string> act = activation(layer);
  if (failed(units) || failed(act))
    return failure();
  if (s.size() < 2)
    return error(layer) << "needs an input of rank 2 or more, got "
                        << formatShape(s);
  int64_t in = s.back();
  FailureOr<const Weight *> w = weight(layer, "kernel", 0, {in, *units});
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {
      x, constant(layer, {*units, in},
                  permute(w.value()->data, {in, *units}, {1, 0}), "kernel")};
  if (failed(appendBias(layer, operands, 1, *units)))
    return failure();
  // Dense on a higher-rank input applies to the last axis.
  if (s.size() > 2)
    operands[0] =
        reshape(layer, x, {product(ArrayRef<int64_t>(s).drop_back()), in});
  Value y = gb.create<InnerProductOp>(gb.loc(layer.name), operands);
  if (y && s.size() > 2) {
    SmallVector<int64_t> out(s);
    out.back() = *units;
    y = reshape(layer, y, out);
  }
  return checked(layer, applyActivation(layer, y, *act));
}

//===----------------------------------------------------------------------===//
// Normalisation and activations
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerConverter::convertBatchNorm(const Layer &layer,
                                                  Values inputs) {
  Value x = inputs[0];
  int64_t rank = shapeOf(x).size();
  // axis: an int, or a one-element list (tf.keras 2.x).
  int64_t axis = -1;
  if (const json::Value *v = field(layer, "axis")) {
    const json::Array *a = v->getAsArray();
    std::optional<int64_t> i =
        a ? (a->size() == 1 ? (*a)[0].getAsInteger() : std::nullopt)
          : v->getAsInteger();
    if (!i)
      return error(layer) << "normalises over axes "
                          << "other than one "
                          << "axis, which is not supported";
    axis = *i;
  }
  if (axis < 0)
    axis += rank;
  bool channelsFirst4D = rank == 4 && axis == 1;
  if (axis != rank - 1 && !channelsFirst4D)
    return error(layer) << "normalises axis " << axis << " of a " << rank
                        << "-D input; supported: the last axis, or axis 1 of "
                           "a 4-D input";
  FailureOr<bool> renorm = getBool(layer, "renorm", false);
  if (failed(renorm))
    return failure();
  if (*renorm || field(layer, "adjustment"))
    return error(layer) << "uses renorm or adjustment, which is not supported";
  FailureOr<bool> center = getBool(layer, "center", true);
  FailureOr<bool> scale = getBool(layer, "scale", true);
  FailureOr<double> eps = getFloat(layer, "epsilon", 1e-3);
  if (failed(center) || failed(scale) || failed(eps))
    return failure();
  int64_t c = shapeOf(x)[axis];
  unsigned index = 0;
  std::vector<float> gamma(c, 1.0f), beta(c, 0.0f);
  if (*scale) {
    FailureOr<const Weight *> w = weight(layer, "gamma", index++, {c});
    if (failed(w))
      return failure();
    gamma = w.value()->data;
  }
  if (*center) {
    FailureOr<const Weight *> w = weight(layer, "beta", index++, {c});
    if (failed(w))
      return failure();
    beta = w.value()->data;
  }
  FailureOr<const Weight *> mean = weight(layer, "moving_mean", index++, {c});
  if (failed(mean))
    return failure();
  FailureOr<const Weight *> var =
      weight(layer, "moving_variance", index++, {c});
  if (failed(var) || failed(expectWeightCount(layer, index)))
    return failure();
  Value in = channelsFirst4D ? transpose(layer, x, {0, 2, 3, 1}) : x;
  Value y = gb.create<BatchNormOp>(
      gb.loc(layer.name),
      {in, constant(layer, {c}, mean.value()->data, "moving_mean"),
       constant(layer, {c}, var.value()->data, "moving_variance"),
       constant(layer, {c}, gamma, "gamma"),
       constant(layer, {c}, beta, "beta")},
      {gb.attr("epsilon", static_cast<float>(*eps))});
  if (channelsFirst4D)
    y = transpose(layer, y, {0, 3, 1, 2});
  return checked(layer, y);
}

FailureOr<Value> LayerConverter::convertActivation(const Layer &layer,
                                                   Values inputs) {
  FailureOr<std::string> act = activation(layer);
  if (failed(act))
    return failure();
  if (*act == "linear")
    return inputs[0];
  return checked(layer, applyActivation(layer, inputs[0], *act));
}

FailureOr<Value> LayerConverter::convertReLU(const Layer &layer,
                                             Values inputs) {
  const json::Value *maxField = field(layer, "max_value");
  FailureOr<double> maxValue = getFloat(layer, "max_value", 0.0);
  FailureOr<double> slope = getFloat(layer, "negative_slope", 0.0);
  FailureOr<double> threshold = getFloat(layer, "threshold", 0.0);
  if (failed(maxValue) || failed(slope) || failed(threshold))
    return failure();
  if (*threshold != 0.0)
    return error(layer) << "has threshold " << *threshold
                        << "; only threshold 0 is supported";
  if (maxField && *maxValue < 0.0)
    return error(layer) << "has a negative max_value";
  Location loc = gb.loc(layer.name);
  Value x = inputs[0], y;
  if (*slope == 0.0 && maxField && *maxValue == 6.0)
    return checked(layer, gb.create<Relu6Op>(loc, x));
  if (*slope == 0.0 && !maxField)
    return checked(layer, gb.create<ReluOp>(loc, x));
  if (*slope == 0.0)
    return checked(layer, gb.create<ClipOp>(
                              loc, x,
                              {gb.attr("min", 0.0f),
                               gb.attr("max", static_cast<float>(*maxValue))}));
  y = gb.create<LeakyReluOp>(loc, x,
                             {gb.attr("alpha", static_cast<float>(*slope))});
  if (y && maxField)
    y = gb.create<ClipOp>(loc, y,
                          {gb.attr("min", -FLT_MAX),
                           gb.attr("max", static_cast<float>(*maxValue))});
  return checked(layer, y);
}

FailureOr<Value> LayerConverter::convertLeakyReLU(const Layer &layer,
                                                  Values inputs) {
  // Keras 2 calls the slope alpha, Keras 3 negative_slope; both default 0.3.
  FailureOr<double> alpha = getFloat(
      layer, field(layer, "negative_slope") ? "negative_slope" : "alpha", 0.3);
  if (failed(alpha))
    return failure();
  return checked(layer, gb.create<LeakyReluOp>(
                            gb.loc(layer.name), inputs[0],
                            {gb.attr("alpha", static_cast<float>(*alpha))}));
}

FailureOr<Value> LayerConverter::convertPReLU(const Layer &layer,
                                              Values inputs) {
  Value x = inputs[0];
  SmallVector<int64_t> s = shapeOf(x);
  if (s.size() < 2)
    return error(layer) << "needs an input of rank 2 or more";
  // alpha has the input's shape without the batch, 1 on shared axes.
  SmallVector<int64_t> ashape(s.begin() + 1, s.end());
  if (const json::Value *v = field(layer, "shared_axes")) {
    SmallVector<int64_t> axes;
    if (std::optional<int64_t> i = v->getAsInteger())
      axes.push_back(*i);
    else if (const json::Array *a = v->getAsArray())
      for (const json::Value &e : *a)
        if (std::optional<int64_t> i = e.getAsInteger())
          axes.push_back(*i);
    for (int64_t a : axes) {
      if (a < 1 || a >= static_cast<int64_t>(s.size()))
        return error(layer) << "has shared axis " << a << " out of range";
      ashape[a - 1] = 1;
    }
  }
  FailureOr<const Weight *> w = weight(layer, "alpha", 0, ashape);
  if (failed(w) || failed(expectWeightCount(layer, 1)))
    return failure();
  Location loc = gb.loc(layer.name);
  if (product(ArrayRef<int64_t>(ashape).drop_back()) == 1) {
    // One slope per channel (or one for all): vai.prelu.
    int64_t n = ashape.back();
    return checked(
        layer, gb.create<PReluOp>(
                   loc, {x, constant(layer, {n}, w.value()->data, "alpha")}));
  }
  // A slope per position: max(x, 0) + alpha * min(x, 0).
  Value zero = gb.scalarConstant(loc, 0.0f);
  SmallVector<int64_t> bshape = {1};
  bshape.append(ashape.begin(), ashape.end());
  Value alpha = constant(layer, bshape, w.value()->data, "alpha");
  Value pos = gb.create<MaxOp>(loc, {x, zero});
  Value neg = gb.create<MinOp>(loc, {x, zero});
  Value scaled = neg ? gb.create<MulOp>(loc, {neg, alpha}) : Value();
  return checked(layer, pos && scaled ? gb.create<AddOp>(loc, {pos, scaled})
                                      : Value());
}

FailureOr<Value> LayerConverter::convertSoftmax(const Layer &layer,
                                                Values inputs) {
  FailureOr<int64_t> axis = getAxis(layer, inputs[0]);
  if (failed(axis))
    return failure();
  return checked(layer, gb.create<SoftmaxOp>(gb.loc(layer.name), inputs[0],
                                             {gb.attr("axis", *axis)}));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

template <bool Max>
FailureOr<Value> LayerConverter::convertPool(const Layer &layer,
                                             Values inputs) {
  auto in = channelsLastInput(layer, inputs[0], 4);
  auto pool = getInts(layer, "pool_size", 2, 2);
  if (failed(in) || failed(pool))
    return failure();
  auto [x, cf] = *in;
  // strides None means the pool size.
  auto strides = field(layer, "strides")
                     ? getInts(layer, "strides", 2, std::nullopt)
                     : pool;
  auto mode = getString(layer, "padding", std::string("valid"));
  if (failed(strides) || failed(mode))
    return failure();
  SmallVector<int64_t> s = shapeOf(x), pad;
  for (int i = 0; i < 2; ++i) {
    auto p = padding(layer, *mode, s[1 + i], (*pool)[i], (*strides)[i], 1);
    if (failed(p))
      return failure();
    pad.append({p->first, p->second});
  }
  SmallVector<NamedAttribute> attrs = {gb.attr("kernel", ArrayRef(*pool)),
                                       gb.attr("strides", ArrayRef(*strides)),
                                       gb.attr("pad", ArrayRef(pad))};
  Location loc = gb.loc(layer.name);
  Value y;
  if (Max) {
    y = gb.create<MaxPool2DOp>(loc, x, attrs);
  } else {
    // Keras averages over the in-bounds elements only.
    attrs.push_back(gb.attr("count_include_pad", false));
    y = gb.create<AvgPool2DOp>(loc, x, attrs);
  }
  return finishLayer(layer, y, "linear", cf);
}

template <bool Max>
FailureOr<Value> LayerConverter::convertGlobalPool(const Layer &layer,
                                                   Values inputs) {
  auto in = channelsLastInput(layer, inputs[0], 4);
  FailureOr<bool> keepdims = getBool(layer, "keepdims", false);
  if (failed(in) || failed(keepdims))
    return failure();
  auto [x, cf] = *in;
  Location loc = gb.loc(layer.name);
  Value y = Max ? gb.create<GlobalMaxPool2DOp>(loc, x)
                : gb.create<GlobalAvgPool2DOp>(loc, x);
  // [N, 1, 1, C] -> Keras's [N, C] (or [N, C, 1, 1] for channels_first).
  SmallVector<int64_t> s = shapeOf(x);
  if (!*keepdims)
    y = reshape(layer, y, {s[0], s[3]});
  else if (cf)
    y = reshape(layer, y, {s[0], s[3], 1, 1});
  return checked(layer, y);
}

//===----------------------------------------------------------------------===//
// Merges
//===----------------------------------------------------------------------===//

template <typename OpTy>
FailureOr<Value> LayerConverter::convertMerge(const Layer &layer,
                                              Values inputs) {
  Value acc = inputs[0];
  for (Value v : inputs.drop_front())
    if (acc)
      acc = gb.create<OpTy>(gb.loc(layer.name), {acc, v});
  return checked(layer, acc);
}

FailureOr<Value> LayerConverter::convertAverage(const Layer &layer,
                                                Values inputs) {
  FailureOr<Value> sum = convertMerge<AddOp>(layer, inputs);
  if (failed(sum))
    return failure();
  Location loc = gb.loc(layer.name);
  Value scale = gb.scalarConstant(loc, 1.0f / inputs.size());
  return checked(layer, gb.create<MulOp>(loc, {*sum, scale}));
}

FailureOr<Value> LayerConverter::convertConcatenate(const Layer &layer,
                                                    Values inputs) {
  FailureOr<int64_t> axis = getAxis(layer, inputs[0]);
  if (failed(axis))
    return failure();
  return checked(layer, gb.create<ConcatOp>(gb.loc(layer.name), inputs,
                                            {gb.attr("axis", *axis)}));
}

//===----------------------------------------------------------------------===//
// Shape layers
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerConverter::convertFlatten(const Layer &layer,
                                                Values inputs) {
  FailureOr<bool> cf = channelsFirst(layer);
  if (failed(cf))
    return failure();
  Value x = inputs[0];
  int64_t rank = shapeOf(x).size();
  // channels_first: Keras moves the channels last before flattening.
  if (*cf && rank >= 3) {
    SmallVector<int64_t> perm = {0};
    for (int64_t i = 2; i < rank; ++i)
      perm.push_back(i);
    perm.push_back(1);
    x = transpose(layer, x, perm);
  }
  if (!x)
    return checked(layer, x);
  return checked(layer, gb.create<FlattenOp>(gb.loc(layer.name), x,
                                             {gb.attr("axis", int64_t{1})}));
}

FailureOr<Value> LayerConverter::convertReshape(const Layer &layer,
                                                Values inputs) {
  SmallVector<int64_t> s = shapeOf(inputs[0]);
  const json::Value *v = field(layer, "target_shape");
  const json::Array *a = v ? v->getAsArray() : nullptr;
  if (!a)
    return error(layer) << "has no target_shape list";
  SmallVector<int64_t> shape = {s[0]};
  int64_t known = 1, infer = -1;
  for (const json::Value &e : *a) {
    std::optional<int64_t> d = e.getAsInteger();
    if (!d || *d == 0 || *d < -1 || (*d == -1 && infer >= 0))
      return error(layer) << "has a malformed target_shape";
    if (*d == -1)
      infer = shape.size();
    else
      known *= *d;
    shape.push_back(*d);
  }
  int64_t count = product(ArrayRef<int64_t>(s).drop_front());
  if (infer >= 0 && known && count % known == 0)
    shape[infer] = count / known;
  if (product(ArrayRef<int64_t>(shape).drop_front()) != count)
    return error(layer) << "reshapes " << formatShape(s) << " to "
                        << formatShape(shape) << ": the sizes differ";
  return checked(layer, reshape(layer, inputs[0], shape));
}

FailureOr<Value> LayerConverter::convertZeroPadding2D(const Layer &layer,
                                                      Values inputs) {
  FailureOr<Value> x = expectRank(layer, inputs[0], 4);
  FailureOr<bool> cf = channelsFirst(layer);
  if (failed(x) || failed(cf))
    return failure();
  // padding: int, [h, w], or [[top, bottom], [left, right]].
  SmallVector<int64_t> pad; // top, bottom, left, right
  const json::Value *v = field(layer, "padding");
  if (!v) {
    pad.assign(4, 1);
  } else if (std::optional<int64_t> i = v->getAsInteger()) {
    pad.assign(4, *i);
  } else if (const json::Array *a = v->getAsArray(); a && a->size() == 2) {
    for (const json::Value &e : *a) {
      if (std::optional<int64_t> i = e.getAsInteger()) {
        pad.append({*i, *i});
      } else if (const json::Array *p = e.getAsArray(); p && p->size() == 2) {
        for (const json::Value &q : *p)
          if (std::optional<int64_t> j = q.getAsInteger())
            pad.push_back(*j);
      }
    }
  }
  if (pad.size() != 4 || llvm::any_of(pad, [](int64_t p) { return p < 0; }))
    return error(layer) << "has a malformed padding";
  int64_t h = *cf ? 2 : 1;
  SmallVector<int64_t> low(4, 0), high(4, 0);
  low[h] = pad[0];
  high[h] = pad[1];
  low[h + 1] = pad[2];
  high[h + 1] = pad[3];
  return checked(layer, gb.create<PadOp>(gb.loc(layer.name), *x,
                                         {gb.attr("low", ArrayRef(low)),
                                          gb.attr("high", ArrayRef(high))}));
}

FailureOr<Value> LayerConverter::convertUpSampling2D(const Layer &layer,
                                                     Values inputs) {
  auto in = channelsLastInput(layer, inputs[0], 4);
  auto size = getInts(layer, "size", 2, 2);
  auto interpolation =
      getString(layer, "interpolation", std::string("nearest"));
  if (failed(in) || failed(size) || failed(interpolation))
    return failure();
  auto [x, cf] = *in;
  if (*interpolation != "nearest")
    return error(layer) << "has interpolation '" << *interpolation
                        << "'; only nearest is supported";
  if ((*size)[0] < 1 || (*size)[1] < 1)
    return error(layer) << "has a size below 1";
  SmallVector<int64_t> s = shapeOf(x);
  SmallVector<int64_t> out = {s[1] * (*size)[0], s[2] * (*size)[1]};
  // Integer factors: output row y reads input row floor(y / factor).
  Value y = gb.create<ResizeOp>(gb.loc(layer.name), x,
                                {gb.attr("size", ArrayRef(out))});
  return finishLayer(layer, y, "linear", cf);
}

FailureOr<Value> LayerConverter::convertDropout(const Layer &layer,
                                                Values inputs) {
  FailureOr<double> rate = getFloat(layer, "rate", 0.5);
  if (failed(rate))
    return failure();
  return checked(layer, gb.create<DropoutOp>(
                            gb.loc(layer.name), inputs[0],
                            {gb.attr("ratio", static_cast<float>(*rate))}));
}

FailureOr<Value> LayerConverter::convertIdentity(const Layer &, Values inputs) {
  // Noise and regularisation layers do nothing at inference.
  return inputs[0];
}

} // namespace vai::import::keras
