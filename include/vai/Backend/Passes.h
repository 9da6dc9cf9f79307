//===- Passes.h - DPUCADF8H backend passes ----------------------*- C++ -*-===//
#ifndef VAI_BACKEND_PASSES_H
#define VAI_BACKEND_PASSES_H

#include "vai/Dialect/Dpu/DpuDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace vai::backend {

#define GEN_PASS_DECL
#include "vai/Backend/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vai/Backend/Passes.h.inc"

} // namespace vai::backend

#endif // VAI_BACKEND_PASSES_H
