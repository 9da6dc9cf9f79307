//===- DpuDialect.h - The dpu instruction dialect ---------------*- C++ -*-===//
#ifndef VAI_DIALECT_DPU_DPUDIALECT_H
#define VAI_DIALECT_DPU_DPUDIALECT_H

#include "mlir/IR/Dialect.h"

#include "vai/Dialect/Dpu/DpuOpsDialect.h.inc"

#endif // VAI_DIALECT_DPU_DPUDIALECT_H
