//===- VaiOps.cpp - vai dialect operations --------------------------------===//
//
// Shape inference and verification. Each inferReturnTypes both computes the
// result type and checks the operands and attributes, emitting a diagnostic
// at the op's location when something is wrong; the InferTypeOpInterface
// verifier then checks the written result type against the inferred one.
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::vai;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
using Loc = std::optional<Location>;

/// Where an inference diagnostic goes: the op's location (none when called
/// from a builder) and its name, so every message names the op.
struct Where {
  Loc loc;
  StringRef opName;
};

/// Emits "'<op>' op <args>" at `where` (when it has a location) and returns
/// failure.
template <typename... Args>
LogicalResult fail(const Where &where, Args &&...args) {
  return emitOptionalError(where.loc, "'", where.opName, "' op ",
                           std::forward<Args>(args)...);
}

/// Shape of a ranked tensor operand, checking its rank when `rank` >= 0.
FailureOr<ArrayRef<int64_t>> shapeOf(const Where &loc, Value v, StringRef what,
                                     int64_t rank = -1) {
  auto type = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
  if (!type)
    return fail(loc, what, " must be a ranked tensor");
  if (rank >= 0 && type.getRank() != rank)
    return fail(loc, what, " must have rank ", rank, ", got ", type);
  return type.getShape();
}

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// Checks that `values` has `size` entries, each at least `min`.
LogicalResult checkArray(const Where &loc, ArrayRef<int64_t> values,
                         size_t size, int64_t min, StringRef name) {
  if (values.size() != size)
    return fail(loc, "'", name, "' must have ", size, " entries, got ",
                values.size());
  for (int64_t v : values)
    if (v < min)
      return fail(loc, "'", name, "' entries must be >= ", min, ", got ", v);
  return success();
}

/// A per-channel parameter: rank 1 with `channels` entries.
LogicalResult checkChannelParam(const Where &loc, Value v, int64_t channels,
                                StringRef name) {
  auto shape = shapeOf(loc, v, name, 1);
  if (failed(shape))
    return failure();
  if ((*shape)[0] != channels)
    return fail(loc, name, " must have ", channels, " entries (one per ",
                "channel), got ", (*shape)[0]);
  return success();
}

LogicalResult inferAs(SmallVectorImpl<Type> &results, ArrayRef<int64_t> shape,
                      Type elementType) {
  results.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

LogicalResult checkAxes(const Where &loc, ArrayRef<int64_t> axes, int64_t rank,
                        StringRef name) {
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t a : axes) {
    if (a < 0 || a >= rank)
      return fail(loc, "'", name, "' entry ", a, " is out of range for rank ",
                  rank);
    if (!seen.insert(a).second)
      return fail(loc, "'", name, "' lists axis ", a, " twice");
  }
  return success();
}

/// Spatial geometry shared by conv2d, depthwise_conv2d, transposed_conv2d.
LogicalResult checkConvGeometry(const Where &loc, ArrayRef<int64_t> strides,
                                ArrayRef<int64_t> pad,
                                ArrayRef<int64_t> dilations) {
  if (failed(checkArray(loc, strides, 2, 1, "strides")) ||
      failed(checkArray(loc, pad, 4, 0, "pad")) ||
      failed(checkArray(loc, dilations, 2, 1, "dilations")))
    return failure();
  return success();
}

/// Output [N, OH, OW, OC] of a forward convolution.
LogicalResult inferConvOutput(const Where &loc, ArrayRef<int64_t> in,
                              int64_t kh, int64_t kw, int64_t oc,
                              ArrayRef<int64_t> strides, ArrayRef<int64_t> pad,
                              ArrayRef<int64_t> dil, Type elementType,
                              SmallVectorImpl<Type> &results) {
  int64_t oh = convOutputSize(in[1], kh, strides[0], pad[0], pad[1], dil[0]);
  int64_t ow = convOutputSize(in[2], kw, strides[1], pad[2], pad[3], dil[1]);
  if (oh < 1 || ow < 1)
    return fail(loc, "the ", kh, "x", kw, " kernel (dilated) does not fit the ",
                in[1], "x", in[2], " padded input");
  return inferAs(results, {in[0], oh, ow, oc}, elementType);
}

