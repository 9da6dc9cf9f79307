//===- Passes.h - vai graph passes ------------------------------*- C++ -*-===//
#ifndef VAI_TRANSFORMS_PASSES_H
#define VAI_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::vai {

#define GEN_PASS_DECL
#include "vai/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vai/Transforms/Passes.h.inc"

} // namespace mlir::vai

#endif // VAI_TRANSFORMS_PASSES_H
