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

/// Creates a `vai.constant` of `type` from its row-major bytes. Payloads over
/// 256 bytes become dense resources (named from `nameHint`, made unique by
/// the blob manager) so large weights are not uniqued in the context.
ConstantOp createConstant(OpBuilder &builder, Location loc,
                          RankedTensorType type, ArrayRef<char> rawData,
                          StringRef nameHint = "weight");
/// The same for f32 data.
ConstantOp createF32Constant(OpBuilder &builder, Location loc,
                             ArrayRef<int64_t> shape, ArrayRef<float> data,
                             StringRef nameHint = "weight");

/// The row-major f32 values of `v` when it is produced by a `vai.constant`
/// of f32 (dense or dense resource); nullopt otherwise.
std::optional<std::vector<float>> getConstantF32(Value v);

/// True when every window of the average pooling divides by the full
/// kh * kw, as the DPU does: no window runs past the padded input (ceil
/// mode) and padding, if any, is counted.
bool avgPoolDividesByFullWindow(AvgPool2DOp op);

/// The integer range [lo, hi] a `vai.fix` quantizes to.
std::pair<int64_t, int64_t> fixRange(FixOp fix);

/// The fix ops around a quantized op (docs/quantization.md): each operand is
/// produced by a `vai.fix` and the op's single result has exactly one use, a
/// `vai.fix`. `operands[i]` is the fix feeding operand i (the weight and bias
/// of a conv-like op included).
struct QuantizedOp {
  SmallVector<FixOp> operands;
  FixOp output;
};
/// The fix ops around `op` when it is a quantized op; nullopt otherwise.
std::optional<QuantizedOp> getQuantizedOp(Operation *op);

} // namespace mlir::vai

#endif // VAI_DIALECT_VAI_VAIOPS_H
