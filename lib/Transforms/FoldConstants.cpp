//===- FoldConstants.cpp - Evaluate all-constant subgraphs ----------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/Transforms/Passes.h"
#include "vai/Transforms/Utils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::vai {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

bool allOperandsConstant(Operation *op) {
  return op->getNumOperands() > 0 &&
         llvm::all_of(op->getOperands(), [](Value v) {
           return v.getDefiningOp<ConstantOp>() != nullptr;
         });
}

/// Evaluates `op` (all operands constant) with the reference interpreter in
/// a scratch module; null when it cannot be evaluated.
ConstantOp evaluate(Operation *op) {
  OpBuilder builder(op->getContext());
  Location loc = op->getLoc();
  auto scratch = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(scratch.getBody());
  auto func = func::FuncOp::create(
      builder, loc, "fold", builder.getFunctionType({}, op->getResultTypes()));
  builder.setInsertionPointToStart(func.addEntryBlock());
  IRMapping mapping;
  for (Value v : op->getOperands())
    mapping.map(v, builder.clone(*v.getDefiningOp())->getResult(0));
  Operation *clone = builder.clone(*op, mapping);
  func::ReturnOp::create(builder, loc, clone->getResults());

  ConstantOp result;
  {
    // Failures here only mean "not foldable": keep them quiet.
    ScopedDiagnosticHandler silence(op->getContext(),
                                    [](Diagnostic &) { return success(); });
    std::unique_ptr<::vai::Interpreter> interp =
        ::vai::Interpreter::create(func);
    if (interp) {
      auto values = interp->run({});
      if (values) {
        const ::vai::rt::Tensor &t = values->front();
        OpBuilder at(op);
        result = createConstant(
            at, loc, cast<RankedTensorType>(op->getResult(0).getType()),
            ArrayRef<char>(static_cast<const char *>(t.raw()), t.byteSize()),
            "folded");
      } else {
        llvm::consumeError(values.takeError());
      }
    }
  }
  scratch.erase();
  return result;
}

struct FoldConstantsPass
    : mlir::vai::impl::FoldConstantsBase<FoldConstantsPass> {
  void runOnOperation() override {
    // Program order: a folded result makes its users foldable in turn.
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (isa<VaiDialect>(op->getDialect()) && !isa<ConstantOp>(op) &&
          op->getNumResults() == 1)
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      if (!allOperandsConstant(op))
        continue;
      ConstantOp folded = evaluate(op);
      if (!folded)
        continue;
      op->getResult(0).replaceAllUsesWith(folded.getResult());
      op->erase();
      ++numFolded;
    }
    eraseDeadConstants(getOperation());
  }
};

} // namespace
