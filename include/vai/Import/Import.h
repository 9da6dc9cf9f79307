//===- Import.h - Framework model importers ---------------------*- C++ -*-===//
//
// Every importer turns a framework's model file into a module holding one
// `func.func` of vai ops (docs/dialect.md). Layer names become name
// locations. On failure an importer emits diagnostics through the context
// (naming the file, the layer, its type and what is wrong) and returns null;
// it never aborts.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_IMPORT_IMPORT_H
#define VAI_IMPORT_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace vai::import {

struct ImportOptions {
  /// Name of the imported function.
  std::string functionName = "main";
  /// Keep 4-D inputs and outputs in the framework's layout (NCHW for Caffe,
  /// ONNX and PyTorch) with transposes at the boundary, so the model takes
  /// and returns exactly what the framework does. When false the function's
  /// 4-D arguments and results are NHWC, as the DPU consumes them.
  bool frameworkLayoutIO = true;
  /// Input shapes that override or complete the file's (batch size, a
  /// dynamic dimension), by input name; empty means "as in the file".
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// PyTorch state dicts (.pth/.th) only: "module:callable" that rebuilds
  /// the nn.Module the weights belong to (python -m vai_mlir.export --arch).
  std::string pytorchArch;
  /// TensorFlow: nodes (NAME or NAME:K) whose outputs become the function's
  /// arguments, in order, cutting the graph there; empty means the
  /// Placeholders the outputs depend on.
  std::vector<std::string> inputNodes;
  /// TensorFlow: nodes (NAME or NAME:K) whose outputs the function returns;
  /// empty means every node no other node reads (training, checkpoint and
  /// summary leftovers aside).
  std::vector<std::string> outputNodes;
};

/// Caffe: `prototxt` (text NetParameter) with weights from `weights`
/// (binary .caffemodel or HDF5 .caffemodel.h5); weights are matched to layers
/// by name.
mlir::OwningOpRef<mlir::ModuleOp> importCaffe(mlir::MLIRContext &context,
                                              llvm::StringRef prototxt,
                                              llvm::StringRef weights,
                                              const ImportOptions &options);

/// ONNX (opset 7-17) model file.
mlir::OwningOpRef<mlir::ModuleOp> importONNX(mlir::MLIRContext &context,
                                             llvm::StringRef path,
                                             const ImportOptions &options);

/// PyTorch: a TorchScript file (or a .pth/.th state dict the Python package
/// knows how to rebuild) exported to ONNX with Debian's torch
/// (/usr/bin/python3 -m vai_mlir.export), then imported as ONNX.
mlir::OwningOpRef<mlir::ModuleOp> importPyTorch(mlir::MLIRContext &context,
                                                llvm::StringRef path,
                                                const ImportOptions &options);

/// TensorFlow 1 frozen GraphDef: binary (.pb) or text (.pbtxt, chosen by the
/// extension).
mlir::OwningOpRef<mlir::ModuleOp> importTensorFlow(mlir::MLIRContext &context,
                                                   llvm::StringRef path,
                                                   const ImportOptions &options);

/// Keras 2.0-2.13 (tf.keras included): a whole-model HDF5 file (`.h5`,
/// `.hdf5`; its `model_config` attribute and `model_weights` group), or the
/// architecture JSON (`model.to_json()`) with weights from `weights`
/// (`save_weights` .h5, or a whole-model file). A non-empty `weights`
/// overrides the whole-model file's own. Keras models are NHWC: inputs and
/// outputs are exactly Keras's tensors, with no boundary transposes.
mlir::OwningOpRef<mlir::ModuleOp> importKeras(mlir::MLIRContext &context,
                                              llvm::StringRef model,
                                              llvm::StringRef weights,
                                              const ImportOptions &options);

} // namespace vai::import

#endif // VAI_IMPORT_IMPORT_H
