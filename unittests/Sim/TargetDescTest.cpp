//===- TargetDescTest.cpp - Simulator descriptions of the real targets ----===//

#include "vai/Sim/TargetDesc.h"
#include "Isa0.h"
#include "vai/Dialect/Dpu/DpuTarget.h"

#include <gtest/gtest.h>

using namespace vai;

// Every supported target gives a usable machine whose figures are the
// Target's, and whose timing is the dpu dialect's schedule.
TEST(SimTarget, EverySupportedTargetMakesAMachine) {
  for (llvm::StringRef name : target::supportedTargets()) {
    SCOPED_TRACE(name.str());
    auto t = target::loadTarget(name);
    ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
    isa::TimingParams timing = mlir::dpu::timingParams(*t);
    sim::MachineDesc d = sim::machineDesc(*t, timing);
    EXPECT_EQ(d.check(), std::nullopt);
    EXPECT_EQ(d.peakMacsPerCycle(), t->peakMacsPerCycle());
    EXPECT_EQ(d.lanes, t->batch);
    ASSERT_EQ(d.bankGroups.size(), t->bankGroups.size());
    for (size_t i = 0; i < d.bankGroups.size(); ++i) {
      EXPECT_EQ(d.bankGroups[i].bytes(), t->bankGroups[i].bytes());
      EXPECT_EQ(d.bankGroups[i].isParam, t->bankGroups[i].isParam);
    }
    auto m = sim::Machine::create(d);
    ASSERT_TRUE(bool(m)) << m.error().str();

    // A LOAD, SAVE and END: the modeled cycles are isa::schedule's at the
    // Target's batch and clock.
    isa::Load l;
    l.ddr = {2, 0};
    l.rows = 4;
    l.cols = 8;
    l.channels = 32;
    l.rowStride = 8 * 32;
    l.colStride = 32;
    l.deps.notify = 1u << unsigned(isa::Engine::Save);
    isa::Save s;
    static_cast<isa::Transfer &>(s) = l;
    s.ddr = {3, 0};
    s.deps = {1u << unsigned(isa::Engine::Load), 0};
    std::vector<isa::Instruction> p = {l, s, isa::End{}};
    std::vector<std::vector<uint8_t>> in(d.lanes), out(d.lanes);
    for (int64_t lane = 0; lane < d.lanes; ++lane) {
      in[lane].assign(4 * 8 * 32, uint8_t(lane + 1));
      out[lane].assign(in[lane].size(), 0);
      ASSERT_FALSE((*m)->bind(2, lane, in[lane].data(), in[lane].size()));
      ASSERT_FALSE((*m)->bind(3, lane, out[lane].data(), out[lane].size()));
    }
    auto r = (*m)->run(p);
    ASSERT_TRUE(bool(r)) << r.error().str();
    EXPECT_EQ(out, in);
    timing.batch = t->batch;
    auto sched = isa::schedule(p, timing);
    ASSERT_TRUE(bool(sched));
    EXPECT_EQ(r->totalCycles, sched->total);
    EXPECT_DOUBLE_EQ(r->latencySeconds,
                     double(sched->total) / (t->timing.clockMHz * 1e6));
  }
}

// The figures the simulator tests copy are the real target's.
TEST(SimTarget, TestFiguresAreIsa0s) {
  auto t = target::loadTarget("DPUCADF8H_ISA0");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  sim::MachineDesc real = sim::machineDesc(*t, mlir::dpu::timingParams(*t));
  sim::MachineDesc copy = sim::test::isa0();
  ASSERT_EQ(real.bankGroups.size(), copy.bankGroups.size());
  for (size_t i = 0; i < real.bankGroups.size(); ++i) {
    const sim::BankGroupDesc &a = real.bankGroups[i], &b = copy.bankGroups[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.banks, b.banks) << a.name;
    EXPECT_EQ(a.widthBytes, b.widthBytes) << a.name;
    EXPECT_EQ(a.depth, b.depth) << a.name;
    EXPECT_EQ(a.isParam, b.isParam) << a.name;
  }
  EXPECT_EQ(real.lanes, copy.lanes);
  EXPECT_EQ(real.clockMHz, copy.clockMHz);
  EXPECT_EQ(real.activationMin, copy.activationMin);
  EXPECT_EQ(real.activationMax, copy.activationMax);
  const isa::TimingParams &a = real.timing, &b = copy.timing;
  for (auto [x, y] : {std::pair{a.convICP, b.convICP},
                      {a.convOCP, b.convOCP},
                      {a.convPP, b.convPP},
                      {a.dwCP, b.dwCP},
                      {a.dwPP, b.dwPP},
                      {a.poolCP, b.poolCP},
                      {a.poolPP, b.poolPP},
                      {a.eltwiseCP, b.eltwiseCP},
                      {a.eltwisePP, b.eltwisePP},
                      {a.loadCP, b.loadCP},
                      {a.saveCP, b.saveCP},
                      {a.loadLatency, b.loadLatency},
                      {a.saveLatency, b.saveLatency},
                      {a.convLatency, b.convLatency},
                      {a.dwLatency, b.dwLatency},
                      {a.poolLatency, b.poolLatency},
                      {a.eltwiseLatency, b.eltwiseLatency}})
    EXPECT_EQ(x, y);
  EXPECT_EQ(a.loadBytesPerCycle, b.loadBytesPerCycle);
  EXPECT_EQ(a.saveBytesPerCycle, b.saveBytesPerCycle);
}
