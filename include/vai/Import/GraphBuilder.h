//===- GraphBuilder.h - Shared machinery of the importers -------*- C++ -*-===//
//
// Builds the vai function of an imported model: layer-name locations,
// constants (dense resources for large weights), the weight layout
// conversions every NCHW framework needs, and the boundary transposes.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_IMPORT_GRAPHBUILDER_H
#define VAI_IMPORT_GRAPHBUILDER_H

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Import/Import.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/ArrayRef.h"

#include <vector>

namespace vai::import {

/// NCHW axis -> NHWC axis for 4-D tensors (0->0, 1->3, 2->1, 3->2).
int64_t nchwAxisToNhwc(int64_t axis);

/// Conv weights OIHW [O, I, KH, KW] -> OHWI [O, KH, KW, I].
std::vector<float> oihwToOhwi(llvm::ArrayRef<float> w, int64_t o, int64_t i,
                              int64_t kh, int64_t kw);
/// Transposed-conv weights IOHW [IC, OC/groups, KH, KW] (PyTorch, ONNX and
/// Caffe Deconvolution) -> ours [OC, KH, KW, IC/groups].
std::vector<float> iohwToOhwi(llvm::ArrayRef<float> w, int64_t ic,
                              int64_t ocPerGroup, int64_t kh, int64_t kw,
                              int64_t groups);
/// Depthwise weights in OIHW with groups == C: [C*M, 1, KH, KW], output
/// channel c*M+m -> ours [M, KH, KW, C].
std::vector<float> depthwiseOihwToMhwc(llvm::ArrayRef<float> w, int64_t c,
                                       int64_t m, int64_t kh, int64_t kw);

class GraphBuilder {
public:
  /// Starts module and function; `file` names the model in locations.
  GraphBuilder(mlir::MLIRContext &context, llvm::StringRef file,
               const ImportOptions &options);

  mlir::MLIRContext *getContext() { return builder.getContext(); }
  mlir::OpBuilder &b() { return builder; }
  llvm::StringRef file() const { return fileName; }
  const ImportOptions &options() const { return opts; }

  /// Location of a framework layer: NameLoc(layer) inside the file's
  /// location, so diagnostics print the layer name.
  mlir::Location loc(llvm::StringRef layer);

  /// Adds a function argument of the given shape (in the framework's layout
  /// when `nchw` and frameworkLayoutIO). Returns the value in vai's layout:
  /// 4-D NCHW inputs are transposed to NHWC here.
  mlir::Value addInput(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                       bool nchw);
  /// Marks `v` (vai layout) as a model output; 4-D outputs of NCHW
  /// frameworks are transposed back when frameworkLayoutIO.
  void addOutput(llvm::StringRef name, mlir::Value v, bool nchw);
  /// Finishes the function (adds the return, sets the type) and verifies the
  /// module; returns null after emitting diagnostics when it does not verify.
  mlir::OwningOpRef<mlir::ModuleOp> finish();

  /// A float constant; large ones become dense resources named `name`.
  mlir::Value constant(mlir::Location loc, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> data, llvm::StringRef name = "");
  mlir::Value scalarConstant(mlir::Location loc, float value);

  /// NCHW <-> NHWC transposes of a 4-D value.
  mlir::Value toNHWC(mlir::Location loc, mlir::Value nchw);
  mlir::Value toNCHW(mlir::Location loc, mlir::Value nhwc);

  /// Creates a vai op from operands and attributes and infers its result
  /// type. ODS builders abort when inference fails; this one instead leaves
  /// the op's diagnostic (naming the op and the problem, at the layer's
  /// location) and returns null, so bad models never abort an importer.
  template <typename OpTy>
  mlir::Value create(mlir::Location loc, mlir::ValueRange operands,
                     llvm::ArrayRef<mlir::NamedAttribute> attributes = {}) {
    mlir::OperationState state(loc, OpTy::getOperationName());
    OpTy::build(builder, state, mlir::TypeRange{placeholderType()}, operands,
                attributes);
    return inferResult(builder.create(state));
  }

  /// Attribute helpers for create().
  mlir::NamedAttribute attr(llvm::StringRef name, llvm::ArrayRef<int64_t> v);
  mlir::NamedAttribute attr(llvm::StringRef name, int64_t v);
  mlir::NamedAttribute attr(llvm::StringRef name, float v);
  mlir::NamedAttribute attr(llvm::StringRef name, bool v);
  mlir::NamedAttribute attr(llvm::StringRef name, mlir::Attribute v);

private:
  mlir::Type placeholderType();
  mlir::Value inferResult(mlir::Operation *op);

  mlir::OpBuilder builder;
  std::string fileName;
  ImportOptions opts;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;
  mlir::Block *body = nullptr;
  std::vector<mlir::Value> outputs;
};

} // namespace vai::import

#endif // VAI_IMPORT_GRAPHBUILDER_H
