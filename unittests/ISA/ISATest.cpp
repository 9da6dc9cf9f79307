//===- ISATest.cpp - Encoding, decoding and timing of our DPU ISA ---------===//
//
// Random legal instructions of every kind round-trip through the machine
// code; corrupt and truncated machine code gives errors (never a crash); the
// timing model matches the formulas of docs/isa.md recomputed here; the
// field table in docs/isa.md is the one the library encodes with.
//
//===----------------------------------------------------------------------===//

#include "vai/ISA/ISA.h"
#include "RandomPrograms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace vai::isa;
using L = EncodingLimits;
using vai::isa::testing::Gen;

namespace {

std::vector<uint8_t> mustEncode(const std::vector<Instruction> &p) {
  auto bytes = encode(p);
  EXPECT_TRUE(bool(bytes)) << (bytes ? "" : bytes.error().str());
  return bytes ? *bytes : std::vector<uint8_t>{};
}

uint32_t wordAt(const std::vector<uint8_t> &b, size_t i) {
  return uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 |
         uint32_t(b[4 * i + 2]) << 16 | uint32_t(b[4 * i + 3]) << 24;
}

} // namespace

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(ISA, RandomProgramsRoundTrip) {
  Gen g(1);
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<Instruction> p = g.program(40);
    ASSERT_FALSE(validateProgram(p)) << validateProgram(p)->str();
    std::vector<uint8_t> bytes = mustEncode(p);
    auto back = decode(bytes.data(), bytes.size());
    ASSERT_TRUE(bool(back)) << back.error().str();
    ASSERT_EQ(back->size(), p.size());
    for (size_t i = 0; i < p.size(); ++i)
      ASSERT_TRUE((*back)[i] == p[i])
          << "instruction " << i << ":\n  " << disassembleOne(p[i]) << "\n  "
          << disassembleOne((*back)[i]);
  }
}

TEST(ISA, ExtremeValuesRoundTrip) {
  // Every field at its minimum, then at its maximum.
  for (bool high : {false, true}) {
    auto v = [&](int64_t lo, int64_t hi) { return high ? hi : lo; };
    Load l;
    l.ddr = {v(0, L::kMaxRegs - 1), v(0, L::kMaxDdrOffset - 1)};
    l.bank = {v(0, 3), v(0, L::kMaxBankAddr - 1)};
    l.rows = l.cols = v(1, L::kMaxTransferDim);
    l.channels = v(1, L::kMaxChannels);
    l.rowStride = l.colStride = v(0, L::kMaxStride - 1);
    l.deps = {uint32_t(v(0, kEngineMaskAll & ~1u)),
              uint32_t(v(0, kEngineMaskAll & ~1u))};
    ConvInit ci;
    ci.kernelH = ci.kernelW = v(1, 16);
    ci.strideH = ci.strideW = v(1, 8);
    ci.dilationH = ci.dilationW = v(1, 16);
    ci.padTop = ci.padBottom = ci.padLeft = ci.padRight = v(0, 15);
    ci.shiftBias = v(0, 15);
    ci.shiftCut = v(0, 31);
    ci.act = high ? Activation::Relu6 : Activation::None;
    ci.actMax = v(0, 127);
    PoolInit pi;
    pi.kind = high ? PoolKind::Avg : PoolKind::Max;
    pi.mul = v(1, 255);
    pi.shift = v(-32, 31);
    std::vector<Instruction> p = {l, ci, pi, End{}};
    std::vector<uint8_t> bytes = mustEncode(p);
    auto back = decode(bytes.data(), bytes.size());
    ASSERT_TRUE(bool(back)) << back.error().str();
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_TRUE((*back)[i] == p[i]) << disassembleOne((*back)[i]);
  }
}

//===----------------------------------------------------------------------===//
// Bit positions, recomputed from docs/isa.md's layout
//===----------------------------------------------------------------------===//

