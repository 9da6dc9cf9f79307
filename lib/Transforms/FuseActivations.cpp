//===- FuseActivations.cpp - Fuse activations into their producer ---------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Transforms/Passes.h"
#include "vai/Transforms/Utils.h"

#include "mlir/IR/Builders.h"

namespace mlir::vai {
#define GEN_PASS_DEF_FUSEACTIVATIONS
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

/// The fusable activation `op` computes, with its slope, if any.
std::optional<std::pair<Activation, float>> activationOf(Operation *op) {
  if (isa<ReluOp>(op))
    return std::make_pair(Activation::Relu, 0.0f);
  if (isa<Relu6Op>(op))
    return std::make_pair(Activation::Relu6, 0.0f);
  if (auto leaky = dyn_cast<LeakyReluOp>(op))
    return std::make_pair(Activation::LeakyRelu,
                          leaky.getAlpha().convertToFloat());
  if (auto clip = dyn_cast<ClipOp>(op))
    if (clip.getMin().convertToFloat() == 0.0f &&
        clip.getMax().convertToFloat() == 6.0f)
      return std::make_pair(Activation::Relu6, 0.0f);
  return std::nullopt;
}

struct FuseActivationsPass
    : mlir::vai::impl::FuseActivationsBase<FuseActivationsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> activations;
    getOperation()->walk([&](Operation *op) {
      if (activationOf(op))
        activations.push_back(op);
    });
    for (Operation *op : activations) {
      Value input = op->getOperand(0);
      Operation *producer = input.getDefiningOp();
      if (!producer || !input.hasOneUse() || !isFusableProducer(producer) ||
          hasFusedActivation(producer))
        continue;
      auto [act, alpha] = *activationOf(op);
      Builder b(op->getContext());
      producer->setAttr("act", ActivationAttr::get(op->getContext(), act));
      producer->setAttr("act_alpha", b.getF32FloatAttr(alpha));
      producer->setLoc(
          FusedLoc::get(op->getContext(), {producer->getLoc(), op->getLoc()}));
      op->getResult(0).replaceAllUsesWith(input);
      op->erase();
      ++numFused;
    }
  }
};

} // namespace
