//===- ToolSupport.h - What the vai-* command-line tools share --*- C++ -*-===//
#ifndef VAI_TOOLS_TOOLSUPPORT_H
#define VAI_TOOLS_TOOLSUPPORT_H

#include "vai/Import/Import.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vai::tools {

/// Writes `text` to `path` atomically (a temporary file beside it, then a
/// rename); "-" is stdout.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef text);

/// A diagnostic handler printing "FILE: layer 'NAME': error: MESSAGE" (or
/// "FILE:LINE:COL: error: ..." where the location has a real position):
/// importer and pass locations are layer names, which MLIR's default form
/// would lose.
mlir::LogicalResult printLayerDiagnostic(mlir::Diagnostic &diag);

enum class ModelFormat { Auto, MLIR, Caffe, ONNX, PyTorch, TensorFlow, Keras };
/// By extension: .mlir, .prototxt, .onnx, .pt/.pth/.th, .pb/.pbtxt,
/// .h5/.hdf5/.keras/.json; Auto when unknown.
ModelFormat detectFormat(llvm::StringRef path);

/// Reads a vai-dialect .mlir file or imports a framework model (`format`
/// Auto: by extension). `weights` is Caffe's caffemodel (default: the
/// prototxt's name with .caffemodel) or the Keras weights file (needed with
/// a .json architecture). Null after diagnostics, with `error` saying what
/// failed.
mlir::OwningOpRef<mlir::ModuleOp>
loadModel(mlir::MLIRContext &context, llvm::StringRef path, ModelFormat format,
          llvm::StringRef weights, const import::ImportOptions &options,
          std::string &error);

/// The function `name`, or (name empty) 'main' or the only function; null
/// when there is none.
mlir::func::FuncOp pickFunction(mlir::ModuleOp module, llvm::StringRef name);

/// The model-import flags every tool that reads framework models takes
/// (--import-*, --weights, --input-shape, --nhwc-io, --arch, --inputs,
/// --outputs), registered in the tool's option category.
class ImportFlags {
public:
  explicit ImportFlags(llvm::cl::OptionCategory &category);
  /// The options the flags give; errors say which flag is malformed.
  llvm::Expected<import::ImportOptions> options() const;
  /// Imports (or parses) `path` as loadModel does, with these flags.
  mlir::OwningOpRef<mlir::ModuleOp> load(mlir::MLIRContext &context,
                                         llvm::StringRef path,
                                         std::string &error) const;
  /// load(), then the model's function ('main' or the only one) into
  /// `func`; null (and `error` set) when either fails.
  mlir::OwningOpRef<mlir::ModuleOp> loadFunction(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 mlir::func::FuncOp &func,
                                                 std::string &error) const;

private:
  llvm::cl::opt<ModelFormat> format;
  llvm::cl::opt<std::string> weights;
  llvm::cl::list<std::string> inputShapes;
  llvm::cl::opt<bool> nhwcIO;
  llvm::cl::opt<std::string> arch;
  llvm::cl::list<std::string> inputNodes, outputNodes;
};

/// The module's text with locations (the layer names) always printed.
std::string printWithLocations(mlir::ModuleOp module);

} // namespace vai::tools

#endif // VAI_TOOLS_TOOLSUPPORT_H