TEST(ISA, LoadBitLayout) {
  Load l;
  l.deps = {1u << 2, 1u << 2}; // wait conv, notify conv
  l.ddr = {5, 0x12345678};
  l.bank = {2, 0x1ABCD};
  l.rows = 300;
  l.cols = 7;
  l.channels = 64;
  l.rowStride = 0xABCDEF;
  l.colStride = 64;
  std::vector<uint8_t> b = mustEncode({l, End{}});
  ASSERT_EQ(b.size(), 4u * 7);
  EXPECT_EQ(wordAt(b, 0),
            0x1u << 28 | 4u << 22 | 4u << 16 | 5u << 13 | 2u << 11);
  EXPECT_EQ(wordAt(b, 1), 0x12345678u);
  EXPECT_EQ(wordAt(b, 2), 0x1ABCDu << 15 | 63u << 2);
  EXPECT_EQ(wordAt(b, 3), 299u << 16 | 6u);
  EXPECT_EQ(wordAt(b, 4), 0xABCDEFu << 8);
  EXPECT_EQ(wordAt(b, 5), 64u << 8);
  EXPECT_EQ(wordAt(b, 6), 0xFu << 28); // END
}

TEST(ISA, ConvBitLayout) {
  ConvInit ci;
  ci.kernelH = 3;
  ci.kernelW = 5;
  ci.strideH = 2;
  ci.strideW = 1;
  ci.padTop = 1;
  ci.padBottom = 2;
  ci.padLeft = 3;
  ci.padRight = 4;
  ci.dilationH = 1;
  ci.dilationW = 2;
  ci.shiftBias = 9;
  ci.shiftCut = 17;
  ci.act = Activation::LeakyRelu;
  Conv c;
  c.deps = {1u << 0, 1u << 1}; // wait load, notify save
  c.edge = EdgeTop | EdgeRight;
  c.in = {{1, 0x100}, 20, 30};
  c.out = {{2, 0x200}, 10, 12};
  c.inChannels = 32;
  c.outChannels = 48;
  c.weightGroup = 3;
  c.weightAddr = 0x300;
  c.biasAddr = 0x1FFFF;
  std::vector<uint8_t> b = mustEncode({ci, c, End{}});
  ASSERT_EQ(b.size(), 4u * (3 + 7 + 1));
  EXPECT_EQ(wordAt(b, 0), 0x3u << 28 | 2u << 12 | 4u << 8 | 1u << 5 | 0u << 2);
  EXPECT_EQ(wordAt(b, 1),
            1u << 28 | 2u << 24 | 3u << 20 | 4u << 16 | 0u << 12 | 1u << 8);
  EXPECT_EQ(wordAt(b, 2), 9u << 28 | 17u << 23 | 3u << 20);
  EXPECT_EQ(wordAt(b, 3), 0x4u << 28 | 1u << 22 | 2u << 16 | 9u << 12 |
                              1u << 10 | 2u << 8 | 3u << 6);
  EXPECT_EQ(wordAt(b, 4), 0x100u << 15 | 31u << 2);
  EXPECT_EQ(wordAt(b, 5), 19u << 19 | 29u << 6);
  EXPECT_EQ(wordAt(b, 6), 0x200u << 15 | 47u << 2);
  EXPECT_EQ(wordAt(b, 7), 9u << 19 | 11u << 6);
  EXPECT_EQ(wordAt(b, 8), 0x300u << 15);
  EXPECT_EQ(wordAt(b, 9), 0x1FFFFu << 15);
}

