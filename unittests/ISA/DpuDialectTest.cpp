//===- DpuDialectTest.cpp - dpu ops <-> vai::isa instructions -------------===//
//
// Random legal programs go through the dialect: built from vai::isa
// instructions, verified, printed (custom and generic form), parsed back and
// converted to instructions again; they must come back unchanged. Decode
// errors and program errors surface as diagnostics, never as aborts.
//
//===----------------------------------------------------------------------===//

#include "RandomPrograms.h"
#include "vai/Dialect/Dpu/DpuTarget.h"
#include "vai/Dialect/Dpu/DpuToISA.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
namespace isa = vai::isa;

namespace {

struct DpuDialectTest : ::testing::Test {
  MLIRContext ctx;
  std::string diagnostics;
  ScopedDiagnosticHandler handler{&ctx, [this](Diagnostic &d) {
                                    diagnostics += d.str() + "\n";
                                    return success();
                                  }};
  DpuDialectTest() { ctx.loadDialect<dpu::DpuDialect>(); }

  OwningOpRef<ModuleOp> build(const std::vector<isa::Instruction> &insts) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx));
    OpBuilder b(module->getBodyRegion());
    dpu::buildProgram(b, UnknownLoc::get(&ctx), "p", "DPUCADF8H_ISA0", insts);
    return module;
  }
  dpu::ProgramOp first(ModuleOp m) {
    return *m.getBody()->getOps<dpu::ProgramOp>().begin();
  }
};

std::string print(ModuleOp m, bool generic) {
  std::string s;
  llvm::raw_string_ostream os(s);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  m.print(os, flags);
  return s;
}

} // namespace

TEST_F(DpuDialectTest, RandomProgramsRoundTripThroughText) {
  isa::testing::Gen g(11);
  for (int iter = 0; iter < 40; ++iter) {
    std::vector<isa::Instruction> insts = g.program(50);
    OwningOpRef<ModuleOp> m = build(insts);
    ASSERT_TRUE(succeeded(verify(*m))) << diagnostics;
    for (bool generic : {false, true}) {
      std::string text = print(*m, generic);
      OwningOpRef<ModuleOp> back = parseSourceString<ModuleOp>(text, &ctx);
      ASSERT_TRUE(back) << diagnostics << text;
      FailureOr<std::vector<isa::Instruction>> again =
          dpu::toInstructions(first(*back));
      ASSERT_TRUE(succeeded(again)) << diagnostics;
      ASSERT_EQ(again->size(), insts.size());
      for (size_t i = 0; i < insts.size(); ++i)
        ASSERT_TRUE((*again)[i] == insts[i])
            << "instruction " << i << ": " << isa::disassembleOne(insts[i])
            << "\nback: " << isa::disassembleOne((*again)[i]);
    }
    // And through the machine code.
    FailureOr<std::vector<uint8_t>> code = dpu::encodeProgram(first(*m));
    ASSERT_TRUE(succeeded(code)) << diagnostics;
    OpBuilder b(m->getBodyRegion());
    FailureOr<dpu::ProgramOp> decoded = dpu::decodeProgram(
        b, UnknownLoc::get(&ctx), "q", "DPUCADF8H_ISA0", *code);
    ASSERT_TRUE(succeeded(decoded)) << diagnostics;
    EXPECT_EQ(*dpu::toInstructions(*decoded), insts);
  }
}

TEST_F(DpuDialectTest, DecodeErrorIsADiagnostic) {
  isa::testing::Gen g(12);
  OwningOpRef<ModuleOp> m = build(g.program(10));
  FailureOr<std::vector<uint8_t>> code = dpu::encodeProgram(first(*m));
  ASSERT_TRUE(succeeded(code));
  std::vector<uint8_t> cut(code->begin(), code->begin() + 16);
  OpBuilder b(m->getBodyRegion());
  FailureOr<dpu::ProgramOp> decoded =
      dpu::decodeProgram(b, UnknownLoc::get(&ctx), "sg", "DPUCADF8H_ISA0", cut);
  EXPECT_TRUE(failed(decoded));
  EXPECT_NE(diagnostics.find("machine code of 'sg': instruction "),
            std::string::npos)
      << diagnostics;
}

