//===- VaiDialect.h - The vai graph dialect ---------------------*- C++ -*-===//
#ifndef VAI_DIALECT_VAI_VAIDIALECT_H
#define VAI_DIALECT_VAI_VAIDIALECT_H

#include "mlir/IR/Dialect.h"

#include "vai/Dialect/Vai/VaiOpsDialect.h.inc"

#endif // VAI_DIALECT_VAI_VAIDIALECT_H
