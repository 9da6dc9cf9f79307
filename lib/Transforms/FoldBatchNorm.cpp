//===- FoldBatchNorm.cpp - Fold batch norm and scale into convolutions ----===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Transforms/Passes.h"
#include "vai/Transforms/Utils.h"

#include "mlir/IR/Builders.h"

#include <cmath>

namespace mlir::vai {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

/// batch_norm with constant parameters -> scale. Returns true if rewritten.
bool batchNormToScale(BatchNormOp bn) {
  auto mean = getConstantF32(bn.getMean());
  auto var = getConstantF32(bn.getVariance());
  auto gamma = getConstantF32(bn.getScale());
  auto beta = getConstantF32(bn.getOffset());
  if (!mean || !var || !gamma || !beta)
    return false;
  float eps = bn.getEpsilon().convertToFloat();
  size_t c = mean->size();
  std::vector<float> s(c), b(c);
  for (size_t i = 0; i < c; ++i) {
    s[i] = (*gamma)[i] / std::sqrt((*var)[i] + eps);
    b[i] = (*beta)[i] - (*mean)[i] * s[i];
  }
  OpBuilder builder(bn);
  int64_t channels = c;
  Value sv = createF32Constant(builder, bn.getLoc(), {channels}, s, "bn_scale");
  Value bv = createF32Constant(builder, bn.getLoc(), {channels}, b, "bn_bias");
  auto scale = ScaleOp::create(builder, bn.getLoc(), bn.getInput(), sv, bv);
  bn.replaceAllUsesWith(scale.getOutput());
  bn.erase();
  return true;
}

/// Multiplies output channel o of `op`'s weights by s[o] and sets its bias
/// to s * bias + b. `op` is a conv-like op with constant weights.
template <typename OpTy>
bool foldInto(OpTy op, ArrayRef<float> s, ArrayRef<float> b, Location where) {
  auto w = getConstantF32(op.getWeight());
  std::optional<std::vector<float>> bias;
  if (op.getBias()) {
    bias = getConstantF32(op.getBias());
    if (!bias)
      return false;
  }
  if (!w)
    return false;
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t oc = s.size();
  ArrayRef<int64_t> ws = wType.getShape();
  // Output channel of each weight element.
  auto channelOf = [&](int64_t i) -> int64_t {
    if constexpr (std::is_same_v<OpTy, DepthwiseConv2DOp>) {
      // [M, KH, KW, C]: output channel c * M + m.
      int64_t c = ws[3], m = ws[0];
      return (i % c) * m + i / (ws[1] * ws[2] * c);
    } else {
      return i / (wType.getNumElements() / ws[0]); // OHWI or [O, I]
    }
  };
  for (int64_t i = 0, e = w->size(); i < e; ++i)
    (*w)[i] *= s[channelOf(i)];
  std::vector<float> newBias(oc);
  for (int64_t o = 0; o < oc; ++o)
    newBias[o] = s[o] * (bias ? (*bias)[o] : 0.0f) + b[o];

  OpBuilder builder(op);
  Location loc = FusedLoc::get(op.getContext(), {op.getLoc(), where});
  op.getWeightMutable().assign(
      createF32Constant(builder, op.getWeight().getLoc(), ws, *w));
  op.getBiasMutable().assign(
      createF32Constant(builder, loc, {oc}, newBias, "bias"));
  op->setLoc(loc);
  return true;
}

/// Folds a scale (s, b) applied to `input` into its producer if possible.
bool foldIntoProducer(Value input, ArrayRef<float> s, ArrayRef<float> b,
                      Location where) {
  Operation *producer = input.getDefiningOp();
  if (!producer || !input.hasOneUse() || !isFusableProducer(producer) ||
      hasFusedActivation(producer) || isa<AddOp>(producer))
    return false;
  if (auto op = dyn_cast<Conv2DOp>(producer))
    return foldInto(op, s, b, where);
  if (auto op = dyn_cast<DepthwiseConv2DOp>(producer))
    return foldInto(op, s, b, where);
  if (auto op = dyn_cast<TransposedConv2DOp>(producer))
    return foldInto(op, s, b, where);
  if (auto op = dyn_cast<InnerProductOp>(producer))
    return foldInto(op, s, b, where);
  return false;
}

struct FoldBatchNormPass
    : mlir::vai::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    SmallVector<BatchNormOp> bns;
    getOperation()->walk([&](BatchNormOp bn) { bns.push_back(bn); });
    for (BatchNormOp bn : bns)
      numBatchNorms += batchNormToScale(bn);

    // Scales and bias adds in program order: a chain (conv, scale, bias_add)
    // folds step by step into the conv.
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (isa<ScaleOp, BiasAddOp>(op))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      Value input = op->getOperand(0);
      std::optional<std::vector<float>> s, b;
      if (auto scale = dyn_cast<ScaleOp>(op)) {
        s = getConstantF32(scale.getScale());
        b = scale.getBias() ? getConstantF32(scale.getBias())
                            : std::vector<float>(s ? s->size() : 0, 0.0f);
      } else {
        b = getConstantF32(cast<BiasAddOp>(op).getBias());
        s = std::vector<float>(b ? b->size() : 0, 1.0f);
      }
      if (!s || !b || !foldIntoProducer(input, *s, *b, op->getLoc()))
        continue;
      op->getResult(0).replaceAllUsesWith(input);
      op->erase();
      ++numFolded;
    }
    eraseDeadConstants(getOperation());
  }
};

} // namespace
