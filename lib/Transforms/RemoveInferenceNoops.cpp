//===- RemoveInferenceNoops.cpp - Drop nodes inference does not need ------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::vai {
#define GEN_PASS_DEF_REMOVEINFERENCENOOPS
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

/// The value `op` forwards unchanged, or null when it computes something.
Value forwardedValue(Operation *op) {
  if (auto dropout = dyn_cast<DropoutOp>(op))
    return dropout.getInput();
  if (auto identity = dyn_cast<IdentityOp>(op))
    return identity.getInput();
  if (auto reshape = dyn_cast<ReshapeOp>(op))
    return reshape.getInput().getType() == reshape.getType()
               ? reshape.getInput()
               : Value();
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    for (auto [i, p] : llvm::enumerate(transpose.getPerm()))
      if (p != static_cast<int64_t>(i))
        return Value();
    return transpose.getInput();
  }
  if (auto squeeze = dyn_cast<SqueezeOp>(op))
    return squeeze.getAxes().empty() ? squeeze.getInput() : Value();
  if (auto concat = dyn_cast<ConcatOp>(op))
    return concat.getInputs().size() == 1 ? concat.getInputs()[0] : Value();
  return Value();
}

struct RemoveInferenceNoopsPass
    : mlir::vai::impl::RemoveInferenceNoopsBase<RemoveInferenceNoopsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> noops;
    getOperation()->walk([&](Operation *op) {
      if (forwardedValue(op))
        noops.push_back(op);
    });
    for (Operation *op : noops) {
      op->getResult(0).replaceAllUsesWith(forwardedValue(op));
      op->erase();
      ++numRemoved;
    }
    // Erase dead vai ops, users first, until nothing changes.
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<Operation *> dead;
      getOperation()->walk([&](Operation *op) {
        if (isa<VaiDialect>(op->getDialect()) && op->use_empty())
          dead.push_back(op);
      });
      for (Operation *op : dead) {
        op->erase();
        ++numDead;
        changed = true;
      }
    }
  }
};

} // namespace
