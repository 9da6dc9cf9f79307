//===- Equalize.cpp - Cross-layer equalization ----------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>

namespace mlir::vai {
#define GEN_PASS_DEF_EQUALIZE
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

/// How a layer's weights index channels: `outAxis` is the axis of output
/// channel c in the weight tensor, `inAxis` the axis of input channel c
/// (nullopt when input channels do not map one-to-one, e.g. grouped convs).
struct Layout {
  int64_t outAxis;
  std::optional<int64_t> inAxis;
};

std::optional<Layout> layoutOf(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Layout>>(op)
      .Case([](Conv2DOp o) -> std::optional<Layout> {
        if (o.getGroups() != 1)
          return std::nullopt;
        return Layout{0, 3}; // OHWI
      })
      .Case([](DepthwiseConv2DOp o) -> std::optional<Layout> {
        if (o.getWeight().getType().getShape()[0] != 1)
          return std::nullopt;
        return Layout{3, 3}; // [1, KH, KW, C]: channel c in and out
      })
      .Case([](InnerProductOp) -> std::optional<Layout> {
        return Layout{0, 1}; // [out, in]
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// Largest |w| of each index along `axis`.
std::vector<float> channelRanges(ArrayRef<float> w, ArrayRef<int64_t> shape,
                                 int64_t axis) {
  int64_t inner = 1;
  for (size_t i = axis + 1; i < shape.size(); ++i)
    inner *= shape[i];
  std::vector<float> r(shape[axis], 0.0f);
  for (size_t i = 0; i < w.size(); ++i) {
    float &m = r[(i / inner) % shape[axis]];
    m = std::max(m, std::fabs(w[i]));
  }
  return r;
}

/// w[..., c, ...] *= scale[c] along `axis`.
void scaleAlong(std::vector<float> &w, ArrayRef<int64_t> shape, int64_t axis,
                ArrayRef<float> scale) {
  int64_t inner = 1;
  for (size_t i = axis + 1; i < shape.size(); ++i)
    inner *= shape[i];
  for (size_t i = 0; i < w.size(); ++i)
    w[i] *= scale[(i / inner) % shape[axis]];
}

/// Replaces operand `idx` of `op` (an f32 constant) by `data`.
void setConstant(Operation *op, unsigned idx, ArrayRef<float> data) {
  Value old = op->getOperand(idx);
  OpBuilder b(op);
  auto shape = cast<RankedTensorType>(old.getType()).getShape();
  ConstantOp c = createF32Constant(b, old.getLoc(), shape, data,
                                   idx == 1 ? "weight" : "bias");
  op->setOperand(idx, c);
  if (Operation *def = old.getDefiningOp(); def && def->use_empty())
    def->erase();
}

struct EqualizePass : mlir::vai::impl::EqualizeBase<EqualizePass> {
  using EqualizeBase::EqualizeBase;

  /// The activation fused into `op` allows equalizing across it.
  bool homogeneous(Operation *op) {
    auto act = op->getAttrOfType<ActivationAttr>("act");
    if (!act || act.getValue() != Activation::Relu6)
      return true; // none, relu, leaky relu
    return replaceRelu6;
  }

  /// The constants of a pair; nullopt when a weight or bias is not one.
  struct Pair {
    Layout la, lb;
    std::vector<float> wa, wb;
    std::optional<std::vector<float>> ba;
    ArrayRef<int64_t> sa, sb;
    std::vector<float> r1; ///< a's output-channel ranges
  };
  std::optional<Pair> read(Operation *a, Operation *b) {
    Pair p{*layoutOf(a), *layoutOf(b)};
    auto wa = getConstantF32(a->getOperand(1));
    auto wb = getConstantF32(b->getOperand(1));
    if (!wa || !wb || !p.lb.inAxis)
      return std::nullopt;
    if (a->getNumOperands() > 2 && !(p.ba = getConstantF32(a->getOperand(2))))
      return std::nullopt;
    p.wa = std::move(*wa);
    p.wb = std::move(*wb);
    p.sa = cast<RankedTensorType>(a->getOperand(1).getType()).getShape();
    p.sb = cast<RankedTensorType>(b->getOperand(1).getType()).getShape();
    p.r1 = channelRanges(p.wa, p.sa, p.la.outAxis);
    if (p.r1.size() != static_cast<size_t>(p.sb[*p.lb.inAxis]))
      return std::nullopt;
    return p;
  }

  /// A dead channel of `a` (weights below 1e-6 of the layer's largest, as
  /// batch norms with a ~0 scale leave them) whose activation maps its bias
  /// to 0 outputs (numerically) only zeros, whatever the activation: `b`'s
  /// weights reading it are irrelevant, and zeroing them keeps them from
  /// setting `b`'s range.
  void pruneDeadInputs(Operation *a, Operation *b) {
    std::optional<Pair> p = read(a, b);
    if (!p)
      return;
    constexpr float kDead = 1e-6f;
    float maxR1 = *std::max_element(p->r1.begin(), p->r1.end());
    auto act = a->getAttrOfType<ActivationAttr>("act");
    bool clampsNegative = act && (act.getValue() == Activation::Relu ||
                                  act.getValue() == Activation::Relu6);
    std::vector<float> keep(p->r1.size(), 1.0f);
    bool zeroed = false;
    for (size_t c = 0; c < p->r1.size(); ++c) {
      float bias = p->ba ? (*p->ba)[c] : 0.0f;
      if (p->r1[c] <= kDead * maxR1 &&
          (bias == 0.0f || (clampsNegative && bias <= 0.0f))) {
        keep[c] = 0.0f;
        zeroed = true;
      }
    }
    if (!zeroed)
      return;
    scaleAlong(p->wb, p->sb, *p->lb.inAxis, keep);
    setConstant(b, 1, p->wb);
    ++numPruned;
  }

  bool equalize(Operation *a, Operation *b) {
    std::optional<Pair> p = read(a, b);
    if (!p)
      return false;
    std::vector<float> r2 = channelRanges(p->wb, p->sb, *p->lb.inAxis);
    // Channels whose weights are (nearly) zero on either side, e.g. where a
    // folded batch norm's scale is ~0 but its bias is not, are left alone:
    // equalizing them would blow up their bias. Scales are kept within
    // [1/kMaxScale, kMaxScale] for the same reason.
    constexpr float kNegligible = 1e-4f, kMaxScale = 64.0f;
    float max1 = *std::max_element(p->r1.begin(), p->r1.end());
    float max2 = *std::max_element(r2.begin(), r2.end());
    std::vector<float> down(r2.size()), up(r2.size());
    for (size_t c = 0; c < r2.size(); ++c) {
      float s = p->r1[c] > kNegligible * max1 && r2[c] > kNegligible * max2
                    ? std::sqrt(p->r1[c] / r2[c])
                    : 1.0f;
      s = std::min(std::max(s, 1.0f / kMaxScale), kMaxScale);
      down[c] = 1.0f / s;
      up[c] = s;
    }
    scaleAlong(p->wa, p->sa, p->la.outAxis, down);
    scaleAlong(p->wb, p->sb, *p->lb.inAxis, up);
    setConstant(a, 1, p->wa);
    if (p->ba) {
      scaleAlong(*p->ba, {static_cast<int64_t>(p->ba->size())}, 0, down);
      setConstant(a, 2, *p->ba);
    }
    setConstant(b, 1, p->wb);
    return true;
  }

  void runOnOperation() override {
    SmallVector<std::pair<Operation *, Operation *>> pairs;
    getOperation()->walk([&](Operation *a) {
      if (!layoutOf(a) || !a->getResult(0).hasOneUse())
        return;
      Operation *b = *a->getResult(0).getUsers().begin();
      auto lb = layoutOf(b);
      if (lb && lb->inAxis && b->getOperand(0) == a->getResult(0))
        pairs.emplace_back(a, b);
    });
    for (auto &[a, b] : pairs)
      pruneDeadInputs(a, b);
    llvm::erase_if(pairs, [&](auto &p) { return !homogeneous(p.first); });
    MLIRContext *ctx = &getContext();
    for (auto &[a, b] : pairs) {
      auto act = a->getAttrOfType<ActivationAttr>("act");
      if (act && act.getValue() == Activation::Relu6) {
        a->setAttr("act", ActivationAttr::get(ctx, Activation::Relu));
        ++numRelu6;
      }
    }
    for (int i = 0; i < iterations; ++i)
      for (auto &[a, b] : pairs)
        if (equalize(a, b) && i == 0)
          ++numPairs;
  }
};

} // namespace
