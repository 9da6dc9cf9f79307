//===- TargetTest.cpp - The DPUCADF8H target description ------------------===//
//
// These are checks of what Debian's target-factory reports for
// DPUCADF8H_ISA0 against the published figures (see
// ../shared/reference/dpucadf8h-notes.md), so a change in the package or in
// our reading of it shows up here.
//
//===----------------------------------------------------------------------===//

#include "vai/Target/Target.h"

#include <gtest/gtest.h>

using namespace vai::target;

namespace {

TEST(IntSet, Parses) {
  auto s = IntSet::parse("1-3, 5,8-9");
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  EXPECT_TRUE(s->contains(1));
  EXPECT_TRUE(s->contains(3));
  EXPECT_FALSE(s->contains(4));
  EXPECT_TRUE(s->contains(5));
  EXPECT_TRUE(s->contains(9));
  EXPECT_FALSE(s->contains(10));
  EXPECT_EQ(s->min(), 1);
  EXPECT_EQ(s->max(), 9);
  EXPECT_EQ(s->str(), "1-3,5,8-9");
}

TEST(IntSet, RejectsMalformed) {
  for (const char *bad : {"x", "3-1", "1-", "1-2-3"}) {
    auto s = IntSet::parse(bad);
    ASSERT_FALSE(static_cast<bool>(s)) << bad;
    EXPECT_NE(llvm::toString(s.takeError()).find("malformed range"),
              std::string::npos);
  }
}

TEST(Target, ReadsDPUCADF8HFromTargetFactory) {
  auto t = loadTarget("DPUCADF8H_ISA0");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->name, "DPUCADF8H_ISA0");
  EXPECT_EQ(t->type, "DPUCADF8H");
  EXPECT_EQ(t->fingerprint, 0x0700000000000000ull);
  EXPECT_EQ(t->batch, 4);

  EXPECT_EQ(t->conv.inputChannelParallel, 16);
  EXPECT_EQ(t->conv.outputChannelParallel, 16);
  EXPECT_EQ(t->conv.pixelParallel, 8);
  EXPECT_EQ(t->conv.kernel.min(), 1);
  EXPECT_EQ(t->conv.kernel.max(), 16);
  EXPECT_EQ(t->conv.stride.max(), 8);
  EXPECT_TRUE(t->conv.nonlinear.relu);
  EXPECT_TRUE(t->conv.nonlinear.leakyRelu);
  EXPECT_TRUE(t->conv.nonlinear.relu6);
  EXPECT_TRUE(t->conv.nonlinear.prelu);

  for (const char *vb : {"VB0", "VB1", "VB2"}) {
    const BankGroup *g = t->bankGroup(vb);
    ASSERT_NE(g, nullptr) << vb;
    EXPECT_EQ(g->banks, 8);
    EXPECT_EQ(g->widthBytes, 16);
    EXPECT_EQ(g->depth, 8192);
    EXPECT_FALSE(g->isParam);
  }
  const BankGroup *w = t->bankGroup("CONVW");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->isParam);
  EXPECT_EQ(w->banks, 16);

  EXPECT_TRUE(t->pool.max);
  EXPECT_TRUE(t->pool.avg);
  EXPECT_EQ(t->pool.avgKernel.max(), 16);
  EXPECT_TRUE(t->eltwise.add);
  EXPECT_TRUE(t->eltwise.nonlinear.relu);
  EXPECT_TRUE(t->depthwise.present);
  EXPECT_EQ(t->depthwise.channelParallel, 64);
  EXPECT_EQ(t->loadChannelParallel, 16);
  EXPECT_EQ(t->saveChannelParallel, 16);

  // Peak: 16 x 16 x 8 x batch 4 MACs per cycle; 4.9 TOPS at 300 MHz.
  EXPECT_EQ(t->peakMacsPerCycle(), 8192);
  EXPECT_DOUBLE_EQ(t->timing.clockMHz, 300.0);
  EXPECT_NE(t->summary().find("fingerprint 0x0700000000000000"),
            std::string::npos);
  EXPECT_NE(t->summary().find("4.9 TOPS"), std::string::npos);
}

TEST(Target, UnknownNamesAreErrorsNotAborts) {
  for (const char *name : {"DPUCADF8H", "DPUCZDX8G_ISA0_B4096", ""}) {
    auto t = loadTarget(name);
    ASSERT_FALSE(static_cast<bool>(t)) << name;
    std::string msg = llvm::toString(t.takeError());
    EXPECT_NE(msg.find("unknown target"), std::string::npos) << msg;
    EXPECT_NE(msg.find("DPUCADF8H_ISA0"), std::string::npos) << msg;
  }
}

} // namespace
