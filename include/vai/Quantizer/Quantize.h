//===- Quantize.h - Power-of-two INT8 quantization of a vai model -*- C++ -*-=//
//
// Turns a preprocessed float model into a quantized one (docs/quantization.md):
// every op the DPU runs (target::dpuUnsupportedReason) gets `vai.fix` ops on
// its activations at the calibrated positions, and its weights and biases
// become constants on their 8-bit grid followed by their fix. Positions are
// then adjusted, only ever lowered, until every shift the DPU performs is
// legal for the target's QuantLimits (vai_q's adjust_shift_bias and
// adjust_shift_cut). Ops the DPU cannot run stay float, for the CPU.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_QUANTIZE_H
#define VAI_QUANTIZER_QUANTIZE_H

#include "vai/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace vai::quant {

struct QuantizeSummary {
  /// Layers quantized for the DPU, and those left float with the reason.
  std::vector<std::string> quantized;
  std::vector<std::pair<std::string, std::string>> leftFloat;
  /// Position changes the shift limits forced, in words ("conv1: bias
  /// position 9 -> 7 so that shift_bias <= 15").
  std::vector<std::string> adjustments;
  /// The final fix position of every quantized activation tensor, by name.
  std::map<std::string, int> positions;
};

/// The float preprocessing every quantized model gets first, as vai-quantize
/// runs it (and vai-compile, for a model given with a calibration table):
/// -vai-remove-inference-noops, -vai-fold-constants, -vai-fold-batch-norm,
/// -vai-fuse-activations, -vai-fold-transpose-into-inner-product,
/// canonicalization. Errors when a pass fails (its diagnostics went to the
/// context).
llvm::Error preprocessForQuantization(mlir::ModuleOp module);

/// Then -vai-equalize (vai-quantize's default). Returns how many fused relu6
/// it turned into relu (with `replaceRelu6`).
llvm::Expected<int64_t> equalizeForQuantization(mlir::ModuleOp module,
                                                bool replaceRelu6);

/// Quantizes `func` in place. `positions` holds the calibrated fix position
/// of activation tensors by tensorNames() name; every tensor a quantized op
/// reads or writes must have one (the error names the tensor and layer).
/// Errors also for weights or biases holding NaN or Inf.
llvm::Expected<QuantizeSummary>
quantizeFunction(mlir::func::FuncOp func,
                 const std::map<std::string, int> &positions,
                 const target::Target &target);

} // namespace vai::quant

#endif // VAI_QUANTIZER_QUANTIZE_H