TEST(ISA, PoolAndEltwiseBitLayout) {
  PoolInit pi;
  pi.kind = PoolKind::Avg;
  pi.kernelH = pi.kernelW = 3;
  pi.strideH = pi.strideW = 2;
  pi.padTop = pi.padLeft = 1;
  pi.mul = 7;
  pi.shift = -3; // 6-bit two's complement 0b111101
  Eltwise e;
  e.relu = true;
  e.shiftA = 2;
  e.shiftB = 0;
  e.shiftOut = 3;
  e.a = {0, 5};
  e.b = {1, 6};
  e.out = {2, 7};
  e.rows = 8;
  e.cols = 9;
  e.channels = 10;
  std::vector<uint8_t> b = mustEncode({pi, e, End{}});
  ASSERT_EQ(b.size(), 4u * (2 + 5 + 1));
  EXPECT_EQ(wordAt(b, 0),
            0x7u << 28 | 2u << 12 | 2u << 8 | 1u << 5 | 1u << 2 | 1u << 1);
  EXPECT_EQ(wordAt(b, 1), 1u << 28 | 1u << 20 | 7u << 8 | 0x3Du << 2);
  EXPECT_EQ(wordAt(b, 2), 0x9u << 28 | 1u << 15 | 2u << 11 | 3u << 2);
  EXPECT_EQ(wordAt(b, 3), 5u << 15 | 0u << 13 | 9u);
  EXPECT_EQ(wordAt(b, 4), 6u << 15 | 1u << 13);
  EXPECT_EQ(wordAt(b, 5), 7u << 15 | 2u << 13);
  EXPECT_EQ(wordAt(b, 6), 7u << 19 | 8u << 6);
}

TEST(ISA, DocumentationTableMatchesEncoder) {
  std::ifstream f(VAI_ISA_DOC);
  ASSERT_TRUE(f) << "cannot read " << VAI_ISA_DOC;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  const std::string begin = "<!-- BEGIN ENCODING TABLE -->\n",
                    end = "<!-- END ENCODING TABLE -->";
  size_t a = doc.find(begin), z = doc.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(z, std::string::npos);
  std::string table = doc.substr(a + begin.size(), z - a - begin.size());
  EXPECT_EQ(table, encodingTableMarkdown())
      << "docs/isa.md's encoding table differs from the encoder's; "
         "regenerate it from vai::isa::encodingTableMarkdown()";
}

//===----------------------------------------------------------------------===//
// Validation and decode errors
//===----------------------------------------------------------------------===//

TEST(ISA, ValidateRejectsEachRule) {
  auto msg = [](const Instruction &i) {
    auto e = validate(i);
    return e ? e->str() : std::string("<valid>");
  };
  ConvInit ci;
  ci.kernelH = 17;
  EXPECT_EQ(msg(ci), "CONVINIT: kernel_h is 17, expected 1-16");
  ci = ConvInit{};
  ci.actMax = 6;
  EXPECT_NE(msg(ci).find("act_max must be 0 unless act is relu6"),
            std::string::npos);
  Load l;
  l.deps.wait = 1; // itself
  EXPECT_NE(msg(l).find("waits for its own engine"), std::string::npos);
  l.deps = {0, 1u << 6};
  EXPECT_NE(msg(l).find("bits beyond"), std::string::npos);
  End end;
  end.deps.notify = 4;
  EXPECT_NE(msg(end).find("END waits for all engines implicitly"),
            std::string::npos);
  PoolInit pi;
  pi.mul = 3;
  EXPECT_NE(msg(pi).find("max pooling needs mul 1"), std::string::npos);
  pi = PoolInit{};
  pi.kernelH = 2;
  pi.padTop = 2;
  EXPECT_NE(msg(pi).find("padding must be smaller than the kernel"),
            std::string::npos);
  Eltwise e;
  e.shiftOut = 32;
  EXPECT_EQ(msg(e), "ELTWISE: shift_out is 32, expected 0-31");
  Save s;
  EXPECT_NE(msg(s).find("reg 0 holds the parameters"), std::string::npos);
  s.ddr.reg = 1;
  s.ddr.offset = -1;
  EXPECT_EQ(msg(s), "SAVE: ddr_offset is -1, expected 0-4294967295");
}

