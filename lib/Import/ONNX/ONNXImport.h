//===- ONNXImport.h - Internal entry of the ONNX importer -------*- C++ -*-===//
//
// Shared by the ONNX importer and the PyTorch path, which imports the ONNX
// file it exported under the name of the user's model file.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_ONNX_ONNXIMPORT_H
#define VAI_LIB_IMPORT_ONNX_ONNXIMPORT_H

#include "vai/Import/Import.h"

namespace vai::import {

/// Imports the ONNX file at `path`; locations and diagnostics name
/// `displayName`.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 llvm::StringRef displayName,
                                                 const ImportOptions &options);

} // namespace vai::import

#endif // VAI_LIB_IMPORT_ONNX_ONNXIMPORT_H