/// `groups` divides both channel counts of a grouped (transposed) conv.
LogicalResult checkGroups(const Where &loc, int64_t groups, int64_t ic,
                          int64_t oc) {
  if (groups < 1 || ic % groups != 0 || oc % groups != 0)
    return fail(loc, "groups (", groups, ") must divide the input channels (",
                ic, ") and the output channels (", oc, ")");
  return success();
}

LogicalResult checkOptionalBias(const Where &loc, Value bias,
                                int64_t channels) {
  return bias ? checkChannelParam(loc, bias, channels, "bias") : success();
}

} // namespace

int64_t mlir::vai::convOutputSize(int64_t in, int64_t k, int64_t stride,
                                  int64_t padA, int64_t padB, int64_t dil) {
  int64_t span = in + padA + padB - dil * (k - 1) - 1;
  if (span < 0)
    return 0;
  return span / stride + 1;
}

int64_t mlir::vai::poolOutputSize(int64_t in, int64_t k, int64_t stride,
                                  int64_t padA, int64_t padB, bool ceilMode) {
  int64_t span = in + padA + padB - k;
  if (span < 0)
    return 0;
  if (!ceilMode)
    return span / stride + 1;
  int64_t out = (span + stride - 1) / stride + 1;
  // The last window must start inside the input or the leading padding.
  if ((out - 1) * stride >= in + padA)
    --out;
  return out;
}

FailureOr<SmallVector<int64_t>>
mlir::vai::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return failure();
    out[i] = da == 1 ? db : da;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto value = dyn_cast_or_null<ElementsAttr>(adaptor.getValue());
  if (!value)
    return fail(loc, "'value' must be an elements attribute");
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return fail(loc, "'value' must have a statically shaped tensor type");
  results.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

ConstantOp mlir::vai::createConstant(OpBuilder &builder, Location loc,
                                     RankedTensorType type,
                                     ArrayRef<char> rawData,
                                     StringRef nameHint) {
  ElementsAttr value;
  if (rawData.size() > 256) {
    unsigned align = type.getElementTypeBitWidth() / 8;
    value = DenseResourceElementsAttr::get(
        type, nameHint,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(rawData,
                                                      std::max(align, 1u)));
  } else {
    value = DenseElementsAttr::getFromRawBuffer(type, rawData);
  }
  return ConstantOp::create(builder, loc, type, value);
}

ConstantOp mlir::vai::createF32Constant(OpBuilder &builder, Location loc,
                                        ArrayRef<int64_t> shape,
                                        ArrayRef<float> data,
                                        StringRef nameHint) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  return createConstant(
      builder, loc, type,
      ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                     data.size() * sizeof(float)),
      nameHint);
}

std::optional<std::vector<float>> mlir::vai::getConstantF32(Value v) {
  auto constant = v ? v.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant || !constant.getType().getElementType().isF32())
    return std::nullopt;
  int64_t n = constant.getType().getNumElements();
  ElementsAttr value = constant.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != n * sizeof(float))
      return std::nullopt;
    std::vector<float> out(n);
    std::memcpy(out.data(), blob->getData().data(), n * sizeof(float));
    return out;
  }
  return std::nullopt;
}

bool mlir::vai::avgPoolDividesByFullWindow(AvgPool2DOp op) {
  auto in = op.getInput().getType().getShape();
  auto out = op.getOutput().getType().getShape();
  ArrayRef<int64_t> k = op.getKernel(), s = op.getStrides(), p = op.getPad();
  bool padded = llvm::any_of(p, [](int64_t v) { return v != 0; });
  if (padded && !op.getCountIncludePad())
    return false;
  // The last window must end inside the padded input.
  return (out[1] - 1) * s[0] - p[0] + k[0] <= in[1] + p[1] &&
         (out[2] - 1) * s[1] - p[2] + k[1] <= in[2] + p[3];
}