TEST_F(DpuDialectTest, InvalidProgramFailsVerification) {
  // A CONV whose engine was never configured.
  OwningOpRef<ModuleOp> m = build({isa::Conv{}, isa::End{}});
  EXPECT_TRUE(failed(verify(*m)));
  EXPECT_NE(diagnostics.find("CONV without a preceding CONVINIT"),
            std::string::npos)
      << diagnostics;
  diagnostics.clear();
  EXPECT_TRUE(failed(dpu::encodeProgram(first(*m))));
  EXPECT_NE(diagnostics.find("CONV without a preceding CONVINIT"),
            std::string::npos);
}

// The encoding holds every value the target allows (docs/isa.md: field
// widths chosen for DPUCADF8H_ISA0), and timingParams passes the target's
// figures through unchanged.
TEST(DpuTarget, EncodingHoldsEveryLegalValueOfTheTarget) {
  auto t = vai::target::loadTarget("DPUCADF8H_ISA0");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  using L = isa::EncodingLimits;
  EXPECT_LE(int64_t(t->bankGroups.size()), L::kMaxBankGroups);
  for (const auto &g : t->bankGroups)
    EXPECT_LE(g.banks * g.depth, L::kMaxBankAddr) << g.name;
  for (const auto *k : {&t->conv.kernel, &t->depthwise.kernel,
                        &t->pool.maxKernel, &t->pool.avgKernel}) {
    EXPECT_GE(k->min(), 1);
    EXPECT_LE(k->max(), L::kMaxKernel);
  }
  for (const auto *s : {&t->conv.stride, &t->depthwise.stride,
                        &t->pool.maxStride, &t->pool.avgStride}) {
    EXPECT_GE(s->min(), 1);
    EXPECT_LE(s->max(), L::kMaxWindowStride);
  }
  EXPECT_LE(t->quant.padMax, L::kMaxPad);
  EXPECT_GE(t->quant.shiftBiasMin, 0);
  EXPECT_LE(t->quant.shiftBiasMax, L::kMaxShiftBias);
  EXPECT_GE(t->quant.shiftCutMin, 0);
  EXPECT_LE(t->quant.shiftCutMax, L::kMaxShiftCut);
  EXPECT_LE(t->quant.activationMax, L::kMaxActMax);

  isa::TimingParams p = dpu::timingParams(*t);
  EXPECT_EQ(p.batch, t->batch);
  EXPECT_EQ(p.convICP * p.convOCP * p.convPP * p.batch, t->peakMacsPerCycle());
  EXPECT_EQ(p.dwCP, t->depthwise.channelParallel);
  EXPECT_EQ(p.dwPP, t->depthwise.pixelParallel);
  EXPECT_EQ(p.poolCP, t->pool.channelParallel);
  EXPECT_EQ(p.poolPP, t->pool.pixelParallel);
  EXPECT_EQ(p.eltwiseCP, t->eltwise.channelParallel);
  EXPECT_EQ(p.eltwisePP, t->eltwise.pixelParallel);
  EXPECT_EQ(p.loadCP, t->loadChannelParallel);
  EXPECT_EQ(p.saveCP, t->saveChannelParallel);
  EXPECT_EQ(p.loadBytesPerCycle, t->timing.loadBytesPerCycle);
  EXPECT_EQ(p.saveBytesPerCycle, t->timing.saveBytesPerCycle);
  EXPECT_EQ(p.loadLatency, t->timing.loadLatency);
  EXPECT_EQ(p.saveLatency, t->timing.saveLatency);
  EXPECT_EQ(p.convLatency, t->timing.convLatency);
  EXPECT_EQ(p.dwLatency, t->timing.depthwiseLatency);
  EXPECT_EQ(p.poolLatency, t->timing.poolLatency);
  EXPECT_EQ(p.eltwiseLatency, t->timing.eltwiseLatency);
}