TEST(ISA, ValidateProgramStructure) {
  Conv c;
  auto e = validateProgram({c, End{}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->str(), "instruction 0: CONV without a preceding CONVINIT");
  e = validateProgram({End{}, End{}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->index, 0);
  e = validateProgram({Load{}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->str(), "the program does not end with END");
  // Window geometry: a 3x3 stride-1 kernel needs 6 input rows for 4 output
  // rows without padding, 5 with the top padding of 1.
  ConvInit ci;
  ci.kernelH = ci.kernelW = 3;
  ci.padTop = 1;
  c.out.rows = 4;
  c.out.cols = 1;
  c.in.rows = 5;
  c.in.cols = 3;
  e = validateProgram({ci, c, End{}});
  ASSERT_TRUE(e);
  EXPECT_NE(e->str().find("reads 6 input rows"), std::string::npos) << e->str();
  c.edge = EdgeTop;
  EXPECT_FALSE(validateProgram({ci, c, End{}}));
}

TEST(ISA, DecodeErrors) {
  Gen g(7);
  std::vector<Instruction> p = g.program(30);
  std::vector<uint8_t> good = mustEncode(p);
  auto err = [](const std::vector<uint8_t> &b) {
    auto r = decode(b.data(), b.size());
    return r ? Error{"<decoded>"} : r.error();
  };

  // Not a whole number of words.
  std::vector<uint8_t> b = good;
  b.push_back(0);
  EXPECT_NE(err(b).str().find("not a whole number of 32-bit words"),
            std::string::npos);

  // Truncated at every instruction boundary + 1 word.
  size_t offset = 0;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    unsigned words = instructionWords(opcodeOf(p[i]));
    if (words > 1) {
      b.assign(good.begin(), good.begin() + offset + 4);
      Error e = err(b);
      EXPECT_EQ(e.index, int64_t(i));
      EXPECT_EQ(e.byteOffset, int64_t(offset));
      EXPECT_NE(e.message.find("truncated"), std::string::npos) << e.str();
    }
    offset += 4ull * words;
  }

  // Missing END (cut just before it).
  b.assign(good.begin(), good.end() - 4);
  EXPECT_EQ(err(b).message, "the program does not end with END");

  // Invalid opcodes in the first word.
  for (unsigned op : {0x0u, 0xAu, 0xBu, 0xCu, 0xDu, 0xEu}) {
    b = good;
    b[3] = uint8_t((b[3] & 0x0F) | op << 4);
    Error e = err(b);
    EXPECT_EQ(e.index, 0);
    EXPECT_EQ(e.byteOffset, 0);
    EXPECT_NE(e.message.find("invalid opcode"), std::string::npos);
  }

  // Data after END.
  b = good;
  b.insert(b.end(), {0, 0, 0, 0xF0});
  EXPECT_NE(err(b).message.find("END before the end"), std::string::npos);

  // Empty input.
  EXPECT_EQ(err({}).message, "the program does not end with END");
}

/// The bits each instruction kind uses, word by word, as docs/isa.md lays
/// them out (written out here independently of the encoder's tables).
static std::vector<uint32_t> usedBitsPerSpec(Opcode op) {
  switch (op) {
  case Opcode::Load:
  case Opcode::Save:
    return {0xFFFFF800, 0xFFFFFFFF, 0xFFFFFFFC,
            0xFFFFFFFF, 0xFFFFFF00, 0xFFFFFF00};
  case Opcode::ConvInit:
  case Opcode::DwInit:
    return {0xFFFFFFFC, 0xFFFFFF00, 0xFFFFE000};
  case Opcode::Conv:
    return {0xFFFFFFC0, 0xFFFFFFFC, 0xFFFFFFC0, 0xFFFFFFFC,
            0xFFFFFFC0, 0xFFFF8000, 0xFFFF8000};
  case Opcode::DwConv:
    return {0xFFFFFFC0, 0xFFFFFFFC, 0xFFFFFFC0, 0xFFFF8000,
            0xFFFFFFC0, 0xFFFF8000, 0xFFFF8000};
  case Opcode::PoolInit:
    return {0xFFFFFFFE, 0xFFFFFFFC};
  case Opcode::Pool:
    return {0xFFFFFF00, 0xFFFFFFFC, 0xFFFFFFC0, 0xFFFF8000, 0xFFFFFFC0};
  case Opcode::Eltwise:
    return {0xFFFFFFFC, 0xFFFFFFFF, 0xFFFFE000, 0xFFFFE000, 0xFFFFFFC0};
  case Opcode::End:
    return {0xFFFF0000};
  }
  return {};
}

TEST(ISA, ReservedBitsAreZeroAndRejected) {
  Gen g(3);
  std::vector<Instruction> p = g.program(300);
  std::vector<uint8_t> good = mustEncode(p);
  std::vector<bool> seenKind(16, false);
  size_t offset = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    Opcode op = opcodeOf(p[i]);
    std::vector<uint32_t> used = usedBitsPerSpec(op);
    ASSERT_EQ(used.size(), instructionWords(op)) << opcodeName(op);
    // The encoder leaves reserved bits 0.
    for (unsigned j = 0; j < used.size(); ++j)
      ASSERT_EQ(wordAt(good, offset / 4 + j) & ~used[j], 0u)
          << opcodeName(op) << " word " << j;
    // The decoder rejects each reserved bit (first instance of each kind).
    if (!seenKind[unsigned(op)]) {
      seenKind[unsigned(op)] = true;
      for (unsigned j = 0; j < used.size(); ++j)
        for (unsigned bit = 0; bit < 32; ++bit) {
          if (used[j] & (1u << bit))
            continue;
          std::vector<uint8_t> b = good;
          b[offset + 4 * j + bit / 8] ^= uint8_t(1u << (bit % 8));
          auto r = decode(b.data(), b.size());
          ASSERT_FALSE(bool(r))
              << opcodeName(op) << " word " << j << " bit " << bit;
          EXPECT_EQ(r.error().index, int64_t(i));
          EXPECT_EQ(r.error().byteOffset, int64_t(offset));
          EXPECT_NE(r.error().message.find("reserved bits"), std::string::npos)
              << r.error().str();
        }
    }
    offset += 4ull * used.size();
  }
  for (Opcode op : {Opcode::Load, Opcode::Save, Opcode::ConvInit, Opcode::Conv,
                    Opcode::DwInit, Opcode::DwConv, Opcode::PoolInit,
                    Opcode::Pool, Opcode::Eltwise, Opcode::End})
    EXPECT_TRUE(seenKind[unsigned(op)]) << opcodeName(op);
}

TEST(ISA, DecodeRejectsOutOfRangeFields) {
  auto decodeWords = [](std::vector<uint32_t> w) {
    w.push_back(0xF0000000u);
    std::vector<uint8_t> b;
    for (uint32_t x : w)
      for (int k = 0; k < 4; ++k)
        b.push_back(uint8_t(x >> (8 * k)));
    auto r = decode(b.data(), b.size());
    return r ? std::string("<decoded>") : r.error().str();
  };
  // CONVINIT with act = 5 (bits [22:20] of word 2).
  EXPECT_EQ(decodeWords({0x3u << 28, 0, 5u << 20}),
            "instruction 0 (at byte 0): CONVINIT: act is 5, expected 0-3");
  // POOLINIT with mul = 0.
  EXPECT_EQ(decodeWords({0x7u << 28, 0}),
            "instruction 0 (at byte 0): POOLINIT: mul is 0, expected 1-255");
  // LOAD waiting for itself (wait bit 0).
  std::string e = decodeWords({0x1u << 28 | 1u << 22, 0, 0, 0, 0, 0});
  EXPECT_NE(e.find("waits for its own engine"), std::string::npos) << e;
  // END with a notify bit.
  EXPECT_NE(decodeWords({0xF0000000u | 1u << 16}).find("END waits"),
            std::string::npos);
}

TEST(ISA, FuzzNeverCrashesAndDecodedCodeReencodesExactly) {
  Gen g(42);
  std::vector<uint8_t> good = mustEncode(g.program(60));
  int decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> b;
    if (iter % 2) {
      // Random bytes, sometimes with a plausible opcode in every word.
      b.resize(size_t(g.in(0, 200)));
      for (uint8_t &x : b)
        x = uint8_t(g.in(0, 255));
    } else {
      // A valid program with a few flipped bits and maybe cut short.
      b = good;
      for (int k = g.in(1, 3); k > 0; --k)
        b[size_t(g.in(0, int64_t(b.size()) - 1))] ^= uint8_t(1u << g.in(0, 7));
      if (g.coin())
        b.resize(size_t(g.in(0, int64_t(b.size()))));
    }
    auto r = decode(b.data(), b.size());
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
      continue;
    }
    ++decoded;
    // Whatever decodes is canonical: it re-encodes to the same bytes.
    auto again = encode(*r);
    ASSERT_TRUE(bool(again)) << again.error().str();
    EXPECT_EQ(*again, b);
    EXPECT_FALSE(disassemble(*r).empty());
  }
  // Some single bit flips hit a field and still decode.
  EXPECT_GT(decoded, 0);
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

