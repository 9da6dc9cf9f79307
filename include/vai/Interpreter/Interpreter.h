//===- Interpreter.h - Reference interpreter of the vai dialect -*- C++ -*-===//
//
// Executes a `func.func` of vai ops on float32 host tensors. The interpreter
// is the project's yardstick: calibration runs on it and every later stage
// (quantizer, compiler, simulator) is compared with it.
//
// Preparation (create) resolves every op to a runtime kernel once: constants
// are converted, convolution weights repacked for oneDNN, geometry computed.
// run() is const and thread-safe: one prepared interpreter may serve many
// threads at once.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_INTERPRETER_INTERPRETER_H
#define VAI_INTERPRETER_INTERPRETER_H

#include "vai/Runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <vector>

namespace vai {

/// Called after each op with its result (observing intermediate tensors for
/// calibration and layer-by-layer comparison).
using OpObserver =
    llvm::function_ref<void(mlir::Operation *op, const rt::Tensor &result)>;
/// Called after each op (before the observer); a returned tensor (of the
/// same dtype and shape) replaces the op's result for the rest of the run.
/// Lets calibration measure what perturbing one tensor does downstream.
using OpOverride = llvm::function_ref<std::optional<rt::Tensor>(
    mlir::Operation *op, const rt::Tensor &result)>;

class Interpreter {
public:
  /// Prepares `func`. On failure (an op the interpreter cannot run, a
  /// non-constant weight, an unsupported element type) emits an MLIR
  /// diagnostic at the offending op and returns null.
  static std::unique_ptr<Interpreter> create(mlir::func::FuncOp func);
  ~Interpreter();

  /// The function's argument and result types, as runtime shapes/dtypes.
  struct TensorSpec {
    rt::DType dtype;
    rt::Shape shape;
  };
  const std::vector<TensorSpec> &inputSpecs() const { return inputs_; }
  const std::vector<TensorSpec> &outputSpecs() const { return outputs_; }

  /// Runs the function. Inputs must match the argument types exactly; a
  /// mismatch is an error naming the argument and both shapes.
  llvm::Expected<std::vector<rt::Tensor>>
  run(const std::vector<rt::Tensor> &inputs, OpObserver observer = nullptr,
      OpOverride override = nullptr) const;

  struct Step;

private:
  Interpreter();
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<std::unique_ptr<Step>> steps_;
  /// Value slots: arguments first, then constants, then op results.
  size_t numSlots_ = 0;
  std::vector<std::pair<size_t, rt::Tensor>> constants_;
  std::vector<size_t> resultSlots_;
};

/// Converts a dense or dense-resource elements attribute to a host tensor.
llvm::Expected<rt::Tensor> tensorFromAttr(mlir::ElementsAttr attr);

/// The runtime element type of an MLIR element type, if supported.
std::optional<rt::DType> dtypeFromType(mlir::Type elementType);

} // namespace vai

#endif // VAI_INTERPRETER_INTERPRETER_H