std::pair<int64_t, int64_t> mlir::vai::fixRange(FixOp fix) {
  int64_t hi =
      (int64_t(1) << (static_cast<int64_t>(fix.getBitWidth()) - 1)) - 1;
  return {fix.getSymmetric() ? -hi : -hi - 1, hi};
}

std::optional<QuantizedOp> mlir::vai::getQuantizedOp(Operation *op) {
  if (isa<FixOp, ConstantOp>(op) || op->getNumResults() != 1 ||
      op->getNumOperands() == 0 || !op->getResult(0).hasOneUse())
    return std::nullopt;
  QuantizedOp q;
  q.output = dyn_cast<FixOp>(*op->getResult(0).getUsers().begin());
  if (!q.output)
    return std::nullopt;
  for (Value v : op->getOperands()) {
    auto fix = v.getDefiningOp<FixOp>();
    if (!fix)
      return std::nullopt;
    q.operands.push_back(fix);
  }
  return q;
}

//===----------------------------------------------------------------------===//
// Convolutions and products
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input", 4);
  auto w = shapeOf(loc, adaptor.getWeight(), "weight", 4);
  if (failed(in) || failed(w) ||
      failed(checkConvGeometry(loc, adaptor.getStrides(), adaptor.getPad(),
                               adaptor.getDilations())))
    return failure();
  int64_t groups = adaptor.getGroups();
  int64_t ic = (*in)[3], oc = (*w)[0];
  if (failed(checkGroups(loc, groups, ic, oc)))
    return failure();
  if ((*w)[3] != ic / groups)
    return fail(loc, "weight must be [OC, KH, KW, IC/groups] = [", oc, ", ",
                (*w)[1], ", ", (*w)[2], ", ", ic / groups, "], got [", oc, ", ",
                (*w)[1], ", ", (*w)[2], ", ", (*w)[3], "]");
  if (failed(checkOptionalBias(loc, adaptor.getBias(), oc)))
    return failure();
  return inferConvOutput(loc, *in, (*w)[1], (*w)[2], oc, adaptor.getStrides(),
                         adaptor.getPad(), adaptor.getDilations(),
                         elementTypeOf(adaptor.getInput()), results);
}

LogicalResult
DepthwiseConv2DOp::inferReturnTypes(MLIRContext *, Loc optLoc, Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input", 4);
  auto w = shapeOf(loc, adaptor.getWeight(), "weight", 4);
  if (failed(in) || failed(w) ||
      failed(checkConvGeometry(loc, adaptor.getStrides(), adaptor.getPad(),
                               adaptor.getDilations())))
    return failure();
  int64_t c = (*in)[3], m = (*w)[0];
  if ((*w)[3] != c)
    return fail(loc, "weight must be [M, KH, KW, C] with C = ", c,
                " input channels, got ", (*w)[3], " in the last dimension");
  if (failed(checkOptionalBias(loc, adaptor.getBias(), c * m)))
    return failure();
  return inferConvOutput(
      loc, *in, (*w)[1], (*w)[2], c * m, adaptor.getStrides(), adaptor.getPad(),
      adaptor.getDilations(), elementTypeOf(adaptor.getInput()), results);
}

