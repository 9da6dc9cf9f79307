//===- InitAll.h - Register every vai-mlir dialect and pass -----*- C++ -*-===//
#ifndef VAI_INITALL_H
#define VAI_INITALL_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace vai {

/// vai and dpu plus the upstream dialects a vai model uses: func, arith,
/// tensor, quant.
void registerAllDialects(mlir::DialectRegistry &registry);
/// Loads those dialects into `context`.
void loadAllDialects(mlir::MLIRContext &context);
/// Every pass of the project, for vai-opt and pass pipelines.
void registerAllPasses();

} // namespace vai

#endif // VAI_INITALL_H