namespace {
// DPUCADF8H_ISA0's figures as lib/Target reports them, copied here to
// exercise the formulas with realistic values (the Target test checks the
// figures themselves).
TimingParams params() {
  TimingParams t;
  t.batch = 4;
  t.convICP = 16;
  t.convOCP = 16;
  t.convPP = 8;
  t.dwCP = 64;
  t.dwPP = 4;
  t.poolCP = 16;
  t.poolPP = 2;
  t.eltwiseCP = 16;
  t.eltwisePP = 2;
  t.loadCP = t.saveCP = 16;
  t.loadBytesPerCycle = t.saveBytesPerCycle = 64;
  t.loadLatency = t.saveLatency = 40;
  t.convLatency = 16;
  t.dwLatency = 12;
  t.poolLatency = 8;
  t.eltwiseLatency = 8;
  return t;
}
int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
} // namespace

TEST(ISA, TimingFormulas) {
  TimingParams t = params();
  Gen g(5);
  for (int iter = 0; iter < 200; ++iter) {
    ConvInit ci = g.window<ConvInit>(Engine::Conv);
    Conv c = g.conv(ci);
    int64_t expect =
        t.convLatency +
        cdiv(c.inChannels, t.convICP) * cdiv(c.outChannels, t.convOCP) *
            cdiv(c.out.rows * c.out.cols, t.convPP) * ci.kernelH * ci.kernelW;
    EXPECT_EQ(convCycles(c, ci, t), expect);

    DwInit di = g.window<DwInit>(Engine::DwConv);
    DwConv d = g.dwconv(di);
    EXPECT_EQ(dwConvCycles(d, di, t),
              t.dwLatency + cdiv(d.channels, t.dwCP) *
                                cdiv(d.out.rows * d.out.cols, t.dwPP) *
                                di.kernelH * di.kernelW);

    PoolInit pi = g.poolInit();
    Pool p = g.pool(pi);
    EXPECT_EQ(poolCycles(p, pi, t),
              t.poolLatency + cdiv(p.channels, t.poolCP) *
                                  cdiv(p.out.rows * p.out.cols, t.poolPP) *
                                  pi.kernelH * pi.kernelW);

    Eltwise e = g.eltwise();
    EXPECT_EQ(eltwiseCycles(e, t),
              t.eltwiseLatency + cdiv(e.channels, t.eltwiseCP) *
                                     cdiv(e.rows * e.cols, t.eltwisePP));

    Load l = g.transfer<Load>(Engine::Load);
    l.rows = g.in(1, 64);
    l.cols = g.in(1, 64);
    int64_t lanes = l.ddr.reg == 0 ? 1 : t.batch;
    int64_t bytes = l.rows * l.cols * l.channels * lanes;
    int64_t ddr = cdiv(bytes, 64);
    int64_t bank = l.rows * l.cols * cdiv(l.channels, t.loadCP);
    EXPECT_EQ(loadCycles(l, t), t.loadLatency + std::max(ddr, bank));
  }
  // Batch lanes run in parallel: a conv costs the same at batch 1 and 4, its
  // MACs scale with the batch.
  ConvInit ci;
  ci.kernelH = ci.kernelW = 3;
  Conv c;
  c.in = {{0, 0}, 10, 10};
  c.out = {{1, 0}, 8, 8};
  c.inChannels = 64;
  c.outChannels = 64;
  TimingParams one = t;
  one.batch = 1;
  EXPECT_EQ(convCycles(c, ci, one), convCycles(c, ci, t));
  Instruction cfg = ci;
  EXPECT_EQ(macs(c, &cfg, t), 8 * 8 * 64 * 64 * 9 * 4);
  EXPECT_EQ(macs(c, &cfg, one), 8 * 8 * 64 * 64 * 9);
}