LogicalResult
TransposedConv2DOp::inferReturnTypes(MLIRContext *, Loc optLoc, Adaptor adaptor,
                                     SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input", 4);
  auto w = shapeOf(loc, adaptor.getWeight(), "weight", 4);
  ArrayRef<int64_t> strides = adaptor.getStrides(), pad = adaptor.getPad(),
                    dil = adaptor.getDilations(),
                    outPad = adaptor.getOutputPadding();
  if (failed(in) || failed(w) ||
      failed(checkConvGeometry(loc, strides, pad, dil)) ||
      failed(checkArray(loc, outPad, 2, 0, "output_padding")))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (outPad[i] >= std::max(strides[i], dil[i]))
      return fail(loc, "output_padding must be smaller than the stride or ",
                  "the dilation");
  int64_t groups = adaptor.getGroups();
  int64_t ic = (*in)[3], oc = (*w)[0];
  if (failed(checkGroups(loc, groups, ic, oc)))
    return failure();
  if ((*w)[3] != ic / groups)
    return fail(loc, "weight must be [OC, KH, KW, IC/groups] with IC/groups = ",
                ic / groups, ", got ", (*w)[3], " in the last dimension");
  if (failed(checkOptionalBias(loc, adaptor.getBias(), oc)))
    return failure();
  int64_t size[2];
  for (int i = 0; i < 2; ++i) {
    size[i] = ((*in)[1 + i] - 1) * strides[i] - pad[2 * i] - pad[2 * i + 1] +
              dil[i] * ((*w)[1 + i] - 1) + 1 + outPad[i];
    if (size[i] < 1)
      return fail(loc, "the padding crops the whole output");
  }
  return inferAs(results, {(*in)[0], size[0], size[1], oc},
                 elementTypeOf(adaptor.getInput()));
}

LogicalResult InnerProductOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input", 2);
  auto w = shapeOf(loc, adaptor.getWeight(), "weight", 2);
  if (failed(in) || failed(w))
    return failure();
  if ((*w)[1] != (*in)[1])
    return fail(loc, "weight must be [O, I] with I = ", (*in)[1],
                " input features, got ", (*w)[1]);
  if (failed(checkOptionalBias(loc, adaptor.getBias(), (*w)[0])))
    return failure();
  return inferAs(results, {(*in)[0], (*w)[0]},
                 elementTypeOf(adaptor.getInput()));
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto a = shapeOf(loc, adaptor.getLhs(), "lhs");
  auto b = shapeOf(loc, adaptor.getRhs(), "rhs");
  if (failed(a) || failed(b))
    return failure();
  if (a->size() < 2 || b->size() < 2)
    return fail(loc, "operands must have rank >= 2");
  if (a->back() != (*b)[b->size() - 2])
    return fail(loc, "contracting dimensions differ: lhs has K = ", a->back(),
                ", rhs has K = ", (*b)[b->size() - 2]);
  ArrayRef<int64_t> batchA = a->drop_back(2), batchB = b->drop_back(2);
  if (!batchA.empty() && !batchB.empty() && batchA != batchB)
    return fail(loc, "batch dimensions must be equal, or one operand must "
                     "have rank 2");
  SmallVector<int64_t> shape(batchA.empty() ? batchB : batchA);
  shape.push_back((*a)[a->size() - 2]);
  shape.push_back(b->back());
  return inferAs(results, shape, elementTypeOf(adaptor.getLhs()));
}

//===----------------------------------------------------------------------===//
// Per-channel ops
//===----------------------------------------------------------------------===//

/// Input of rank >= 1 whose last dimension is the channel count; infers the
/// input's type and returns the channel count.
static FailureOr<int64_t> inferChannelwise(const Where &loc, Value input,
                                           SmallVectorImpl<Type> &results) {
  auto in = shapeOf(loc, input, "input");
  if (failed(in))
    return failure();
  if (in->empty())
    return fail(loc, "input must have rank >= 1 (channels last)");
  results.push_back(input.getType());
  return in->back();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto c = inferChannelwise(loc, adaptor.getInput(), results);
  if (failed(c) ||
      failed(checkChannelParam(loc, adaptor.getMean(), *c, "mean")) ||
      failed(checkChannelParam(loc, adaptor.getVariance(), *c, "variance")) ||
      failed(checkChannelParam(loc, adaptor.getScale(), *c, "scale")) ||
      failed(checkChannelParam(loc, adaptor.getOffset(), *c, "offset")))
    return failure();
  if (!(adaptor.getEpsilon().convertToFloat() >= 0.0f))
    return fail(loc, "epsilon must be >= 0");
  return success();
}

