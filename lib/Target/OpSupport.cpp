//===- OpSupport.cpp - Which vai ops the DPU runs, and why not ------------===//

#include "vai/Target/OpSupport.h"

#include "vai/Dialect/Vai/VaiOps.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::vai;
using Reason = std::optional<std::string>;

namespace vai::target {
namespace {

std::string dims(ArrayRef<int64_t> v) {
  return llvm::formatv("{0:$[x]}", llvm::make_range(v.begin(), v.end())).str();
}

/// The fused activation against an engine's nonlinear functions.
Reason activation(Activation act, float alpha, const Nonlinear &nl,
                  StringRef engine) {
  switch (act) {
  case Activation::None:
    return std::nullopt;
  case Activation::Relu:
    if (nl.relu)
      return std::nullopt;
    break;
  case Activation::Relu6:
    if (nl.relu6)
      return std::nullopt;
    break;
  case Activation::LeakyRelu:
    if (nl.leakyRelu && std::fabs(alpha - 0.1f) <= 1e-6f)
      return std::nullopt;
    if (nl.leakyRelu)
      return llvm::formatv("leaky relu slope {0} (the {1} engine applies only "
                           "0.1, as 26/256)",
                           alpha, engine)
          .str();
    break;
  }
  return llvm::formatv("the {0} engine cannot apply {1}", engine,
                       stringifyActivation(act))
      .str();
}

/// Kernel, stride and padding against an engine's limits.
Reason window(ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
              ArrayRef<int64_t> pad, const IntSet &kernels,
              const IntSet &strideSet, const Target &t, StringRef engine) {
  for (int64_t k : kernel)
    if (!kernels.contains(k))
      return llvm::formatv("kernel {0} is outside the {1} engine's {2}",
                           dims(kernel), engine, kernels.str())
          .str();
  for (int64_t s : strides)
    if (!strideSet.contains(s))
      return llvm::formatv("stride {0} is outside the {1} engine's {2}",
                           dims(strides), engine, strideSet.str())
          .str();
  for (int64_t p : pad)
    if (p > t.quant.padMax)
      return llvm::formatv("padding {0} exceeds {1} per side", dims(pad),
                           t.quant.padMax)
          .str();
  return std::nullopt;
}

Reason channels(Value input, StringRef what) {
  auto shape = cast<ShapedType>(input.getType()).getShape();
  // PG400: input channels up to 8192.
  constexpr int64_t kMaxChannels = 8192;
  if (shape.back() > kMaxChannels)
    return llvm::formatv("{0} has {1} channels; the DPU takes at most {2}",
                         what, shape.back(), kMaxChannels)
        .str();
  return std::nullopt;
}

bool isDilated(ArrayRef<int64_t> d) {
  return llvm::any_of(d, [](int64_t v) { return v != 1; });
}

template <typename... Checks> Reason firstOf(Checks &&...checks) {
  Reason r;
  ((r ? void() : void(r = checks())), ...);
  return r;
}

} // namespace

bool keepsFixPosition(Operation *op) {
  return isa<ReshapeOp, FlattenOp, SqueezeOp, PadOp, MaxPool2DOp,
             GlobalMaxPool2DOp, ConcatOp>(op);
}

Reason dpuUnsupportedReason(Operation *op, const Target &t) {
  const ConvEngine &conv = t.conv;
  return llvm::TypeSwitch<Operation *, Reason>(op)
      .Case<Conv2DOp>([&](Conv2DOp o) -> Reason {
        return firstOf(
            [&]() -> Reason {
              if (o.getGroups() != 1)
                return llvm::formatv("grouped convolution ({0} groups)",
                                     o.getGroups())
                    .str();
              if (isDilated(o.getDilations()) &&
                  llvm::any_of(o.getStrides(),
                               [](int64_t s) { return s != 1; }))
                return std::string("dilated convolution with stride > 1");
              return std::nullopt;
            },
            [&] {
              auto k = o.getWeight().getType().getShape();
              return window({k[1], k[2]}, o.getStrides(), o.getPad(),
                            conv.kernel, conv.stride, t, "conv");
            },
            [&] { return channels(o.getInput(), "the input"); },
            [&] {
              return activation(o.getAct(), o.getActAlpha().convertToFloat(),
                                conv.nonlinear, "conv");
            });
      })
      .Case<DepthwiseConv2DOp>([&](DepthwiseConv2DOp o) -> Reason {
        const DepthwiseEngine &dw = t.depthwise;
        if (!dw.present)
          return std::string("the target has no depthwise engine");
        auto w = o.getWeight().getType().getShape();
        return firstOf(
            [&]() -> Reason {
              if (w[0] != 1)
                return llvm::formatv("depthwise multiplier {0} (the engine "
                                     "computes one output per channel)",
                                     w[0])
                    .str();
              if (isDilated(o.getDilations()))
                return std::string("dilated depthwise convolution");
              return std::nullopt;
            },
            [&] {
              return window({w[1], w[2]}, o.getStrides(), o.getPad(), dw.kernel,
                            dw.stride, t, "depthwise");
            },
            [&] {
              return activation(o.getAct(), o.getActAlpha().convertToFloat(),
                                dw.nonlinear, "depthwise");
            });
      })
      .Case<TransposedConv2DOp>([&](TransposedConv2DOp o) -> Reason {
        auto k = o.getWeight().getType().getShape();
        return firstOf(
            [&]() -> Reason {
              if (o.getGroups() != 1)
                return std::string("grouped transposed convolution");
              if (isDilated(o.getDilations()))
                return std::string("dilated transposed convolution");
              return std::nullopt;
            },
            [&] {
              return window({k[1], k[2]}, o.getStrides(), o.getPad(),
                            conv.kernel, conv.stride, t, "conv");
            },
            [&] {
              return activation(o.getAct(), o.getActAlpha().convertToFloat(),
                                conv.nonlinear, "conv");
            });
      })
      .Case<InnerProductOp>([&](InnerProductOp o) -> Reason {
        // A 1x1 convolution over a 1x1 feature map.
        return firstOf([&] { return channels(o.getInput(), "the input"); },
                       [&] {
                         return activation(o.getAct(),
                                           o.getActAlpha().convertToFloat(),
                                           conv.nonlinear, "conv");
                       });
      })
      .Case<AddOp>([&](AddOp o) -> Reason {
        if (!t.eltwise.add)
          return std::string("the eltwise engine cannot add");
        if (o.getLhs().getType() != o.getRhs().getType())
          return llvm::formatv("broadcasting add ({0} + {1}); the eltwise "
                               "engine adds tensors of one shape",
                               o.getLhs().getType(), o.getRhs().getType())
              .str();
        return activation(o.getAct(), o.getActAlpha().convertToFloat(),
                          t.eltwise.nonlinear, "eltwise");
      })
      .Case<MaxPool2DOp>([&](MaxPool2DOp o) -> Reason {
        if (!t.pool.max)
          return std::string("the pool engine has no max pooling");
        return window(o.getKernel(), o.getStrides(), o.getPad(),
                      t.pool.maxKernel, t.pool.maxStride, t, "pool");
      })
      .Case<AvgPool2DOp>([&](AvgPool2DOp o) -> Reason {
        if (!t.pool.avg)
          return std::string("the pool engine has no average pooling");
        if (!avgPoolDividesByFullWindow(o))
          return std::string(
              "average pooling that excludes padding or whose windows run "
              "past the padding (the DPU always divides by kh*kw)");
        return window(o.getKernel(), o.getStrides(), o.getPad(),
                      t.pool.avgKernel, t.pool.avgStride, t, "pool");
      })
      .Case<GlobalAvgPool2DOp, GlobalMaxPool2DOp>([&](auto o) -> Reason {
        bool avg = isa<GlobalAvgPool2DOp>(o.getOperation());
        if (avg ? !t.pool.avg : !t.pool.max)
          return std::string("the pool engine lacks this pooling");
        auto in = o.getInput().getType().getShape();
        return window({in[1], in[2]}, {1, 1}, {},
                      avg ? t.pool.avgKernel : t.pool.maxKernel,
                      avg ? t.pool.avgStride : t.pool.maxStride, t, "pool");
      })
      .Case<ConcatOp>([&](ConcatOp o) -> Reason {
        int64_t rank = o.getOutput().getType().getRank();
        if (o.getAxis() != rank - 1)
          return llvm::formatv("concat on axis {0}; the DPU concatenates "
                               "channels (axis {1})",
                               o.getAxis(), rank - 1)
              .str();
        return std::nullopt;
      })
      .Case<ReshapeOp, FlattenOp, SqueezeOp>(
          [](Operation *) -> Reason { return std::nullopt; })
      .Case<PadOp>([&](PadOp o) -> Reason {
        if (o.getMode() != PadMode::Constant || !o.getValue().isZero())
          return std::string("padding other than with zeros");
        return std::nullopt;
      })
      .Case<ConstantOp, FixOp>(
          [](Operation *) -> Reason { return std::string("not a layer"); })
      .Default([](Operation *o) -> Reason {
        return llvm::formatv("no DPU engine runs {0}", o->getName()).str();
      });
}

} // namespace vai::target
