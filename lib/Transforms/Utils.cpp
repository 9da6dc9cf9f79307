//===- Utils.cpp - Helpers shared by the vai passes -----------------------===//

#include "vai/Transforms/Utils.h"

#include "vai/Dialect/Vai/VaiOps.h"

using namespace mlir;
using namespace mlir::vai;

bool mlir::vai::isFusableProducer(Operation *op) {
  return isa<Conv2DOp, DepthwiseConv2DOp, TransposedConv2DOp, InnerProductOp,
             AddOp>(op);
}

bool mlir::vai::hasFusedActivation(Operation *op) {
  auto act = op->getAttrOfType<ActivationAttr>("act");
  return act && act.getValue() != Activation::None;
}

void mlir::vai::eraseDeadConstants(Operation *root) {
  SmallVector<Operation *> dead;
  root->walk([&](ConstantOp c) {
    if (c->use_empty())
      dead.push_back(c);
  });
  for (Operation *op : dead)
    op->erase();
}
