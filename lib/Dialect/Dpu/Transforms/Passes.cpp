//===- Passes.cpp - dpu passes --------------------------------------------===//

#include "vai/Dialect/Dpu/Passes.h"
#include "vai/Dialect/Dpu/DpuTarget.h"
#include "vai/Dialect/Dpu/DpuToISA.h"

#include "mlir/IR/Builders.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir::dpu {
#define GEN_PASS_DEF_DPUVERIFYTARGET
#define GEN_PASS_DEF_DPUMCROUNDTRIP
#define GEN_PASS_DEF_DPUDISASSEMBLE
#include "vai/Dialect/Dpu/Passes.h.inc"
} // namespace mlir::dpu

using namespace mlir;
using namespace mlir::dpu;
namespace isa = vai::isa;

/// The target of `program` (or `override`), loaded; errors on the program.
static FailureOr<vai::target::Target> loadTargetFor(ProgramOp program,
                                                    StringRef override) {
  StringRef name = override.empty() ? program.getTarget() : override;
  auto target = vai::target::loadTarget(name);
  if (!target)
    return program.emitOpError(llvm::toString(target.takeError()));
  return std::move(*target);
}

namespace {

struct DpuVerifyTarget
    : public mlir::dpu::impl::DpuVerifyTargetBase<DpuVerifyTarget> {
  using Base::Base;
  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](ProgramOp program) {
      FailureOr<vai::target::Target> target =
          loadTargetFor(program, targetName);
      ok &= succeeded(target) &&
            succeeded(verifyProgramForTarget(program, *target));
    });
    if (!ok)
      signalPassFailure();
  }
};

struct DpuMcRoundTrip
    : public mlir::dpu::impl::DpuMcRoundTripBase<DpuMcRoundTrip> {
  void runOnOperation() override {
    SmallVector<ProgramOp> programs;
    getOperation().walk([&](ProgramOp p) { programs.push_back(p); });
    for (ProgramOp program : programs) {
      FailureOr<std::vector<isa::Instruction>> before = toInstructions(program);
      FailureOr<std::vector<uint8_t>> code = encodeProgram(program);
      if (failed(before) || failed(code))
        return signalPassFailure();
      SmallVector<Location> locs;
      for (Operation &op : program.getBody().front())
        locs.push_back(op.getLoc());
      OpBuilder builder(program);
      FailureOr<ProgramOp> decoded =
          decodeProgram(builder, program.getLoc(), program.getSymName(),
                        program.getTarget(), *code, locs);
      if (failed(decoded))
        return signalPassFailure();
      FailureOr<std::vector<isa::Instruction>> after = toInstructions(*decoded);
      if (failed(after) || *after != *before) {
        decoded->erase();
        program.emitOpError("machine code does not decode to the same "
                            "instructions");
        return signalPassFailure();
      }
      (*decoded)->setAttrs(program->getAttrDictionary());
      program.erase();
    }
  }
};

struct DpuDisassemble
    : public mlir::dpu::impl::DpuDisassembleBase<DpuDisassemble> {
  using Base::Base;
  void runOnOperation() override {
    std::string error;
    auto file = openOutputFile(outputFile, &error);
    if (!file) {
      getOperation().emitError(error);
      return signalPassFailure();
    }
    bool ok = true;
    getOperation().walk([&](ProgramOp program) {
      ok &= succeeded(print(program, file->os()));
    });
    if (!ok)
      return signalPassFailure();
    file->keep();
  }

  LogicalResult print(ProgramOp program, raw_ostream &os) {
    FailureOr<vai::target::Target> target = loadTargetFor(program, "");
    if (failed(target))
      return failure();
    FailureOr<std::vector<isa::Instruction>> insts = toInstructions(program);
    FailureOr<std::vector<uint8_t>> code = encodeProgram(program);
    if (failed(insts) || failed(code))
      return failure();
    isa::Result<isa::Schedule> sched =
        isa::schedule(*insts, timingParams(*target));
    if (!sched) {
      const isa::Error &e = sched.error();
      Operation *at = program;
      if (e.index >= 0)
        at = &*std::next(program.getBody().front().begin(), e.index);
      return at->emitOpError(e.message);
    }
    os << llvm::formatv("program @{0} target {1}: {2} instructions, {3} "
                        "bytes\n",
                        program.getSymName(), program.getTarget(),
                        insts->size(), code->size());
    size_t offset = 0, i = 0;
    for (Operation &op : program.getBody().front()) {
      const isa::Instruction &inst = (*insts)[i];
      std::string layer;
      if (auto name = dyn_cast<NameLoc>(op.getLoc()))
        layer = ("  ; " + name.getName().strref()).str();
      os << llvm::formatv("{0:x6} {1,8} {2,8}  {3}{4}\n", offset,
                          sched->start[i], sched->end[i],
                          isa::disassembleOne(inst), layer);
      offset += 4 * isa::instructionWords(isa::opcodeOf(inst));
      ++i;
    }
    double peak = double(sched->total) * double(target->peakMacsPerCycle());
    os << llvm::formatv("total {0} cycles = {1:f3} us at {2} MHz, {3} MACs, "
                        "MAC utilisation {4:f1}%\n",
                        sched->total,
                        double(sched->total) / target->timing.clockMHz,
                        target->timing.clockMHz, sched->macs,
                        peak > 0 ? 100.0 * double(sched->macs) / peak : 0.0);
    return success();
  }
};

} // namespace
