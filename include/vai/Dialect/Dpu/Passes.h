//===- Passes.h - dpu passes ------------------------------------*- C++ -*-===//
#ifndef VAI_DIALECT_DPU_PASSES_H
#define VAI_DIALECT_DPU_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::dpu {

#define GEN_PASS_DECL
#include "vai/Dialect/Dpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vai/Dialect/Dpu/Passes.h.inc"

} // namespace mlir::dpu

#endif // VAI_DIALECT_DPU_PASSES_H
