//===- Passes.cpp - -vai-partition and -vai-lower-to-dpu
//-------------------===//

#include "vai/Backend/Passes.h"
#include "vai/Backend/Backend.h"

#include "vai/Dialect/Dpu/DpuDialect.h"

#include "llvm/Support/raw_ostream.h"

namespace vai::backend {

#define GEN_PASS_DEF_VAIPARTITION
#define GEN_PASS_DEF_VAILOWERTODPU
#include "vai/Backend/Passes.h.inc"

namespace {

/// The target named by a pass option, or an error on `op`.
std::optional<vai::target::Target> loadOrReport(mlir::Operation *op,
                                                llvm::StringRef name) {
  auto t = vai::target::loadTarget(name);
  if (!t) {
    op->emitError(llvm::toString(t.takeError()));
    return std::nullopt;
  }
  return std::move(*t);
}

struct Partition : impl::VaiPartitionBase<Partition> {
  using VaiPartitionBase::VaiPartitionBase;
  void runOnOperation() override {
    auto t = loadOrReport(getOperation(), targetName);
    if (!t)
      return signalPassFailure();
    partition(getOperation(), *t);
    if (printInspect)
      llvm::outs() << inspect(getOperation());
  }
};

struct LowerToDpu : impl::VaiLowerToDpuBase<LowerToDpu> {
  using VaiLowerToDpuBase::VaiLowerToDpuBase;
  void runOnOperation() override {
    auto t = loadOrReport(getOperation(), targetName);
    if (!t || mlir::failed(lowerToDpu(getOperation(), *t)))
      return signalPassFailure();
  }
};

} // namespace
} // namespace vai::backend