LogicalResult ScaleOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto c = inferChannelwise(loc, adaptor.getInput(), results);
  if (failed(c) ||
      failed(checkChannelParam(loc, adaptor.getScale(), *c, "scale")) ||
      failed(checkOptionalBias(loc, adaptor.getBias(), *c)))
    return failure();
  return success();
}

LogicalResult BiasAddOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto c = inferChannelwise(loc, adaptor.getInput(), results);
  if (failed(c) ||
      failed(checkChannelParam(loc, adaptor.getBias(), *c, "bias")))
    return failure();
  return success();
}

LogicalResult PReluOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto c = inferChannelwise(loc, adaptor.getInput(), results);
  if (failed(c))
    return failure();
  auto slope = shapeOf(loc, adaptor.getSlope(), "slope", 1);
  if (failed(slope))
    return failure();
  if ((*slope)[0] != *c && (*slope)[0] != 1)
    return fail(loc, "slope must have 1 or ", *c, " entries, got ",
                (*slope)[0]);
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult LeakyReluOp::verify() {
  if (!std::isfinite(getAlpha().convertToFloat()))
    return emitOpError("alpha must be finite");
  return success();
}

LogicalResult ClipOp::verify() {
  float lo = getMin().convertToFloat(), hi = getMax().convertToFloat();
  if (!(lo <= hi))
    return emitOpError("min (") << lo << ") must not exceed max (" << hi << ")";
  return success();
}

LogicalResult FixOp::verify() {
  // I64Attr getters return uint64_t: read them as signed.
  int64_t bits = static_cast<int64_t>(getBitWidth());
  int64_t fixPoint = static_cast<int64_t>(getFixPoint());
  if (bits < 2 || bits > 16)
    return emitOpError("bit_width must be in [2, 16], got ") << bits;
  // Keeps 2^fix_point exact and every scaled float32 finite in double.
  if (fixPoint < -64 || fixPoint > 64)
    return emitOpError("fix_point must be in [-64, 64], got ") << fixPoint;
  return success();
}

