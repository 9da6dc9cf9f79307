//===- RandomPrograms.h - Random legal programs for the tests ---*- C++ -*-===//
//
// Random instructions with every field inside its encoding range (the limits
// of EncodingLimits, docs/isa.md) and legal window geometry.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_UNITTESTS_ISA_RANDOMPROGRAMS_H
#define VAI_UNITTESTS_ISA_RANDOMPROGRAMS_H

#include "vai/ISA/ISA.h"

#include <algorithm>
#include <random>
#include <type_traits>

namespace vai::isa::testing {

struct Gen {
  using L = EncodingLimits;

  std::mt19937_64 rng;
  explicit Gen(uint64_t seed) : rng(seed) {}
  int64_t in(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  bool coin() { return in(0, 1) == 1; }

  Deps deps(std::optional<Engine> self) {
    if (!self)
      return {};
    uint32_t selfBit = 1u << unsigned(*self);
    return {uint32_t(in(0, kEngineMaskAll)) & ~selfBit,
            uint32_t(in(0, kEngineMaskAll)) & ~selfBit};
  }
  BankRef bank() {
    return {in(0, L::kMaxBankGroups - 1), in(0, L::kMaxBankAddr - 1)};
  }

  template <typename T> T transfer(Engine e) {
    T t;
    t.deps = deps(e);
    // SAVE never writes the parameters (reg 0).
    t.ddr = {in(std::is_same_v<T, Save> ? 1 : 0, L::kMaxRegs - 1),
             in(0, L::kMaxDdrOffset - 1)};
    t.bank = bank();
    t.rows = in(1, L::kMaxTransferDim);
    t.cols = in(1, L::kMaxTransferDim);
    t.channels = in(1, L::kMaxChannels);
    t.rowStride = in(0, L::kMaxStride - 1);
    t.colStride = in(0, L::kMaxStride - 1);
    return t;
  }
  template <typename T> T window(Engine e) {
    T c;
    c.deps = deps(e);
    c.kernelH = in(1, L::kMaxKernel);
    c.kernelW = in(1, L::kMaxKernel);
    c.strideH = in(1, L::kMaxWindowStride);
    c.strideW = in(1, L::kMaxWindowStride);
    c.dilationH = in(1, L::kMaxDilation);
    c.dilationW = in(1, L::kMaxDilation);
    c.padTop = in(0, L::kMaxPad);
    c.padBottom = in(0, L::kMaxPad);
    c.padLeft = in(0, L::kMaxPad);
    c.padRight = in(0, L::kMaxPad);
    c.shiftBias = in(0, L::kMaxShiftBias);
    c.shiftCut = in(0, L::kMaxShiftCut);
    c.act = Activation(in(0, 3));
    c.actMax = c.act == Activation::Relu6 ? in(0, L::kMaxActMax) : 0;
    return c;
  }
  PoolInit poolInit() {
    PoolInit p;
    p.deps = deps(Engine::Pool);
    p.kind = coin() ? PoolKind::Avg : PoolKind::Max;
    p.kernelH = in(1, L::kMaxKernel);
    p.kernelW = in(1, L::kMaxKernel);
    p.strideH = in(1, L::kMaxWindowStride);
    p.strideW = in(1, L::kMaxWindowStride);
    p.padTop = in(0, std::min(L::kMaxPad, p.kernelH - 1));
    p.padBottom = in(0, std::min(L::kMaxPad, p.kernelH - 1));
    p.padLeft = in(0, std::min(L::kMaxPad, p.kernelW - 1));
    p.padRight = in(0, std::min(L::kMaxPad, p.kernelW - 1));
    p.mul = p.kind == PoolKind::Max ? 1 : in(1, L::kMaxPoolMul);
    p.shift = in(L::kMinPoolShift, L::kMaxPoolShift);
    return p;
  }
  /// An input/output tile pair whose windows fit (docs/isa.md): the input
  /// covers (out - 1) * s + d * (k - 1) + 1 minus the edge padding, or more.
  void tiles(Tile &inT, Tile &outT, uint32_t &edge, int64_t kh, int64_t kw,
             int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt,
             int64_t pb, int64_t pl, int64_t pr) {
    edge = uint32_t(in(0, 15));
    inT.bank = bank();
    outT.bank = bank();
    outT.rows = in(1, 200);
    outT.cols = in(1, 200);
    int64_t padRows = (edge & EdgeTop ? pt : 0) + (edge & EdgeBottom ? pb : 0);
    int64_t padCols = (edge & EdgeLeft ? pl : 0) + (edge & EdgeRight ? pr : 0);
    // Usually just the rows the windows need, sometimes many more.
    auto fit = [&](int64_t need) {
      need = std::max<int64_t>(1, need);
      return coin() ? need + in(0, 3) : in(need, L::kMaxTileDim);
    };
    inT.rows = fit((outT.rows - 1) * sh + dh * (kh - 1) + 1 - padRows);
    inT.cols = fit((outT.cols - 1) * sw + dw * (kw - 1) + 1 - padCols);
  }
  Conv conv(const ConvInit &c) {
    Conv x;
    x.deps = deps(Engine::Conv);
    tiles(x.in, x.out, x.edge, c.kernelH, c.kernelW, c.strideH, c.strideW,
          c.dilationH, c.dilationW, c.padTop, c.padBottom, c.padLeft,
          c.padRight);
    x.inChannels = in(1, L::kMaxChannels);
    x.outChannels = in(1, L::kMaxChannels);
    x.weightGroup = in(0, L::kMaxBankGroups - 1);
    x.weightAddr = in(0, L::kMaxBankAddr - 1);
    x.biasAddr = in(0, L::kMaxBankAddr - 1);
    return x;
  }
  DwConv dwconv(const DwInit &c) {
    DwConv x;
    x.deps = deps(Engine::DwConv);
    tiles(x.in, x.out, x.edge, c.kernelH, c.kernelW, c.strideH, c.strideW,
          c.dilationH, c.dilationW, c.padTop, c.padBottom, c.padLeft,
          c.padRight);
    x.channels = in(1, L::kMaxChannels);
    x.weightGroup = in(0, L::kMaxBankGroups - 1);
    x.weightAddr = in(0, L::kMaxBankAddr - 1);
    x.biasAddr = in(0, L::kMaxBankAddr - 1);
    return x;
  }
  Pool pool(const PoolInit &c) {
    Pool x;
    x.deps = deps(Engine::Pool);
    tiles(x.in, x.out, x.edge, c.kernelH, c.kernelW, c.strideH, c.strideW, 1, 1,
          c.padTop, c.padBottom, c.padLeft, c.padRight);
    x.channels = in(1, L::kMaxChannels);
    return x;
  }
  Eltwise eltwise() {
    Eltwise x;
    x.deps = deps(Engine::Eltwise);
    x.a = bank();
    x.b = bank();
    x.out = bank();
    x.rows = in(1, L::kMaxTileDim);
    x.cols = in(1, L::kMaxTileDim);
    x.channels = in(1, L::kMaxChannels);
    x.shiftA = in(0, L::kMaxAlignShift);
    x.shiftB = in(0, L::kMaxAlignShift);
    x.shiftOut = in(0, L::kMaxOutShift);
    x.relu = coin();
    return x;
  }

  /// A legal program holding every instruction kind several times, in a
  /// random order that keeps each INIT before its compute instructions.
  std::vector<Instruction> program(int n) {
    std::vector<Instruction> p;
    ConvInit ci = window<ConvInit>(Engine::Conv);
    DwInit di = window<DwInit>(Engine::DwConv);
    PoolInit pi = poolInit();
    p.push_back(ci);
    p.push_back(di);
    p.push_back(pi);
    for (int i = 0; i < n; ++i) {
      switch (in(0, 8)) {
      case 0:
        p.push_back(transfer<Load>(Engine::Load));
        break;
      case 1:
        p.push_back(transfer<Save>(Engine::Save));
        break;
      case 2:
        ci = window<ConvInit>(Engine::Conv);
        p.push_back(ci);
        break;
      case 3:
        p.push_back(conv(ci));
        break;
      case 4:
        di = window<DwInit>(Engine::DwConv);
        p.push_back(di);
        break;
      case 5:
        p.push_back(dwconv(di));
        break;
      case 6:
        pi = poolInit();
        p.push_back(pi);
        break;
      case 7:
        p.push_back(pool(pi));
        break;
      case 8:
        p.push_back(eltwise());
        break;
      }
    }
    p.push_back(End{});
    return p;
  }
};

} // namespace vai::isa::testing

#endif // VAI_UNITTESTS_ISA_RANDOMPROGRAMS_H
