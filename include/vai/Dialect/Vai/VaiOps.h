//===- VaiOps.h - vai dialect operations ------------------------*- C++ -*-===//
#ifndef VAI_DIALECT_VAI_VAIOPS_H
#define VAI_DIALECT_VAI_VAIOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "vai/Dialect/Vai/VaiDialect.h"
#include "vai/Dialect/Vai/VaiEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "vai/Dialect/Vai/VaiAttrs.h.inc"

#define GET_OP_CLASSES
#include "vai/Dialect/Vai/VaiOps.h.inc"

namespace mlir::vai {

/// Output size of a convolution or pooling window sweep along one axis:
/// floor((in + padA + padB - dil * (k - 1) - 1) / stride) + 1 (may be <= 0).
int64_t convOutputSize(int64_t in, int64_t k, int64_t stride, int64_t padA,
                       int64_t padB, int64_t dil);

/// Output size of pooling along one axis, with ceil mode per docs.
int64_t poolOutputSize(int64_t in, int64_t k, int64_t stride, int64_t padA,
                       int64_t padB, bool ceilMode);

/// NumPy broadcast of two shapes; failure when they do not broadcast.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b);

} // namespace mlir::vai

#endif // VAI_DIALECT_VAI_VAIOPS_H
