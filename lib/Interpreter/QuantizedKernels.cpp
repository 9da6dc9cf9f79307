//===- QuantizedKernels.cpp - Integer kernels of quantized ops ------------===//
//
// The interpreter's quantized mode (docs/quantization.md). Values between fix
// ops stay float tensors holding grid values q * 2^-p, so every op can be
// observed and compared with the float model. A quantized op whose integer
// semantics differ from "float op, then fix" converts its inputs to the
// integers q (exactly), computes in integers with the runtime's
// QuantKernels, and returns q_out * 2^-p_out; the output fix that follows is
// then the identity.
//
//===----------------------------------------------------------------------===//

#include "Kernel.h"

#include "vai/Runtime/QuantKernels.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <memory>

using namespace mlir;
using namespace mlir::vai;
namespace rt = ::vai::rt;

namespace vai {
namespace {

int positionOf(FixOp fix) { return static_cast<int64_t>(fix.getFixPoint()); }

/// Grid values at position p to their integers (exact for values on the
/// 8-bit grid; anything else is rounded and clamped).
void toInt8(const float *x, int8_t *q, int64_t n, int p) {
  const float scale = std::ldexp(1.0f, p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    q[i] =
        static_cast<int8_t>(rt::saturate(std::lrint(x[i] * scale), -128, 127));
}

std::vector<int8_t> toInt8(const rt::Tensor &t, int p) {
  std::vector<int8_t> q(t.numElements());
  toInt8(t.data<float>(), q.data(), t.numElements(), p);
  return q;
}

/// The requantization to `out`'s grid after a right shift by `shift`, with
/// the op's fused activation; nullopt for a leaky slope the DPU lacks.
std::optional<rt::Requant> requantTo(FixOp out, int shift, Activation act,
                                     float alpha) {
  rt::Requant rq;
  rq.shift = shift;
  std::tie(rq.lo, rq.hi) = fixRange(out);
  int py = positionOf(out);
  switch (act) {
  case Activation::None:
    break;
  case Activation::Relu:
    rq.act = rt::Activation::Relu;
    break;
  case Activation::Relu6:
    rq.act = rt::Activation::Relu6;
    // floor(6 * 2^py), as docs/isa.md's act_max.
    rq.relu6Max = py >= 0 ? int64_t(6) << py : int64_t(6) >> -py;
    break;
  case Activation::LeakyRelu:
    if (std::fabs(alpha - 0.1f) > 1e-6f)
      return std::nullopt;
    rq.act = rt::Activation::LeakyRelu;
    break;
  }
  return rq;
}

/// A kernel over integers: converts the inputs listed in `positions` (the
/// op's first operands) to int8, runs `body` into the int8 output, returns it
/// at position `outPosition` as floats.
using IntBody =
    std::function<void(const std::vector<std::vector<int8_t>> &, int8_t *)>;
Kernel integerKernel(Value result, std::vector<int> positions, int outPosition,
                     IntBody body) {
  rt::Shape shape = shapeOf(result);
  return [=](const Inputs &in) {
    std::vector<std::vector<int8_t>> q;
    for (size_t i = 0; i < positions.size(); ++i)
      q.push_back(toInt8(*in[i], positions[i]));
    rt::Tensor out(rt::DType::F32, shape);
    std::vector<int8_t> qo(out.numElements());
    body(q, qo.data());
    const float scale = std::ldexp(1.0f, -outPosition);
    float *o = out.data<float>();
    for (size_t i = 0; i < qo.size(); ++i)
      o[i] = static_cast<float>(qo[i]) * scale;
    return out;
  };
}

/// conv2d, depthwise_conv2d, transposed_conv2d and inner_product: int32
/// sums from the runtime's exact int8 convolutions, then bias and shifts.
template <typename OpTy>
std::optional<Kernel> convLike(OpTy op, const QuantizedOp &q,
                               const ConstantMap &constants) {
  const rt::Tensor *w = constants.lookup(op.getWeight());
  Value biasValue = op.getBias();
  const rt::Tensor *b = biasValue ? constants.lookup(biasValue) : nullptr;
  if (!w || (biasValue && !b))
    return std::nullopt;
  int px = positionOf(q.operands[0]), pw = positionOf(q.operands[1]);
  int pb = b ? positionOf(q.operands[2]) : 0;
  int shiftBias = px + pw - pb;
  if (b && (shiftBias < 0 || shiftBias > 32))
    return std::nullopt;
  std::optional<rt::Requant> rq =
      requantTo(q.output, px + pw - positionOf(q.output), op.getAct(),
                op.getActAlpha().convertToFloat());
  if (!rq)
    return std::nullopt;
  std::vector<int8_t> qw = toInt8(*w, pw);
  std::vector<int8_t> qb = b ? toInt8(*b, pb) : std::vector<int8_t>();

  rt::Shape out = shapeOf(op.getOutput());
  int64_t channels = out.back();
  int64_t outer = rt::numElements(out) / channels;
  // The integer sums of one input, in a buffer of the output's size.
  std::function<void(const int8_t *, int32_t *)> sums;
  if constexpr (std::is_same_v<OpTy, InnerProductOp>) {
    rt::ConvGeometry g;
    g.n = out[0], g.ic = shapeOf(op.getInput())[1], g.oc = channels;
    auto conv = std::make_shared<rt::Conv2D>(g, qw.data());
    sums = [conv](const int8_t *x, int32_t *acc) { conv->run(x, acc); };
  } else {
    rt::ConvGeometry g = convGeometry(op);
    if constexpr (std::is_same_v<OpTy, DepthwiseConv2DOp>) {
      g.groups = g.ic;
      qw = depthwiseToGroupedOhwi(qw.data(), shapeOf(op.getWeight()));
    } else {
      g.groups = op.getGroups();
    }
    if constexpr (std::is_same_v<OpTy, TransposedConv2DOp>) {
      auto conv = std::make_shared<rt::TransposedConv2D>(g, qw.data());
      sums = [conv](const int8_t *x, int32_t *acc) { conv->run(x, acc); };
    } else {
      auto conv = std::make_shared<rt::Conv2D>(g, qw.data());
      sums = [conv](const int8_t *x, int32_t *acc) { conv->run(x, acc); };
    }
  }
  return integerKernel(
      op.getOutput(), {px}, positionOf(q.output),
      [=, rq = *rq, qb = std::move(qb)](
          const std::vector<std::vector<int8_t>> &in, int8_t *o) {
        std::vector<int32_t> acc(outer * channels);
        sums(in[0].data(), acc.data());
        rt::convRequant(acc.data(), qb.empty() ? nullptr : qb.data(), shiftBias,
                        rq, o, outer, channels);
      });
}

/// add: both inputs aligned to the larger position.
std::optional<Kernel> add(AddOp op, const QuantizedOp &q) {
  if (op.getLhs().getType() != op.getRhs().getType() ||
      op.getLhs().getType() != op.getOutput().getType())
    return std::nullopt; // broadcasting: float semantics
  int pa = positionOf(q.operands[0]), pb = positionOf(q.operands[1]);
  int pm = std::max(pa, pb);
  if (pm - std::min(pa, pb) > 32)
    return std::nullopt;
  std::optional<rt::Requant> rq =
      requantTo(q.output, pm - positionOf(q.output), op.getAct(),
                op.getActAlpha().convertToFloat());
  if (!rq)
    return std::nullopt;
  int64_t n = rt::numElements(shapeOf(op.getOutput()));
  return integerKernel(
      op.getOutput(), {pa, pb}, positionOf(q.output),
      [=, rq = *rq](const std::vector<std::vector<int8_t>> &in, int8_t *o) {
        rt::addRequant(in[0].data(), pm - pa, in[1].data(), pm - pb, rq, o, n);
      });
}

/// avg_pool2d and global_avg_pool2d: the window sum times the DPU's factor.
Kernel avgPool(Value result, const rt::PoolGeometry &g, const QuantizedOp &q) {
  rt::AvgPoolFactor f = rt::avgPoolFactor(g.kh, g.kw);
  int px = positionOf(q.operands[0]), py = positionOf(q.output);
  rt::Requant rq = *requantTo(q.output, f.shift + px - py, Activation::None, 0);
  return integerKernel(
      result, {px}, py,
      [=](const std::vector<std::vector<int8_t>> &in, int8_t *o) {
        rt::avgPool2DInt(g, in[0].data(), f.mul, rq, o);
      });
}

} // namespace

std::optional<Kernel> prepareQuantized(Operation *op,
                                       const ConstantMap &constants) {
  std::optional<QuantizedOp> q = getQuantizedOp(op);
  if (!q || q->output.getBitWidth() != 8 ||
      llvm::any_of(q->operands, [](FixOp f) { return f.getBitWidth() != 8; }))
    return std::nullopt;
  using K = std::optional<Kernel>;
  return llvm::TypeSwitch<Operation *, K>(op)
      .Case<Conv2DOp, DepthwiseConv2DOp, TransposedConv2DOp, InnerProductOp>(
          [&](auto o) { return convLike(o, *q, constants); })
      .Case<AddOp>([&](AddOp o) { return add(o, *q); })
      .Case<AvgPool2DOp>([&](AvgPool2DOp o) -> K {
        if (!avgPoolDividesByFullWindow(o))
          return std::nullopt;
        return avgPool(o.getOutput(), poolGeometry(o), *q);
      })
      .Case<GlobalAvgPool2DOp>([&](GlobalAvgPool2DOp o) -> K {
        rt::Shape in = shapeOf(o.getInput());
        rt::PoolGeometry g;
        g.n = in[0], g.ih = g.kh = in[1], g.iw = g.kw = in[2], g.c = in[3];
        return avgPool(o.getOutput(), g, *q);
      })
      .Default([](Operation *) -> K { return std::nullopt; });
}

} // namespace vai
