//===- QuantizePass.cpp - The -vai-quantize pass --------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Quantizer/Calibrate.h"
#include "vai/Quantizer/Quantize.h"
#include "vai/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::vai {
#define GEN_PASS_DEF_QUANTIZE
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;

namespace {

struct QuantizePass : mlir::vai::impl::QuantizeBase<QuantizePass> {
  using QuantizeBase::QuantizeBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto fail = [&](llvm::Error err) {
      func.emitError() << llvm::toString(std::move(err));
      signalPassFailure();
    };
    if (calibTable.empty()) {
      func.emitError() << "-vai-quantize needs calib-table=<file>";
      return signalPassFailure();
    }
    auto table = ::vai::quant::readCalibTable(calibTable);
    if (!table)
      return fail(table.takeError());
    std::map<std::string, int> positions;
    for (const ::vai::quant::CalibEntry &e : *table)
      positions[e.tensor] = e.fixPoint;
    auto target = ::vai::target::loadTarget(targetName);
    if (!target)
      return fail(target.takeError());
    auto summary = ::vai::quant::quantizeFunction(func, positions, *target);
    if (!summary)
      return fail(summary.takeError());
    for (const auto &[layer, reason] : summary->leftFloat)
      func.emitRemark() << "layer '" << layer << "' stays float: " << reason;
    for (const std::string &adjustment : summary->adjustments)
      func.emitRemark() << adjustment;
  }
};

} // namespace
