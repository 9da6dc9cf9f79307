//===- Calibrate.h - Statistics collection, calibration table -*- C++ -*-===//
//
// Calibration runs the float model on the calibration inputs with the
// reference interpreter, accumulating TensorStats for every activation, and
// writes the chosen positions to a text table the user can edit and give
// back (--calib-table), as Vitis AI users know from vai_q's dumps.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_CALIBRATE_H
#define VAI_QUANTIZER_CALIBRATE_H

#include "vai/Quantizer/Calibration.h"
#include "vai/Runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vai::quant {

/// Stable names of a function's tensors, shared by the calibration table,
/// the quantizer and its report:
///  - an argument is named by its location ("input<i>" when it has none);
///  - an op's result by the framework layer name of its location (for a
///    fused location, e.g. a conv with a folded batch norm, the last name:
///    the layer whose output the value now is); "op<N>" when it has none,
///    N its position among the named ops.
/// Constants and `vai.fix` ops are not tensors of the model and get no
/// name, so a quantized function names its layers as the float one did.
/// White space in a name becomes '_'; names that repeat get "#2", "#3", ...
/// in order, arguments first.
struct TensorNames {
  std::vector<std::string> arguments;
  std::map<mlir::Operation *, std::string> ops;
};
TensorNames tensorNames(mlir::func::FuncOp func);

/// Statistics of every named tensor (tensorNames) of type f32.
struct CollectedStats {
  std::vector<std::string> order; ///< names in program order, arguments first
  std::map<std::string, TensorStats> stats;
};

/// Runs `func` on each input set returned by `next` (called until it returns
/// false; each set holds one tensor per argument) with the reference
/// interpreter, accumulating statistics. `progress(done)` is called after
/// each set. Errors: the interpreter cannot prepare the function (its
/// diagnostics name the op), an input set of the wrong shape.
llvm::Expected<CollectedStats>
collectStats(mlir::func::FuncOp func,
             const std::function<bool(std::vector<rt::Tensor> &)> &next,
             const std::function<void(int64_t)> &progress = nullptr);

/// One line of the calibration table.
struct CalibEntry {
  std::string tensor;
  Method method = Method::Diffs;
  double min = 0.0, max = 0.0;
  int fixPoint = 0;
};

/// The position of every tensor in `stats` by `method`. Tensors that cannot
/// be quantized (no values, all zeros, NaN or Inf) are not silently given a
/// position: each is listed in `problems` as "<name>: <why>".
struct PositionChoice {
  std::vector<CalibEntry> entries;
  std::vector<std::string> problems;
};
PositionChoice choosePositions(const CollectedStats &stats, Method method,
                               double percentile = 99.99);

/// The automatic method: for each tensor the candidate positions of every
/// method are tried one tensor at a time (that tensor quantized, all others
/// float) on `evalSets`, and the one whose network outputs are closest (sum
/// of squared differences) to the float outputs wins; ties go to the larger
/// position. The entry names the first method that chose the winner.
/// Runs the model once per distinct candidate and set.
llvm::Expected<PositionChoice> chooseAutoPositions(
    mlir::func::FuncOp func, const CollectedStats &stats,
    const std::vector<std::vector<rt::Tensor>> &evalSets,
    double percentile = 99.99,
    const std::function<void(int64_t, int64_t)> &progress = nullptr);

/// Text format, one tensor per line, fields separated by white space; a
/// field that starts with '#' starts a comment (so names like "conv#2" from
/// tensorNames() are fine):
///     <tensor> <method> <min> <max> <fix_point>
/// Tensor names contain no white space and do not start with '#'. Reading
/// checks every field (the method name, numbers, min <= max, fix_point in
/// [kMinPosition, kMaxPosition]) and duplicate names; errors name the file and
/// line.
llvm::Expected<std::vector<CalibEntry>> readCalibTable(llvm::StringRef path);
/// Writes atomically (temporary file, then rename), with a header comment.
llvm::Error writeCalibTable(llvm::StringRef path,
                            llvm::ArrayRef<CalibEntry> entries);

} // namespace vai::quant

#endif // VAI_QUANTIZER_CALIBRATE_H