TEST(ISA, ScheduleOverlapsEngines) {
  TimingParams t = params();
  // Double buffering: load tile 1 while the conv works on tile 0, save tile
  // 0 while the conv works on tile 1.
  Load l0, l1;
  l0.ddr = l1.ddr = {1, 0};
  l0.rows = l1.rows = 10;
  l0.cols = l1.cols = 10;
  l0.channels = l1.channels = 64;
  l0.deps.notify = l1.deps.notify = 1u << unsigned(Engine::Conv);
  ConvInit ci;
  ci.kernelH = ci.kernelW = 3;
  Conv c0, c1;
  c0.in = c1.in = {{0, 0}, 10, 10};
  c0.out = c1.out = {{1, 0}, 8, 8};
  c0.inChannels = c1.inChannels = 64;
  c0.outChannels = c1.outChannels = 64;
  c0.deps =
      c1.deps = {1u << unsigned(Engine::Load), 1u << unsigned(Engine::Save)};
  Save s0, s1;
  s0.ddr = s1.ddr = {1, 0};
  s0.rows = s1.rows = 8;
  s0.cols = s1.cols = 8;
  s0.channels = s1.channels = 64;
  s0.deps.wait = s1.deps.wait = 1u << unsigned(Engine::Conv);
  std::vector<Instruction> p = {l0, ci, l1, c0, s0, c1, s1, End{}};
  auto cyc = instructionCycles(p, t);
  ASSERT_TRUE(bool(cyc)) << cyc.error().str();
  auto s = schedule(p, t);
  ASSERT_TRUE(bool(s)) << s.error().str();

  int64_t L = loadCycles(l0, t), C = convCycles(c0, ci, t),
          S = saveCycles(s0, t);
  // Recomputed by hand from the rules: loads back to back; CONVINIT at 0;
  // each conv waits for its load and the previous conv; each save for its
  // conv and the previous save.
  int64_t l0End = L, l1End = 2 * L;
  int64_t c0Start = std::max<int64_t>(1, l0End), c0End = c0Start + C;
  int64_t c1Start = std::max(c0End, l1End), c1End = c1Start + C;
  int64_t s0End = c0End + S, s1End = std::max(s0End, c1End) + S;
  EXPECT_EQ(s->end[0], l0End);
  EXPECT_EQ(s->end[2], l1End);
  EXPECT_EQ(s->start[3], c0Start);
  EXPECT_EQ(s->end[5], c1End);
  EXPECT_EQ(s->end[4], s0End);
  EXPECT_EQ(s->end[6], s1End);
  EXPECT_EQ(s->total, s1End + kConfigCycles);
  EXPECT_EQ(s->busy[unsigned(Engine::Conv)], 2 * C + kConfigCycles);
  EXPECT_EQ(s->macs, 2 * 8 * 8 * 64 * 64 * 9 * 4);
  // Overlap: shorter than running everything one after the other.
  int64_t serial = 0;
  for (int64_t x : *cyc)
    serial += x;
  EXPECT_LT(s->total, serial);
}

TEST(ISA, ScheduleReportsDeadlock) {
  Load l;
  l.deps.wait = 1u << unsigned(Engine::Save); // no SAVE ever notifies
  auto s = schedule({l, End{}}, params());
  ASSERT_FALSE(bool(s));
  EXPECT_EQ(s.error().index, 0);
  EXPECT_NE(s.error().message.find("deadlock: LOAD waits for a token from "
                                   "save"),
            std::string::npos)
      << s.error().str();
}

TEST(ISA, Disassembly) {
  Load l;
  l.deps.notify = 1u << unsigned(Engine::Conv);
  l.ddr = {1, 0x40};
  l.rows = 2;
  std::string d = disassemble({l, End{}});
  EXPECT_EQ(d, "000000: LOAD notify=conv reg=1 group=0 ddr_offset=0x40 "
               "bank_addr=0x0 channels=1 rows=2 cols=1 row_stride=0 "
               "col_stride=0\n000018: END\n");
}
