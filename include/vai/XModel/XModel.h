//===- XModel.h - .xmodel emission through libxir ---------------*- C++ -*-===//
//
// Builds the xir::Graph of a partitioned, lowered function: one XIR op per
// vai layer named by its framework layer name, fix info on every fixed
// tensor, a USER subgraph per input, and a DPU or CPU child subgraph per
// partition subgraph, the DPU ones carrying the machine code and parameters
// of their dpu.program. Every op and attribute is validated against libxir's
// own op definitions before libxir sees it (libxir aborts on bad input), and
// the bytes are canonical: the same module gives the same file.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_XMODEL_XMODEL_H
#define VAI_XMODEL_XMODEL_H

#include "vai/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vai::xmodel {

/// The version string written into every xmodel (`vai_mlir_version`).
llvm::StringRef toolVersion();

/// The serialized .xmodel of `func` (a function of `module`, whose
/// dpu.program ops it references). Errors name the layer and what is wrong.
llvm::Expected<std::string> emitXModel(mlir::ModuleOp module,
                                       mlir::func::FuncOp func,
                                       const target::Target &target);

} // namespace vai::xmodel

#endif // VAI_XMODEL_XMODEL_H
