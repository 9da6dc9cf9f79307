//===- Utils.h - Helpers shared by the vai passes ---------------*- C++ -*-===//
#ifndef VAI_TRANSFORMS_UTILS_H
#define VAI_TRANSFORMS_UTILS_H

#include "mlir/IR/Operation.h"

namespace mlir::vai {

/// Ops that carry a fused activation (`act`, `act_alpha`): conv2d,
/// depthwise_conv2d, transposed_conv2d, inner_product and add.
bool isFusableProducer(Operation *op);
/// True when a fusable producer's `act` is not `none`.
bool hasFusedActivation(Operation *op);
/// Erases `vai.constant` ops without users below `root`.
void eraseDeadConstants(Operation *root);

} // namespace mlir::vai

#endif // VAI_TRANSFORMS_UTILS_H