LogicalResult DropoutOp::verify() {
  float ratio = getRatio().convertToFloat();
  if (!(ratio >= 0.0f && ratio < 1.0f))
    return emitOpError("ratio must be in [0, 1), got ") << ratio;
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

template <typename AdaptorT>
static LogicalResult inferPool(const Where &loc, AdaptorT adaptor,
                               SmallVectorImpl<Type> &results) {
  auto in = shapeOf(loc, adaptor.getInput(), "input", 4);
  ArrayRef<int64_t> k = adaptor.getKernel(), s = adaptor.getStrides(),
                    pad = adaptor.getPad();
  if (failed(in) || failed(checkArray(loc, k, 2, 1, "kernel")) ||
      failed(checkArray(loc, s, 2, 1, "strides")) ||
      failed(checkArray(loc, pad, 4, 0, "pad")))
    return failure();
  if (pad[0] >= k[0] || pad[1] >= k[0] || pad[2] >= k[1] || pad[3] >= k[1])
    return fail(loc, "padding must be smaller than the kernel");
  bool ceil = adaptor.getCeilMode();
  int64_t oh = poolOutputSize((*in)[1], k[0], s[0], pad[0], pad[1], ceil);
  int64_t ow = poolOutputSize((*in)[2], k[1], s[1], pad[2], pad[3], ceil);
  if (oh < 1 || ow < 1)
    return fail(loc, "the ", k[0], "x", k[1], " window does not fit the ",
                (*in)[1], "x", (*in)[2], " padded input");
  return inferAs(results, {(*in)[0], oh, ow, (*in)[3]},
                 elementTypeOf(adaptor.getInput()));
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  return inferPool(loc, adaptor, results);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  return inferPool(loc, adaptor, results);
}

static LogicalResult inferGlobalPool(const Where &loc, Value input,
                                     SmallVectorImpl<Type> &results) {
  auto in = shapeOf(loc, input, "input", 4);
  if (failed(in))
    return failure();
  return inferAs(results, {(*in)[0], 1, 1, (*in)[3]}, elementTypeOf(input));
}

LogicalResult
GlobalAvgPool2DOp::inferReturnTypes(MLIRContext *, Loc optLoc, Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  return inferGlobalPool(loc, adaptor.getInput(), results);
}

LogicalResult
GlobalMaxPool2DOp::inferReturnTypes(MLIRContext *, Loc optLoc, Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  return inferGlobalPool(loc, adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

static LogicalResult inferBroadcast(const Where &loc, Value lhs, Value rhs,
                                    SmallVectorImpl<Type> &results) {
  auto a = shapeOf(loc, lhs, "lhs");
  auto b = shapeOf(loc, rhs, "rhs");
  if (failed(a) || failed(b))
    return failure();
  auto shape = broadcastShapes(*a, *b);
  if (failed(shape))
    return fail(loc, "operand shapes ", lhs.getType(), " and ", rhs.getType(),
                " do not broadcast");
  return inferAs(results, *shape, elementTypeOf(lhs));
}

#define VAI_BINARY_INFER(OP)                                                   \
  LogicalResult OP::inferReturnTypes(MLIRContext *, Loc optLoc,                \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    return inferBroadcast(Where{optLoc, getOperationName()}, adaptor.getLhs(), \
                          adaptor.getRhs(), results);                          \
  }
VAI_BINARY_INFER(AddOp)
VAI_BINARY_INFER(SubOp)
VAI_BINARY_INFER(MulOp)
VAI_BINARY_INFER(DivOp)
VAI_BINARY_INFER(MaxOp)
VAI_BINARY_INFER(MinOp)
#undef VAI_BINARY_INFER

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return fail(loc, "needs at least one input");
  auto first = shapeOf(loc, inputs[0], "input 0");
  if (failed(first))
    return failure();
  int64_t rank = first->size(), axis = adaptor.getAxis();
  if (axis < 0 || axis >= rank)
    return fail(loc, "axis ", axis, " is out of range for rank ", rank);
  SmallVector<int64_t> shape(*first);
  Type elementType = elementTypeOf(inputs[0]);
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    auto s = shapeOf(loc, v, "input");
    if (failed(s))
      return failure();
    if (elementTypeOf(v) != elementType)
      return fail(loc, "input ", i + 1, " has element type ", elementTypeOf(v),
                  ", expected ", elementType);
    if ((int64_t)s->size() != rank)
      return fail(loc, "input ", i + 1, " has rank ", s->size(), ", expected ",
                  rank);
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && (*s)[d] != shape[d])
        return fail(loc, "input ", i + 1, " differs in dimension ", d, " (",
                    (*s)[d], " vs ", shape[d], ")");
    shape[axis] += (*s)[axis];
  }
  return inferAs(results, shape, elementType);
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  ArrayRef<int64_t> shape = adaptor.getShape();
  if (failed(checkArray(loc, shape, shape.size(), 1, "shape")))
    return failure();
  int64_t inCount = ShapedType::getNumElements(*in);
  int64_t outCount = ShapedType::getNumElements(shape);
  if (inCount != outCount)
    return fail(loc, "cannot reshape ", inCount, " elements into ", outCount);
  return inferAs(results, shape, elementTypeOf(adaptor.getInput()));
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  int64_t axis = adaptor.getAxis(), rank = in->size();
  if (axis < 0 || axis > rank)
    return fail(loc, "axis ", axis, " must be in [0, ", rank, "]");
  return inferAs(results,
                 {ShapedType::getNumElements(in->take_front(axis)),
                  ShapedType::getNumElements(in->drop_front(axis))},
                 elementTypeOf(adaptor.getInput()));
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (perm.size() != in->size() ||
      failed(checkAxes(loc, perm, in->size(), "perm")))
    return fail(loc, "'perm' must be a permutation of 0..", in->size(), "-1");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back((*in)[p]);
  return inferAs(results, shape, elementTypeOf(adaptor.getInput()));
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in) ||
      failed(checkAxes(loc, adaptor.getAxes(), in->size(), "axes")))
    return failure();
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(*in)) {
    if (!llvm::is_contained(adaptor.getAxes(), (int64_t)i)) {
      shape.push_back(d);
      continue;
    }
    if (d != 1)
      return fail(loc, "cannot squeeze dimension ", i, " of size ", d);
  }
  return inferAs(results, shape, elementTypeOf(adaptor.getInput()));
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  size_t rank = in->size();
  ArrayRef<int64_t> offsets = adaptor.getOffsets(), sizes = adaptor.getSizes();
  SmallVector<int64_t> strides(rank, 1);
  if (auto s = adaptor.getStrides())
    strides.assign(s->begin(), s->end());
  if (failed(checkArray(loc, offsets, rank, 0, "offsets")) ||
      failed(checkArray(loc, sizes, rank, 1, "sizes")) ||
      failed(checkArray(loc, strides, rank, 1, "strides")))
    return failure();
  for (size_t d = 0; d < rank; ++d)
    if (offsets[d] + (sizes[d] - 1) * strides[d] >= (*in)[d])
      return fail(loc, "dimension ", d, " reads index ",
                  offsets[d] + (sizes[d] - 1) * strides[d], " past its size ",
                  (*in)[d]);
  return inferAs(results, sizes, elementTypeOf(adaptor.getInput()));
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  size_t rank = in->size();
  ArrayRef<int64_t> low = adaptor.getLow(), high = adaptor.getHigh();
  if (failed(checkArray(loc, low, rank, 0, "low")) ||
      failed(checkArray(loc, high, rank, 0, "high")))
    return failure();
  SmallVector<int64_t> shape;
  for (size_t d = 0; d < rank; ++d) {
    if (adaptor.getMode() == PadMode::Reflect &&
        (low[d] >= (*in)[d] || high[d] >= (*in)[d]))
      return fail(loc, "reflect padding of dimension ", d,
                  " must be smaller than its size ", (*in)[d]);
    shape.push_back((*in)[d] + low[d] + high[d]);
  }
  return inferAs(results, shape, elementTypeOf(adaptor.getInput()));
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input", 4);
  if (failed(in) || failed(checkArray(loc, adaptor.getSize(), 2, 1, "size")))
    return failure();
  return inferAs(
      results, {(*in)[0], adaptor.getSize()[0], adaptor.getSize()[1], (*in)[3]},
      elementTypeOf(adaptor.getInput()));
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  if (failed(in))
    return failure();
  int64_t axis = adaptor.getAxis(), rank = in->size();
  if (axis < 0 || axis >= rank)
    return fail(loc, "axis ", axis, " is out of range for rank ", rank);
  results.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *, Loc optLoc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  Where loc{optLoc, getOperationName()};
  auto in = shapeOf(loc, adaptor.getInput(), "input");
  ArrayRef<int64_t> axes = adaptor.getAxes();
  if (failed(in) || failed(checkAxes(loc, axes, in->size(), "axes")))
    return failure();
  if (axes.empty())
    return fail(loc, "'axes' must not be empty");
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(*in)) {
    if (!llvm::is_contained(axes, (int64_t)i))
      shape.push_back(d);
    else if (adaptor.getKeepDims())
      shape.push_back(1);
  }
  return inferAs(results, shape, elementTypeOf(adaptor.getInput()));
}

#define GET_OP_CLASSES
#include "vai/Dialect/Vai/VaiOps.cpp.inc"
