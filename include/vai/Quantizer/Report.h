//===- Report.h - Float vs quantized, layer by layer ------------*- C++ -*-===//
//
// Runs the float model and its quantized form on the same held-out inputs
// with the reference interpreter and compares every tensor they share by
// name (tensorNames): the quantized tensor is what the DPU produces, the
// op's output after its fix. A user sees which layer hurts.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_REPORT_H
#define VAI_QUANTIZER_REPORT_H

#include "vai/Runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace vai::quant {

/// Agreement between a float tensor a and its quantized form b, summed over
/// every sample.
struct TensorComparison {
  std::string name;
  bool quantized = false; ///< b is a fix output (else a float CPU op)
  int64_t count = 0;
  double sumA2 = 0, sumB2 = 0, sumAB = 0, sumD2 = 0, maxAbsDiff = 0;
  void add(const float *a, const float *b, int64_t n);
  /// cos(a, b); 1 when both are zero.
  double cosine() const;
  /// 10 log10(|a|^2 / |a - b|^2) in dB; +inf when they are equal.
  double sqnrDb() const;
};

/// A model's results against the quantized model's.
struct OutputComparison {
  std::vector<TensorComparison> outputs;
  /// Per output with a class axis (rank >= 2, last dim > 1): rows whose
  /// float and quantized argmax agree, of `rows`.
  std::vector<int64_t> top1Agree, top1Rows;
  /// Adds one input set's results; errors when they do not match.
  llvm::Error add(const std::vector<rt::Tensor> &reference,
                  const std::vector<rt::Tensor> &quantized);
};

struct QuantReport {
  int64_t samples = 0; ///< input sets compared
  /// Named tensors in program order (inputs first).
  std::vector<TensorComparison> tensors;
  /// The float model's results against the quantized model's.
  OutputComparison outputs;
  /// With an `original` model given: its results against the quantized
  /// model's (empty otherwise).
  OutputComparison outputsVsOriginal;
};

/// Compares `floatFunc` with `quantFunc` (the same model after -vai-quantize)
/// on each input set `next` yields; with `original` (the float model before
/// a transformation that changed its function, e.g. equalization replacing
/// relu6), also the results of that model. Errors: a function cannot be
/// prepared, an input set does not fit, the models disagree on their
/// results.
llvm::Expected<QuantReport>
compareModels(mlir::func::FuncOp floatFunc, mlir::func::FuncOp quantFunc,
              const std::function<bool(std::vector<rt::Tensor> &)> &next,
              const std::function<void(int64_t)> &progress = nullptr,
              mlir::func::FuncOp original = nullptr);

/// The report as a text table (one line per tensor: name, cosine, SQNR, max
/// |diff|), the outputs and their top-1 agreement (also against the
/// original model, when compared).
std::string formatReport(const QuantReport &report);

} // namespace vai::quant

#endif // VAI_QUANTIZER_REPORT_H
