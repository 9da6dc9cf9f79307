//===- SimulatorTest.cpp - The DPUCADF8H instruction-level simulator ------===//
//
// Small hand-built programs on random int8 data, checked against references
// written here with plain loops straight from docs/isa.md's formulas (not
// the simulator's helpers nor QuantKernels.h).
//
//===----------------------------------------------------------------------===//

#include "Isa0.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <thread>

using namespace vai;
using namespace vai::isa;
using namespace vai::sim;
using namespace vai::sim::test;

namespace {

constexpr uint32_t kLoad = 1u << unsigned(Engine::Load);
constexpr uint32_t kSave = 1u << unsigned(Engine::Save);
constexpr uint32_t kConv = 1u << unsigned(Engine::Conv);
constexpr int64_t kVB0 = 0, kVB1 = 1, kVB2 = 2, kCONVW = 3;

//===----------------------------------------------------------------------===//
// The reference: docs/isa.md's formulas in plain int64 loops.
//===----------------------------------------------------------------------===//

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
// rshift(a, s) = s == 0 ? a : floor((a + 2^(s-1)) / 2^s)
int64_t rshift(int64_t a, int64_t s) {
  if (s == 0)
    return a;
  return floorDiv(a + (int64_t(1) << (s - 1)), int64_t(1) << s);
}
int64_t sat(int64_t v) {
  return std::min<int64_t>(127, std::max<int64_t>(-127, v));
}

/// A dense NHWC tensor of one lane.
struct T4 {
  int64_t h = 0, w = 0, c = 0;
  std::vector<int8_t> v;
  T4() = default;
  T4(int64_t h, int64_t w, int64_t c) : h(h), w(w), c(c), v(h * w * c) {}
  int8_t &at(int64_t y, int64_t x, int64_t k) { return v[(y * w + x) * c + k]; }
  int64_t get(int64_t y, int64_t x, int64_t k) const {
    if (y < 0 || y >= h || x < 0 || x >= w)
      return 0;
    return v[(y * w + x) * c + k];
  }
};

struct Pads {
  int64_t t = 0, b = 0, l = 0, r = 0;
};
Pads edgePads(const WindowConfig &cfg, uint32_t edge) {
  return {
      edge & EdgeTop ? cfg.padTop : 0, edge & EdgeBottom ? cfg.padBottom : 0,
      edge & EdgeLeft ? cfg.padLeft : 0, edge & EdgeRight ? cfg.padRight : 0};
}
int64_t outSize(int64_t in, int64_t p0, int64_t p1, int64_t k, int64_t s,
                int64_t d) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

int64_t activate(int64_t acc, const WindowConfig &cfg) {
  int64_t y = cfg.act == Activation::LeakyRelu && acc < 0
                  ? rshift(acc * 26, cfg.shiftCut + 8)
                  : rshift(acc, cfg.shiftCut);
  if (cfg.act == Activation::Relu)
    y = std::max<int64_t>(y, 0);
  if (cfg.act == Activation::Relu6)
    y = std::min(std::max<int64_t>(y, 0), cfg.actMax);
  return sat(y);
}

/// CONV (depthwise when `depthwise`: w is [KH, KW, C]).
T4 refConv(const T4 &x, const std::vector<int8_t> &w,
           const std::vector<int8_t> &b, const WindowConfig &cfg, uint32_t edge,
           int64_t oc, bool depthwise = false) {
  Pads p = edgePads(cfg, edge);
  T4 out(outSize(x.h, p.t, p.b, cfg.kernelH, cfg.strideH, cfg.dilationH),
         outSize(x.w, p.l, p.r, cfg.kernelW, cfg.strideW, cfg.dilationW), oc);
  for (int64_t oy = 0; oy < out.h; ++oy)
    for (int64_t ox = 0; ox < out.w; ++ox)
      for (int64_t o = 0; o < oc; ++o) {
        int64_t acc = 0;
        for (int64_t ky = 0; ky < cfg.kernelH; ++ky)
          for (int64_t kx = 0; kx < cfg.kernelW; ++kx) {
            int64_t y = oy * cfg.strideH - p.t + ky * cfg.dilationH;
            int64_t xx = ox * cfg.strideW - p.l + kx * cfg.dilationW;
            if (depthwise)
              acc += x.get(y, xx, o) * w[(ky * cfg.kernelW + kx) * oc + o];
            else
              for (int64_t i = 0; i < x.c; ++i)
                acc += x.get(y, xx, i) *
                       w[((o * cfg.kernelH + ky) * cfg.kernelW + kx) * x.c + i];
          }
        acc += int64_t(b[o]) * (int64_t(1) << cfg.shiftBias);
        out.at(oy, ox, o) = int8_t(activate(acc, cfg));
      }
  return out;
}

T4 refPool(const T4 &x, const PoolInit &cfg, uint32_t edge) {
  Pads p{edge & EdgeTop ? cfg.padTop : 0, edge & EdgeBottom ? cfg.padBottom : 0,
         edge & EdgeLeft ? cfg.padLeft : 0,
         edge & EdgeRight ? cfg.padRight : 0};
  T4 out(outSize(x.h, p.t, p.b, cfg.kernelH, cfg.strideH, 1),
         outSize(x.w, p.l, p.r, cfg.kernelW, cfg.strideW, 1), x.c);
  for (int64_t oy = 0; oy < out.h; ++oy)
    for (int64_t ox = 0; ox < out.w; ++ox)
      for (int64_t c = 0; c < x.c; ++c) {
        int64_t v = cfg.kind == PoolKind::Max ? INT64_MIN : 0;
        for (int64_t ky = 0; ky < cfg.kernelH; ++ky)
          for (int64_t kx = 0; kx < cfg.kernelW; ++kx) {
            int64_t y = oy * cfg.strideH - p.t + ky,
                    xx = ox * cfg.strideW - p.l + kx;
            bool inside = y >= 0 && y < x.h && xx >= 0 && xx < x.w;
            if (cfg.kind == PoolKind::Max) {
              if (inside)
                v = std::max(v, x.get(y, xx, c));
            } else {
              v += x.get(y, xx, c);
            }
          }
        if (cfg.kind == PoolKind::Avg)
          v *= cfg.mul;
        int64_t y = cfg.shift >= 0 ? rshift(v, cfg.shift)
                                   : v * (int64_t(1) << -cfg.shift);
        out.at(oy, ox, c) = int8_t(sat(y));
      }
  return out;
}

T4 refEltwise(const T4 &a, const T4 &b, const Eltwise &e) {
  T4 out(a.h, a.w, a.c);
  for (size_t i = 0; i < out.v.size(); ++i) {
    int64_t acc = int64_t(a.v[i]) * (int64_t(1) << e.shiftA) +
                  int64_t(b.v[i]) * (int64_t(1) << e.shiftB);
    int64_t y = rshift(acc, e.shiftOut);
    if (e.relu)
      y = std::max<int64_t>(y, 0);
    out.v[i] = int8_t(sat(y));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Test harness: DDR buffers, program builders.
//===----------------------------------------------------------------------===//

std::vector<int8_t> randomBytes(size_t n, std::mt19937 &rng, int lo = -128,
                                int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t &x : v)
    x = int8_t(d(rng));
  return v;
}
T4 randomT4(int64_t h, int64_t w, int64_t c, std::mt19937 &rng) {
  T4 t(h, w, c);
  t.v = randomBytes(t.v.size(), rng, -127, 127);
  return t;
}

Load load(int64_t reg, int64_t off, int64_t group, int64_t addr, int64_t rows,
          int64_t cols, int64_t ch, int64_t rowStride, int64_t colStride,
          Deps deps = {}) {
  Load l;
  l.deps = deps;
  l.ddr = {reg, off};
  l.bank = {group, addr};
  l.rows = rows;
  l.cols = cols;
  l.channels = ch;
  l.rowStride = rowStride;
  l.colStride = colStride;
  return l;
}
Save save(int64_t group, int64_t addr, int64_t reg, int64_t off, int64_t rows,
          int64_t cols, int64_t ch, int64_t rowStride, int64_t colStride,
          Deps deps = {}) {
  Save s;
  s.deps = deps;
  s.ddr = {reg, off};
  s.bank = {group, addr};
  s.rows = rows;
  s.cols = cols;
  s.channels = ch;
  s.rowStride = rowStride;
  s.colStride = colStride;
  return s;
}
int64_t words(int64_t pixels, int64_t ch) {
  return pixels * ((ch + kWb - 1) / kWb);
}

struct Harness {
  MachineDesc desc;
  std::unique_ptr<Machine> m;
  std::vector<uint8_t> params;
  std::map<std::pair<int64_t, int64_t>, std::vector<uint8_t>> ddr;

  explicit Harness(int64_t lanes = 4) : desc(isa0(lanes)) {
    auto r = Machine::create(desc);
    EXPECT_TRUE(bool(r)) << r.error().str();
    m = std::move(*r);
  }
  int64_t lanes() const { return desc.lanes; }
  /// Appends to the parameter buffer; returns the offset.
  int64_t addParams(const std::vector<int8_t> &bytes) {
    int64_t off = int64_t(params.size());
    params.insert(params.end(), bytes.begin(), bytes.end());
    return off;
  }
  std::vector<uint8_t> &buf(int64_t reg, int64_t lane) {
    return ddr[{reg, lane}];
  }
  void setInput(int64_t reg, int64_t lane, const std::vector<int8_t> &v) {
    buf(reg, lane).assign(v.begin(), v.end());
  }
  sim::Result<RunStats> run(const std::vector<Instruction> &program) {
    m->unbindAll();
    m->bindParams(params.data(), params.size());
    for (auto &[key, v] : ddr)
      if (auto e = m->bind(key.first, key.second, v.data(), v.size()))
        ADD_FAILURE() << e->str();
    return m->run(program);
  }
  T4 output(int64_t reg, int64_t lane, int64_t h, int64_t w, int64_t c) {
    T4 t(h, w, c);
    std::memcpy(t.v.data(), buf(reg, lane).data(), t.v.size());
    return t;
  }
};

#define ASSERT_RUNS(expr)                                                      \
  do {                                                                         \
    auto r_ = (expr);                                                          \
    ASSERT_TRUE(bool(r_)) << r_.error().str();                                 \
  } while (0)

void expectEq(const T4 &got, const T4 &want, const std::string &what) {
  ASSERT_EQ(got.v.size(), want.v.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < got.v.size(); ++i)
    if (got.v[i] != want.v[i] && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << int(got.v[i])
                    << ", expected " << int(want.v[i]);
  EXPECT_EQ(bad, 0) << what;
}

/// A one-tile conv layer: inputs per lane in reg 2, output in reg 3.
struct ConvCase {
  ConvInit cfg;
  int64_t h = 9, w = 9, ic = 20, oc = 19;
  uint32_t edge = EdgeTop | EdgeBottom | EdgeLeft | EdgeRight;
  bool depthwise = false;
  /// Sets shift_cut (and shift_bias one less) so that the outputs of random
  /// data mostly lie inside the int8 range instead of saturating.
  bool autoShift = true;
};

/// Builds, runs and checks `c` on random data; returns the stats.
/// With `bestSeconds`, also times five more runs and returns the fastest.
RunStats checkConv(ConvCase c, uint32_t seed, double *bestSeconds = nullptr) {
  if (c.autoShift) {
    // |sum| of K products of uniform int8 values is about sqrt(K) * 73^2.
    double k = double(c.cfg.kernelH * c.cfg.kernelW * (c.depthwise ? 1 : c.ic));
    c.cfg.shiftCut = std::max<int64_t>(
        1, int64_t(std::floor(std::log2(std::sqrt(k) * 5329 / 40))));
    c.cfg.shiftBias = c.cfg.shiftCut - 1;
  }
  Harness hs;
  std::mt19937 rng(seed);
  const int64_t oc = c.depthwise ? c.ic : c.oc;
  const int64_t kk = c.cfg.kernelH * c.cfg.kernelW;
  std::vector<int8_t> w = randomBytes((c.depthwise ? 1 : oc) * kk * c.ic, rng);
  std::vector<int8_t> b = randomBytes(oc, rng);
  int64_t wOff = hs.addParams(w), bOff = hs.addParams(b);
  // The LOAD brings whole words: channels ic and up are garbage in the
  // input tile's padding bytes, which the CONV must ignore.
  const int64_t lc = (c.ic + kWb - 1) / kWb * kWb;
  std::vector<T4> x;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    T4 full = randomT4(c.h, c.w, lc, rng);
    x.emplace_back(c.h, c.w, c.ic);
    for (int64_t y = 0; y < c.h; ++y)
      for (int64_t xx = 0; xx < c.w; ++xx)
        for (int64_t k = 0; k < c.ic; ++k)
          x.back().at(y, xx, k) = full.at(y, xx, k);
    hs.setInput(2, l, full.v);
  }
  T4 want0 = refConv(x[0], w, b, c.cfg, c.edge, oc, c.depthwise);
  for (int64_t l = 0; l < hs.lanes(); ++l)
    hs.buf(3, l).assign(want0.v.size(), 0);
  int64_t wWords = words(c.depthwise ? kk : oc * kk, c.ic);
  std::vector<Instruction> p;
  if (c.depthwise)
    p.push_back(load(0, wOff, kCONVW, 0, 1, kk, c.ic, kk * c.ic, c.ic));
  else
    p.push_back(load(0, wOff, kCONVW, 0, oc, kk, c.ic, kk * c.ic, c.ic));
  p.push_back(load(0, bOff, kCONVW, wWords, 1, 1, oc, 0, 0));
  p.push_back(load(2, 0, kVB0, 0, c.h, c.w, lc, c.w * lc, lc,
                   {0, c.depthwise ? 1u << unsigned(Engine::DwConv) : kConv}));
  uint32_t eng = c.depthwise ? 1u << unsigned(Engine::DwConv) : kConv;
  if (c.depthwise) {
    DwInit di;
    static_cast<WindowConfig &>(di) = c.cfg;
    di.deps = {};
    p.push_back(di);
    DwConv d;
    d.deps = {kLoad, kSave};
    d.in = {{kVB0, 0}, c.h, c.w};
    d.out = {{kVB1, 0}, want0.h, want0.w};
    d.channels = c.ic;
    d.weightGroup = kCONVW;
    d.weightAddr = 0;
    d.biasAddr = wWords;
    d.edge = c.edge;
    p.push_back(d);
  } else {
    p.push_back(c.cfg);
    Conv v;
    v.deps = {kLoad, kSave};
    v.in = {{kVB0, 0}, c.h, c.w};
    v.out = {{kVB1, 0}, want0.h, want0.w};
    v.inChannels = c.ic;
    v.outChannels = oc;
    v.weightGroup = kCONVW;
    v.weightAddr = 0;
    v.biasAddr = wWords;
    v.edge = c.edge;
    p.push_back(v);
  }
  p.push_back(
      save(kVB1, 0, 3, 0, want0.h, want0.w, oc, want0.w * oc, oc, {eng, 0}));
  p.push_back(End{});
  hs.m->fillBanks(0x5A); // writers must zero their padding bytes
  auto r = hs.run(p);
  for (int i = 0; bestSeconds && r && i < 6; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    r = hs.run(p);
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    *bestSeconds = i == 0 ? s : std::min(*bestSeconds, s);
  }
  EXPECT_TRUE(bool(r)) << r.error().str();
  if (!r)
    return {};
  const int64_t ostride = (oc + kWb - 1) / kWb * kWb;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    std::vector<int8_t> bank = hs.m->bankBytes(kVB1, l);
    for (int64_t px = 0; px < want0.h * want0.w; ++px)
      for (int64_t k = oc; k < ostride; ++k)
        if (bank[px * ostride + k] != 0) {
          ADD_FAILURE() << "lane " << l << " pixel " << px << " padding byte "
                        << k << " is " << int(bank[px * ostride + k]);
          return *r;
        }
  }
  int64_t inside = 0;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    T4 want = refConv(x[l], w, b, c.cfg, c.edge, oc, c.depthwise);
    expectEq(hs.output(3, l, want.h, want.w, oc), want,
             "lane " + std::to_string(l));
    for (int8_t v : want.v)
      inside += v != 0 && v > -127 && v < 127 && v != c.cfg.actMax;
  }
  // Not a vacuous comparison: many outputs are neither 0 nor clamped.
  if (c.autoShift) {
    EXPECT_GT(inside, int64_t(want0.v.size()) * hs.lanes() / 5);
  }
  return *r;
}

ConvInit convInit(int64_t k, int64_t s, int64_t d, int64_t pad,
                  Activation act = Activation::None) {
  ConvInit c;
  c.kernelH = c.kernelW = k;
  c.strideH = c.strideW = s;
  c.dilationH = c.dilationW = d;
  c.padTop = c.padBottom = c.padLeft = c.padRight = pad;
  c.shiftBias = 3;
  c.shiftCut = 8;
  c.act = act;
  c.actMax = act == Activation::Relu6 ? 48 : 0;
  return c;
}

} // namespace

//===----------------------------------------------------------------------===//
// Machine description
//===----------------------------------------------------------------------===//

TEST(Sim, RejectsBadDescriptions) {
  MachineDesc d = isa0();
  d.timing.convICP = 0;
  auto r = Machine::create(d);
  ASSERT_FALSE(bool(r));
  EXPECT_NE(r.error().message.find("parallelism"), std::string::npos);
  d = isa0();
  d.bankGroups[1].depth = 0;
  r = Machine::create(d);
  ASSERT_FALSE(bool(r));
  EXPECT_NE(r.error().message.find("VB1"), std::string::npos);
  d = isa0();
  d.lanes = 0;
  EXPECT_FALSE(bool(Machine::create(d)));
}

//===----------------------------------------------------------------------===//
// CONV
//===----------------------------------------------------------------------===//

TEST(Sim, ConvEveryActivation) {
  for (Activation act : {Activation::None, Activation::Relu, Activation::Relu6,
                         Activation::LeakyRelu}) {
    SCOPED_TRACE(activationName(act));
    ConvCase c;
    c.cfg = convInit(3, 1, 1, 1, act);
    checkConv(c, 1 + unsigned(act));
  }
}

TEST(Sim, ConvStrideDilationPaddingEveryEdge) {
  for (uint32_t edge = 0; edge < 16; ++edge) {
    SCOPED_TRACE("edge " + edgeMaskStr(edge));
    ConvCase c;
    c.cfg = convInit(3, 1, 1, 0, Activation::Relu);
    c.cfg.strideH = 2;
    c.cfg.dilationW = 2;
    c.cfg.padTop = 1;
    c.cfg.padBottom = 2;
    c.cfg.padLeft = 2;
    c.cfg.padRight = 1;
    c.h = 11;
    c.w = 10;
    c.ic = 33;
    c.oc = 17;
    c.edge = edge;
    checkConv(c, 100 + edge);
  }
  // A non-square kernel with stride and dilation both ways, no padding.
  ConvCase c;
  c.cfg = convInit(1, 1, 1, 0, Activation::LeakyRelu);
  c.cfg.kernelH = 2;
  c.cfg.kernelW = 5;
  c.cfg.strideW = 3;
  c.cfg.dilationH = 3;
  c.cfg.shiftBias = 0;
  c.cfg.shiftCut = 0;
  c.ic = 16;
  c.oc = 32;
  c.h = 12;
  c.w = 17;
  checkConv(c, 200);
}

TEST(Sim, ConvSumsBeyondInt32AreExact) {
  // 8192 channels x 4 x 4 of (-128) * (-128) sum to 2^31, one past int32;
  // shift_cut 31 makes it 1 (an int32 wrap would give -1).
  ConvCase c;
  c.cfg = convInit(4, 1, 1, 0);
  c.cfg.shiftBias = 0;
  c.cfg.shiftCut = 31;
  c.h = c.w = 4;
  c.ic = 8192;
  c.oc = 2;
  Harness hs(1);
  std::vector<int8_t> w(2 * 16 * 8192, -128), b(2, 0);
  for (int64_t i = 16 * 8192; i < int64_t(w.size()); ++i)
    w[i] = int8_t(i % 7 == 0 ? 127 : -128);
  int64_t wOff = hs.addParams(w), bOff = hs.addParams(b);
  T4 x(4, 4, 8192);
  std::fill(x.v.begin(), x.v.end(), int8_t(-128));
  hs.setInput(2, 0, x.v);
  hs.buf(3, 0).assign(2, 0);
  int64_t wWords = words(2 * 16, 8192);
  Conv v;
  v.in = {{kVB0, 0}, 4, 4};
  v.out = {{kVB1, 0}, 1, 1};
  v.inChannels = 8192;
  v.outChannels = 2;
  v.weightGroup = kCONVW;
  v.biasAddr = wWords;
  std::vector<Instruction> p = {
      load(0, wOff, kCONVW, 0, 2, 16, 8192, 16 * 8192, 8192),
      load(0, bOff, kCONVW, wWords, 1, 1, 2, 0, 0),
      load(2, 0, kVB0, 0, 4, 4, 8192, 4 * 8192, 8192),
      c.cfg,
      v,
      save(kVB1, 0, 3, 0, 1, 1, 2, 0, 2),
      End{}};
  ASSERT_RUNS(hs.run(p));
  T4 want = refConv(x, w, b, c.cfg, 0, 2);
  EXPECT_EQ(want.v[0], 1);
  expectEq(hs.output(3, 0, 1, 1, 2), want, "int64 conv");
}

// A layer split into two row tiles with halos gives the one-tile result.
TEST(Sim, ConvTwoRowTilesEqualOneTile) {
  const int64_t h = 12, w = 10, ic = 16, oc = 24;
  ConvInit cfg = convInit(3, 1, 1, 1, Activation::Relu);
  Harness hs;
  std::mt19937 rng(7);
  std::vector<int8_t> wt = randomBytes(oc * 9 * ic, rng),
                      b = randomBytes(oc, rng);
  int64_t wOff = hs.addParams(wt), bOff = hs.addParams(b);
  std::vector<T4> x;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x.push_back(randomT4(h, w, ic, rng));
    hs.setInput(2, l, x.back().v);
    hs.buf(3, l).assign(h * w * oc, 0);
    hs.buf(4, l).assign(h * w * oc, 0);
  }
  int64_t wWords = words(oc * 9, ic);
  const uint32_t lr = EdgeLeft | EdgeRight;
  auto conv = [&](int64_t inAddr, int64_t inRows, int64_t outAddr,
                  int64_t outRows, uint32_t edge) {
    Conv v;
    v.in = {{kVB0, inAddr}, inRows, w};
    v.out = {{kVB1, outAddr}, outRows, w};
    v.inChannels = ic;
    v.outChannels = oc;
    v.weightGroup = kCONVW;
    v.biasAddr = wWords;
    v.edge = edge;
    return v;
  };
  const int64_t row = w * ic;
  // Tile 0: output rows 0-5 from input rows 0-6; tile 1: output rows 6-11
  // from input rows 5-11 (one halo row each side of the cut).
  std::vector<Instruction> p = {
      load(0, wOff, kCONVW, 0, oc, 9, ic, 9 * ic, ic),
      load(0, bOff, kCONVW, wWords, 1, 1, oc, 0, 0), cfg,
      // One tile.
      load(2, 0, kVB0, 0, h, w, ic, row, ic),
      conv(0, h, 0, h, EdgeTop | EdgeBottom | lr),
      save(kVB1, 0, 3, 0, h, w, oc, w * oc, oc),
      // Two tiles, at other addresses.
      load(2, 0, kVB0, 4096, 7, w, ic, row, ic),
      load(2, 5 * row, kVB0, 8192, 7, w, ic, row, ic),
      conv(4096, 7, 4096, 6, EdgeTop | lr),
      conv(8192, 7, 8192, 6, EdgeBottom | lr),
      save(kVB1, 4096, 4, 0, 6, w, oc, w * oc, oc),
      save(kVB1, 8192, 4, 6 * w * oc, 6, w, oc, w * oc, oc), End{}};
  ASSERT_RUNS(hs.run(p));
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    T4 want = refConv(x[l], wt, b, cfg, 15, oc);
    expectEq(hs.output(3, l, h, w, oc), want, "one tile");
    expectEq(hs.output(4, l, h, w, oc), want, "two tiles");
  }
}

TEST(Sim, ConvCacheAcrossRuns) {
  ConvCase c;
  c.cfg = convInit(3, 1, 1, 1);
  Harness hs;
  std::mt19937 rng(3);
  int64_t wOff = hs.addParams(randomBytes(c.oc * 9 * c.ic, rng));
  int64_t bOff = hs.addParams(randomBytes(c.oc, rng));
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    hs.setInput(2, l, randomT4(c.h, c.w, c.ic, rng).v);
    hs.buf(3, l).assign(c.h * c.w * c.oc, 0);
  }
  int64_t wWords = words(c.oc * 9, c.ic);
  Conv v;
  v.in = {{kVB0, 0}, c.h, c.w};
  v.out = {{kVB2, 0}, c.h, c.w};
  v.inChannels = c.ic;
  v.outChannels = c.oc;
  v.weightGroup = kCONVW;
  v.biasAddr = wWords;
  v.edge = 15;
  std::vector<Instruction> p = {
      load(0, wOff, kCONVW, 0, c.oc, 9, c.ic, 9 * c.ic, c.ic),
      load(0, bOff, kCONVW, wWords, 1, 1, c.oc, 0, 0),
      load(2, 0, kVB0, 0, c.h, c.w, c.ic, c.w * c.ic, c.ic),
      c.cfg,
      v,
      save(kVB2, 0, 3, 0, c.h, c.w, c.oc, c.w * c.oc, c.oc),
      End{}};
  ASSERT_RUNS(hs.run(p));
  std::vector<uint8_t> first = hs.buf(3, 2);
  EXPECT_EQ(hs.m->convCache().size(), 1u);
  hs.buf(3, 2).assign(first.size(), 0);
  ASSERT_RUNS(hs.run(p));
  EXPECT_EQ(hs.m->convCache().size(), 1u);
  EXPECT_EQ(hs.m->convCache().hits(), 1u);
  EXPECT_EQ(hs.buf(3, 2), first);
  // New weights: a new prepared convolution, and a different result.
  hs.params[wOff] = int8_t(hs.params[wOff] + 1);
  ASSERT_RUNS(hs.run(p));
  EXPECT_EQ(hs.m->convCache().size(), 2u);
  EXPECT_NE(hs.buf(3, 2), first);
}

//===----------------------------------------------------------------------===//
// DWCONV, POOL, ELTWISE
//===----------------------------------------------------------------------===//

TEST(Sim, DepthwiseConv) {
  for (Activation act : {Activation::None, Activation::Relu, Activation::Relu6,
                         Activation::LeakyRelu}) {
    SCOPED_TRACE(activationName(act));
    ConvCase c;
    c.depthwise = true;
    c.cfg = convInit(3, 2, 1, 1, act);
    c.cfg.shiftCut = 4;
    c.ic = 35;
    c.h = 10;
    c.w = 9;
    checkConv(c, 300 + unsigned(act));
  }
  for (uint32_t edge : {0u, 5u, 10u}) {
    ConvCase c;
    c.depthwise = true;
    c.cfg = convInit(5, 1, 2, 2, Activation::Relu);
    c.cfg.shiftCut = 3;
    c.ic = 64;
    c.h = 13;
    c.w = 12;
    c.edge = edge;
    checkConv(c, 400 + edge);
  }
}

namespace {
void checkPool(const PoolInit &cfg, uint32_t edge, int64_t h, int64_t w,
               int64_t ch, uint32_t seed) {
  Harness hs;
  std::mt19937 rng(seed);
  std::vector<T4> x;
  T4 want0 = refPool(randomT4(h, w, ch, rng), cfg, edge);
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x.push_back(randomT4(h, w, ch, rng));
    hs.setInput(2, l, x.back().v);
    hs.buf(3, l).assign(want0.v.size(), 0);
  }
  Pool p;
  p.in = {{kVB2, 100}, h, w};
  p.out = {{kVB2, 100 + words(h * w, ch)}, want0.h, want0.w};
  p.channels = ch;
  p.edge = edge;
  std::vector<Instruction> prog = {
      load(2, 0, kVB2, 100, h, w, ch, w * ch, ch), cfg, p,
      save(kVB2, p.out.bank.addr, 3, 0, want0.h, want0.w, ch, want0.w * ch, ch),
      End{}};
  ASSERT_RUNS(hs.run(prog));
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    T4 want = refPool(x[l], cfg, edge);
    expectEq(hs.output(3, l, want.h, want.w, ch), want,
             "lane " + std::to_string(l));
  }
}
} // namespace

TEST(Sim, MaxPool) {
  for (int64_t shift : {0, 1, -1}) {
    for (uint32_t edge : {0u, 15u, 6u, 9u}) {
      SCOPED_TRACE("shift " + std::to_string(shift) + " edge " +
                   std::to_string(edge));
      PoolInit cfg;
      cfg.kernelH = cfg.kernelW = 3;
      cfg.strideH = cfg.strideW = 2;
      cfg.padTop = cfg.padLeft = 1;
      cfg.padBottom = cfg.padRight = 2;
      cfg.shift = shift;
      checkPool(cfg, edge, 11, 10, 20, 500 + edge);
    }
  }
  PoolInit cfg;
  cfg.kernelH = 2;
  cfg.kernelW = 2;
  cfg.strideH = cfg.strideW = 2;
  checkPool(cfg, 0, 8, 8, 64, 510);
}

TEST(Sim, AvgPool) {
  // docs/quantization.md's table: 3x3 is mul 7, shift 6 (+ px - py).
  for (int64_t extra : {0, -1, 2}) {
    for (uint32_t edge : {0u, 15u, 3u, 12u}) {
      SCOPED_TRACE("shift +" + std::to_string(extra) + " edge " +
                   std::to_string(edge));
      PoolInit cfg;
      cfg.kind = PoolKind::Avg;
      cfg.kernelH = cfg.kernelW = 3;
      cfg.strideH = cfg.strideW = 1;
      cfg.padTop = cfg.padBottom = cfg.padLeft = cfg.padRight = 1;
      cfg.mul = 7;
      cfg.shift = 6 + extra;
      checkPool(cfg, edge, 9, 7, 24, 600 + edge);
    }
  }
  PoolInit g; // a global 7x7 average (mul 21, shift 10)
  g.kind = PoolKind::Avg;
  g.kernelH = g.kernelW = 7;
  g.mul = 21;
  g.shift = 10;
  checkPool(g, 15, 7, 7, 40, 610);
}

TEST(Sim, Eltwise) {
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    const int64_t h = 5, w = 7, ch = 20;
    Harness hs;
    std::mt19937 rng(700 + variant);
    std::vector<T4> a, b;
    for (int64_t l = 0; l < hs.lanes(); ++l) {
      a.push_back(randomT4(h, w, ch, rng));
      b.push_back(randomT4(h, w, ch, rng));
      hs.setInput(2, l, a.back().v);
      hs.setInput(5, l, b.back().v);
      hs.buf(3, l).assign(h * w * ch, 0);
    }
    Eltwise e;
    e.rows = h;
    e.cols = w;
    e.channels = ch;
    e.shiftA = variant % 2 ? 1 : 0;
    e.shiftB = variant >= 2 ? 3 : 0;
    e.shiftOut = variant == 3 ? 0 : 2;
    e.relu = variant % 2 == 1;
    e.a = {kVB0, 10};
    e.b = {kVB1, 20};
    // Variants 2 and 3 run in place (out is a).
    e.out = variant >= 2 ? e.a : BankRef{kVB2, 0};
    std::vector<Instruction> p = {
        load(2, 0, kVB0, 10, h, w, ch, w * ch, ch),
        load(5, 0, kVB1, 20, h, w, ch, w * ch, ch), e,
        save(e.out.group, e.out.addr, 3, 0, h, w, ch, w * ch, ch), End{}};
    ASSERT_RUNS(hs.run(p));
    for (int64_t l = 0; l < hs.lanes(); ++l) {
      T4 want = refEltwise(a[l], b[l], e);
      expectEq(hs.output(3, l, h, w, ch), want, "lane " + std::to_string(l));
      // The output tile's padding bytes (channels 20-31 of each pixel) are 0.
      std::vector<int8_t> bank = hs.m->bankBytes(e.out.group, l);
      for (int64_t px = 0; px < h * w; ++px)
        for (int64_t k = ch; k < 2 * kWb; ++k)
          ASSERT_EQ(bank[(e.out.addr + px * 2) * kWb + k], 0);
    }
  }
}

// A small network through every engine, with a spill through the workspace
// (reg 1): conv+relu, max pool, depthwise, residual add+relu, global
// average pool; checked against the chained references.
TEST(Sim, SmallNetworkThroughEveryEngine) {
  const int64_t h = 10, w = 10, ic = 16, c = 24;
  Harness hs;
  std::mt19937 rng(750);
  ConvInit conv = convInit(3, 1, 1, 1, Activation::Relu);
  conv.shiftCut = 10;
  conv.shiftBias = 6;
  DwInit dw;
  static_cast<WindowConfig &>(dw) = convInit(3, 1, 1, 1, Activation::None);
  dw.shiftCut = 6;
  dw.shiftBias = 4;
  std::vector<int8_t> cw = randomBytes(c * 9 * ic, rng),
                      cb = randomBytes(c, rng), dwW = randomBytes(9 * c, rng),
                      dwB = randomBytes(c, rng);
  int64_t cwOff = hs.addParams(cw), cbOff = hs.addParams(cb),
          dwOff = hs.addParams(dwW), dbOff = hs.addParams(dwB);
  std::vector<T4> x;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x.push_back(randomT4(h, w, ic, rng));
    hs.setInput(2, l, x.back().v);
    hs.buf(1, l).assign(h * w * c, 0);
    hs.buf(3, l).assign(c, 0);
  }
  const int64_t cwWords = words(c * 9, ic), cbAddr = cwWords,
                dwAddr = cbAddr + words(1, c), dbAddr = dwAddr + words(9, c);
  PoolInit maxp;
  maxp.kernelH = maxp.kernelW = 2;
  maxp.strideH = maxp.strideW = 2;
  PoolInit avgp; // 5x5: mul 10, shift 8 (docs/quantization.md's table)
  avgp.kind = PoolKind::Avg;
  avgp.kernelH = avgp.kernelW = 5;
  avgp.mul = 10;
  avgp.shift = 8;
  Conv cv;
  cv.in = {{kVB0, 0}, h, w};
  cv.out = {{kVB1, 0}, h, w};
  cv.inChannels = ic;
  cv.outChannels = c;
  cv.weightGroup = kCONVW;
  cv.biasAddr = cbAddr;
  cv.edge = 15;
  Pool mp;
  mp.in = {{kVB2, 0}, h, w};
  mp.out = {{kVB0, 2000}, 5, 5};
  mp.channels = c;
  DwConv dc;
  dc.in = {{kVB0, 2000}, 5, 5};
  dc.out = {{kVB1, 3000}, 5, 5};
  dc.channels = c;
  dc.weightGroup = kCONVW;
  dc.weightAddr = dwAddr;
  dc.biasAddr = dbAddr;
  dc.edge = 15;
  Eltwise add;
  add.a = {kVB0, 2000};
  add.b = {kVB1, 3000};
  add.out = {kVB2, 5000};
  add.rows = add.cols = 5;
  add.channels = c;
  add.shiftA = 1;
  add.shiftOut = 1;
  add.relu = true;
  Pool ap;
  ap.in = {{kVB2, 5000}, 5, 5};
  ap.out = {{kVB0, 6000}, 1, 1};
  ap.channels = c;
  std::vector<Instruction> p = {
      load(0, cwOff, kCONVW, 0, c, 9, ic, 9 * ic, ic),
      load(0, cbOff, kCONVW, cbAddr, 1, 1, c, 0, 0),
      load(0, dwOff, kCONVW, dwAddr, 1, 9, c, 9 * c, c),
      load(0, dbOff, kCONVW, dbAddr, 1, 1, c, 0, 0),
      load(2, 0, kVB0, 0, h, w, ic, w * ic, ic),
      conv,
      cv,
      save(kVB1, 0, 1, 0, h, w, c, w * c, c),
      load(1, 0, kVB2, 0, h, w, c, w * c, c),
      maxp,
      mp,
      dw,
      dc,
      add,
      avgp,
      ap,
      save(kVB0, 6000, 3, 0, 1, 1, c, 0, c),
      End{}};
  ASSERT_RUNS(hs.run(p));
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    T4 y1 = refConv(x[l], cw, cb, conv, 15, c);
    T4 y2 = refPool(y1, maxp, 0);
    T4 y3 = refConv(y2, dwW, dwB, dw, 15, c, /*depthwise=*/true);
    T4 y4 = refEltwise(y2, y3, add);
    T4 y5 = refPool(y4, avgp, 0);
    expectEq(hs.output(3, l, 1, 1, c), y5, "lane " + std::to_string(l));
    expectEq(hs.output(1, l, h, w, c), y1,
             "spilled conv, lane " + std::to_string(l));
  }
}

//===----------------------------------------------------------------------===//
// LOAD / SAVE, lanes
//===----------------------------------------------------------------------===//

TEST(Sim, SaveChannelSlicesConcatenateInDdr) {
  // Two tiles of 10 and 6 channels saved into pixels of 20 bytes: bytes
  // 16-19 of each pixel stay untouched.
  const int64_t h = 3, w = 4, c1 = 10, c2 = 6, cs = 20;
  Harness hs;
  std::mt19937 rng(800);
  std::vector<T4> x1, x2;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x1.push_back(randomT4(h, w, c1, rng));
    x2.push_back(randomT4(h, w, c2, rng));
    hs.setInput(2, l, x1.back().v);
    hs.setInput(4, l, x2.back().v);
    hs.buf(3, l).assign(h * w * cs, 0x55);
  }
  std::vector<Instruction> p = {load(2, 0, kVB0, 0, h, w, c1, w * c1, c1),
                                load(4, 0, kVB0, 500, h, w, c2, w * c2, c2),
                                save(kVB0, 0, 3, 0, h, w, c1, w * cs, cs),
                                save(kVB0, 500, 3, c1, h, w, c2, w * cs, cs),
                                End{}};
  ASSERT_RUNS(hs.run(p));
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    const std::vector<uint8_t> &out = hs.buf(3, l);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < cs; ++k) {
          int want = k < c1        ? x1[l].at(y, x, k)
                     : k < c1 + c2 ? x2[l].at(y, x, k - c1)
                                   : 0x55;
          ASSERT_EQ(int(int8_t(out[(y * w + x) * cs + k])), int(int8_t(want)))
              << "lane " << l << " pixel " << y << "," << x << " byte " << k;
        }
  }
}

TEST(Sim, LanesHaveTheirOwnDataAndReg0Broadcasts) {
  const int64_t n = 37;
  Harness hs;
  std::mt19937 rng(900);
  std::vector<int8_t> shared = randomBytes(n, rng);
  int64_t off = hs.addParams(std::vector<int8_t>(3, 9));
  hs.addParams(shared);
  std::vector<std::vector<int8_t>> own;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    own.push_back(randomBytes(n, rng));
    hs.setInput(1, l, own.back());
    hs.buf(6, l).assign(2 * n, 0);
  }
  std::vector<Instruction> p = {load(0, off + 3, kVB1, 7, 1, 1, n, 0, 0),
                                load(1, 0, kVB2, 9, 1, 1, n, 0, 0),
                                save(kVB1, 7, 6, 0, 1, 1, n, 0, 0),
                                save(kVB2, 9, 6, n, 1, 1, n, 0, 0), End{}};
  auto r = hs.run(p);
  ASSERT_TRUE(bool(r)) << r.error().str();
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    std::vector<uint8_t> &out = hs.buf(6, l);
    EXPECT_EQ(0, std::memcmp(out.data(), shared.data(), n)) << l;
    EXPECT_EQ(0, std::memcmp(out.data() + n, own[l].data(), n)) << l;
  }
  // Reg 0 is read once, the lanes' activations once each.
  EXPECT_EQ(r->ddrBytesLoaded, n + 4 * n);
  EXPECT_EQ(r->ddrBytesSaved, 2 * n * 4);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {
std::string runError(Harness &hs, const std::vector<Instruction> &p) {
  auto r = hs.run(p);
  EXPECT_FALSE(bool(r));
  return r ? std::string() : r.error().str();
}
void expectHas(const std::string &s, const std::string &part) {
  EXPECT_NE(s.find(part), std::string::npos)
      << "'" << part << "' not in: " << s;
}
} // namespace

TEST(Sim, ErrorsNameInstructionAndBound) {
  Harness hs;
  for (int64_t l = 0; l < hs.lanes(); ++l)
    hs.buf(2, l).assign(1000, 1);
  hs.addParams(std::vector<int8_t>(64, 1));
  // A tile past the end of VB0 (65536 words).
  std::string e =
      runError(hs, {load(2, 0, kVB0, 65530, 2, 4, 16, 64, 16), End{}});
  expectHas(e, "instruction 0");
  expectHas(e, "[65530, 65538) run past bank group 0 ('VB0', 65536 words)");
  // DDR past the bound buffer.
  e = runError(hs, {load(2, 0, kVB0, 0, 1, 1, 16, 0, 0),
                    load(2, 990, kVB0, 0, 1, 1, 16, 0, 0), End{}});
  expectHas(e, "instruction 1");
  expectHas(e, "offset 1006 of reg 2 lane 0 run past its bound buffer of 1000");
  // SAVE to reg 0.
  e = runError(hs, {save(kVB0, 0, 0, 0, 1, 1, 16, 0, 0), End{}});
  expectHas(e, "reg 0 holds the parameters");
  // An unbound register.
  e = runError(hs, {load(7, 0, kVB0, 0, 1, 1, 16, 0, 0), End{}});
  expectHas(e, "reg 7 lane 0 is not bound");
  // A parameter group loaded from an activation register.
  e = runError(hs, {load(2, 0, kCONVW, 0, 1, 1, 16, 0, 0), End{}});
  expectHas(e, "must read reg 0");
  // Weights in a feature-map group; a group that does not exist.
  ConvInit ci;
  Conv c;
  c.in = {{kVB0, 0}, 1, 1};
  c.out = {{kVB1, 0}, 1, 1};
  c.weightGroup = kVB2;
  e = runError(hs, {ci, c, End{}});
  expectHas(e, "instruction 1");
  expectHas(e, "weights: bank group 2 ('VB2') holds feature maps");
  MachineDesc small = isa0();
  small.bankGroups.pop_back();
  auto m3 = Machine::create(small);
  ASSERT_TRUE(bool(m3));
  c.weightGroup = kCONVW;
  auto r3 = (*m3)->run({ci, c, End{}});
  ASSERT_FALSE(bool(r3));
  expectHas(r3.error().str(), "bank group 3 does not exist");
  // Overlapping output and input.
  c.out = {{kVB0, 0}, 1, 1};
  e = runError(hs, {ci, c, End{}});
  expectHas(e, "overlap");
  // A deadlock never runs.
  e = runError(hs, {load(2, 0, kVB0, 0, 1, 1, 16, 0, 0, {kConv, 0}), End{}});
  expectHas(e, "deadlock");
  // Truncated machine code through decode.
  auto code = encode({load(2, 0, kVB0, 0, 1, 1, 16, 0, 0), End{}});
  ASSERT_TRUE(bool(code));
  auto r = hs.m->run(code->data(), code->size() - 4);
  ASSERT_FALSE(bool(r));
  EXPECT_GE(r.error().byteOffset, 0);
  // And an invalid program structure (no END).
  e = runError(hs, {load(2, 0, kVB0, 0, 1, 1, 16, 0, 0)});
  expectHas(e, "END");
}

//===----------------------------------------------------------------------===//
// Machine code, timing, threads, throughput
//===----------------------------------------------------------------------===//

namespace {
/// A conv layer in `tiles` row tiles, double-buffered: LOAD(t+1) overlaps
/// CONV(t), SAVE(t) overlaps CONV(t+1).
struct TiledConv {
  int64_t h, w, ic, oc, tiles;
  ConvInit cfg = convInit(1, 1, 1, 0, Activation::Relu);
  std::vector<Instruction> program() const {
    int64_t rows = h / tiles;
    int64_t wWords = words(oc, ic);
    std::vector<Instruction> p = {
        load(0, 0, kCONVW, 0, oc, 1, ic, ic, ic),
        load(0, oc * ic, kCONVW, wWords, 1, 1, oc, 0, 0), cfg};
    for (int64_t t = 0; t < tiles; ++t) {
      int64_t buf = t % 2;
      int64_t inAddr = buf * words(rows * w, ic);
      int64_t outAddr = buf * words(rows * w, oc);
      // The CONV of tile t-2 read this input buffer: wait for its token.
      Deps ld{t >= 2 ? kConv : 0u, kConv};
      p.push_back(load(2, t * rows * w * ic, kVB0, inAddr, rows, w, ic, w * ic,
                       ic, ld));
      Conv c;
      // Wait for the load; tell the save; tell the load two tiles ahead.
      c.deps = {kLoad | (t >= 2 ? kSave : 0u),
                kSave | (t + 2 < tiles ? kLoad : 0u)};
      c.in = {{kVB0, inAddr}, rows, w};
      c.out = {{kVB1, outAddr}, rows, w};
      c.inChannels = ic;
      c.outChannels = oc;
      c.weightGroup = kCONVW;
      c.biasAddr = wWords;
      p.push_back(c);
      // The save frees its output buffer for the CONV two tiles ahead.
      p.push_back(save(kVB1, outAddr, 3, t * rows * w * oc, rows, w, oc, w * oc,
                       oc, {kConv, t + 2 < tiles ? kConv : 0u}));
    }
    p.push_back(End{});
    return p;
  }
};
} // namespace

TEST(Sim, TimingIsTheSchedule) {
  TiledConv tc{32, 16, 64, 64, 8};
  Harness hs;
  std::mt19937 rng(1000);
  std::vector<int8_t> w = randomBytes(tc.oc * tc.ic, rng),
                      b = randomBytes(tc.oc, rng);
  hs.addParams(w);
  hs.addParams(b);
  std::vector<T4> x;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x.push_back(randomT4(tc.h, tc.w, tc.ic, rng));
    hs.setInput(2, l, x.back().v);
    hs.buf(3, l).assign(tc.h * tc.w * tc.oc, 0);
  }
  std::vector<Instruction> p = tc.program();
  auto r = hs.run(p);
  ASSERT_TRUE(bool(r)) << r.error().str();
  for (int64_t l = 0; l < hs.lanes(); ++l)
    expectEq(hs.output(3, l, tc.h, tc.w, tc.oc),
             refConv(x[l], w, b, tc.cfg, 0, tc.oc),
             "lane " + std::to_string(l));
  TimingParams t = hs.desc.timing;
  t.batch = hs.lanes();
  auto sched = schedule(p, t);
  auto cycles = instructionCycles(p, t);
  ASSERT_TRUE(sched && cycles);
  int64_t sum = 0;
  for (int64_t c : *cycles)
    sum += c;
  EXPECT_EQ(r->totalCycles, sched->total);
  EXPECT_LT(r->totalCycles, sum); // the engines overlap
  EXPECT_EQ(r->cycles, *cycles);
  EXPECT_EQ(r->start, sched->start);
  EXPECT_EQ(r->end, sched->end);
  EXPECT_EQ(r->engineInstructions[unsigned(Engine::Conv)], tc.tiles + 1);
  EXPECT_EQ(r->engineInstructions[unsigned(Engine::Load)], tc.tiles + 2);
  for (int e = 0; e < kNumEngines; ++e)
    EXPECT_EQ(r->engineBusy[e], sched->busy[e]);
  EXPECT_EQ(r->macs, tc.h * tc.w * tc.ic * tc.oc * hs.lanes());
  EXPECT_DOUBLE_EQ(r->latencySeconds, double(sched->total) / 300e6);
  EXPECT_DOUBLE_EQ(r->fps, hs.lanes() / r->latencySeconds);
  EXPECT_DOUBLE_EQ(r->macUtilisation,
                   double(r->macs) / (double(sched->total) * 16 * 16 * 8 * 4));
  // modelTiming gives the same without running.
  auto m = modelTiming(p, hs.desc);
  ASSERT_TRUE(bool(m));
  EXPECT_EQ(m->totalCycles, r->totalCycles);
}

TEST(Sim, MachineCodeRunsLikeInstructions) {
  TiledConv tc{8, 8, 32, 16, 2};
  std::vector<Instruction> p = tc.program();
  auto code = encode(p);
  ASSERT_TRUE(bool(code)) << code.error().str();
  Harness a, b;
  std::mt19937 rng(1100);
  std::vector<int8_t> params = randomBytes(tc.oc * tc.ic + tc.oc, rng);
  a.addParams(params);
  b.addParams(params);
  for (int64_t l = 0; l < a.lanes(); ++l) {
    std::vector<int8_t> x = randomBytes(tc.h * tc.w * tc.ic, rng);
    a.setInput(2, l, x);
    b.setInput(2, l, x);
    a.buf(3, l).assign(tc.h * tc.w * tc.oc, 0);
    b.buf(3, l).assign(tc.h * tc.w * tc.oc, 1);
  }
  ASSERT_RUNS(a.run(p));
  b.m->bindParams(b.params.data(), b.params.size());
  for (auto &[key, v] : b.ddr)
    ASSERT_FALSE(b.m->bind(key.first, key.second, v.data(), v.size()));
  ASSERT_RUNS(b.m->run(code->data(), code->size()));
  for (int64_t l = 0; l < a.lanes(); ++l)
    EXPECT_EQ(a.buf(3, l), b.buf(3, l));
}

TEST(Sim, EightThreadsGiveIdenticalResults) {
  const MachineDesc desc = isa0();
  TiledConv tc{16, 12, 40, 24, 4};
  std::vector<Instruction> p = tc.program();
  std::mt19937 rng(1200);
  std::vector<int8_t> params = randomBytes(tc.oc * tc.ic + tc.oc, rng);
  std::vector<std::vector<int8_t>> in;
  for (int64_t l = 0; l < desc.lanes; ++l)
    in.push_back(randomBytes(tc.h * tc.w * tc.ic, rng, -127, 127));
  const size_t outBytes = size_t(tc.h * tc.w * tc.oc);
  std::vector<std::vector<std::vector<uint8_t>>> out(
      8, std::vector<std::vector<uint8_t>>(desc.lanes,
                                           std::vector<uint8_t>(outBytes)));
  std::vector<std::string> errors(8);
  std::vector<std::thread> threads;
  // Threads 4-7 share one cache of prepared convolutions.
  auto shared = std::make_shared<ConvCache>();
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      auto m = Machine::create(desc, t >= 4 ? shared : nullptr);
      if (!m) {
        errors[t] = m.error().str();
        return;
      }
      std::vector<std::vector<int8_t>> myIn = in; // its own DDR
      (*m)->bindParams(params.data(), params.size());
      for (int64_t l = 0; l < desc.lanes; ++l) {
        (*m)->bind(2, l, myIn[l].data(), myIn[l].size());
        (*m)->bind(3, l, out[t][l].data(), outBytes);
      }
      for (int rep = 0; rep < 3; ++rep)
        if (auto r = (*m)->run(p); !r)
          errors[t] = r.error().str();
    });
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(errors[t], "") << t;
    EXPECT_EQ(out[t], out[0]) << "thread " << t;
  }
  EXPECT_EQ(shared->size(), 1u);
  EXPECT_EQ(shared->hits() + shared->misses(), 4u * 3 * tc.tiles);
  // And thread 0's result is the reference.
  std::vector<int8_t> w(params.begin(), params.begin() + tc.oc * tc.ic),
      b(params.begin() + tc.oc * tc.ic, params.end());
  for (int64_t l = 0; l < desc.lanes; ++l) {
    T4 x(tc.h, tc.w, tc.ic);
    x.v = in[l];
    T4 got(tc.h, tc.w, tc.oc);
    std::memcpy(got.v.data(), out[0][l].data(), outBytes);
    expectEq(got, refConv(x, w, b, tc.cfg, 0, tc.oc),
             "lane " + std::to_string(l));
  }
}

// Measures the CONV throughput (a ResNet-style 3x3 layer, 56x56x64 -> 64 at
// batch 4) and checks one lane against the reference.
TEST(Sim, ConvThroughput) {
  ConvCase c;
  c.cfg = convInit(3, 1, 1, 1, Activation::Relu);
  c.h = c.w = 56;
  c.ic = c.oc = 64;
  Harness hs;
  std::mt19937 rng(1300);
  std::vector<int8_t> w = randomBytes(c.oc * 9 * c.ic, rng),
                      b = randomBytes(c.oc, rng);
  hs.addParams(w);
  hs.addParams(b);
  std::vector<T4> x;
  for (int64_t l = 0; l < hs.lanes(); ++l) {
    x.push_back(randomT4(c.h, c.w, c.ic, rng));
    hs.setInput(2, l, x.back().v);
    hs.buf(3, l).assign(c.h * c.w * c.oc, 0);
  }
  int64_t wWords = words(c.oc * 9, c.ic);
  Conv v;
  v.in = {{kVB0, 0}, c.h, c.w};
  v.out = {{kVB1, 0}, c.h, c.w};
  v.inChannels = c.ic;
  v.outChannels = c.oc;
  v.weightGroup = kCONVW;
  v.biasAddr = wWords;
  v.edge = 15;
  std::vector<Instruction> p = {
      load(0, 0, kCONVW, 0, c.oc, 9, c.ic, 9 * c.ic, c.ic),
      load(0, c.oc * 9 * c.ic, kCONVW, wWords, 1, 1, c.oc, 0, 0),
      load(2, 0, kVB0, 0, c.h, c.w, c.ic, c.w * c.ic, c.ic),
      c.cfg,
      v,
      save(kVB1, 0, 3, 0, c.h, c.w, c.oc, c.w * c.oc, c.oc),
      End{}};
  ASSERT_RUNS(hs.run(p)); // warm-up: prepares the convolution
  // The best of a few runs (the machine is shared with other jobs).
  double best = 1e9;
  RunStats stats;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = hs.run(p);
    ASSERT_TRUE(bool(r));
    best = std::min(best, std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - t0)
                              .count());
    stats = *r;
  }
  std::printf("[ sim ] 3x3 conv 56x56x64->64 batch 4: %.2f ms per run, %.1f "
              "GMAC/s; modeled %lld cycles, %.1f fps, MAC utilisation %.2f\n",
              best * 1e3, double(stats.macs) / best * 1e-9,
              (long long)stats.totalCycles, stats.fps, stats.macUtilisation);
  T4 want = refConv(x[3], w, b, c.cfg, 15, c.oc);
  expectEq(hs.output(3, 3, c.h, c.w, c.oc), want, "lane 3");
}

//===----------------------------------------------------------------------===//
// Robustness: random programs with small fields (most run, some break a
// bound) never crash; every failure is an error naming an instruction.
//===----------------------------------------------------------------------===//

namespace {
struct SmallGen {
  std::mt19937_64 rng;
  explicit SmallGen(uint64_t seed) : rng(seed) {}
  int64_t in(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  // Mostly feature-map groups; addresses mostly inside, sometimes past.
  BankRef fm() {
    return {in(0, 9) ? in(0, 2) : 3,
            in(0, 20) ? in(0, 3000) : in(65000, 66000)};
  }
  template <typename Cfg> Cfg window() {
    Cfg c;
    c.kernelH = in(1, 4);
    c.kernelW = in(1, 4);
    c.strideH = in(1, 3);
    c.strideW = in(1, 3);
    c.dilationH = in(1, 2);
    c.dilationW = in(1, 2);
    c.padTop = in(0, 2);
    c.padBottom = in(0, 2);
    c.padLeft = in(0, 2);
    c.padRight = in(0, 2);
    c.shiftBias = in(0, 15);
    c.shiftCut = in(0, 31);
    c.act = Activation(in(0, 3));
    c.actMax = c.act == Activation::Relu6 ? in(0, 127) : 0;
    return c;
  }
  /// An input tile and an output tile that the window geometry allows.
  template <typename Cfg>
  void tiles(const Cfg &c, int64_t dilH, int64_t dilW, Tile &i, Tile &o,
             uint32_t &edge) {
    edge = uint32_t(in(0, 15));
    Pads p = {
        edge & EdgeTop ? c.padTop : 0, edge & EdgeBottom ? c.padBottom : 0,
        edge & EdgeLeft ? c.padLeft : 0, edge & EdgeRight ? c.padRight : 0};
    i.bank = fm();
    o.bank = fm();
    i.rows =
        in(std::max<int64_t>(1, dilH * (c.kernelH - 1) + 1 - p.t - p.b), 12);
    i.cols =
        in(std::max<int64_t>(1, dilW * (c.kernelW - 1) + 1 - p.l - p.r), 12);
    o.rows = in(1, outSize(i.rows, p.t, p.b, c.kernelH, c.strideH, dilH));
    o.cols = in(1, outSize(i.cols, p.l, p.r, c.kernelW, c.strideW, dilW));
  }
  std::vector<Instruction> program(int n) {
    std::vector<Instruction> p;
    ConvInit ci = window<ConvInit>();
    DwInit di = window<DwInit>();
    PoolInit pi;
    pi.kind = PoolKind(in(0, 1));
    pi.kernelH = in(1, 4);
    pi.kernelW = in(1, 4);
    pi.strideH = in(1, 3);
    pi.strideW = in(1, 3);
    pi.padTop = in(0, pi.kernelH - 1);
    pi.padBottom = in(0, pi.kernelH - 1);
    pi.padLeft = in(0, pi.kernelW - 1);
    pi.padRight = in(0, pi.kernelW - 1);
    pi.mul = pi.kind == PoolKind::Avg ? in(1, 255) : 1;
    pi.shift = in(-4, 12);
    p = {ci, di, pi};
    for (int k = 0; k < n; ++k) {
      switch (in(0, 5)) {
      case 0: {
        int64_t reg = in(0, 7);
        BankRef b = fm();
        if (reg == 0 && in(0, 1))
          b.group = 3;
        p.push_back(load(reg, in(0, 3000), b.group, b.addr, in(1, 8), in(1, 8),
                         in(1, 40), in(0, 400), in(0, 50)));
        break;
      }
      case 1: {
        BankRef b = fm();
        p.push_back(save(b.group, b.addr, in(1, 7), in(0, 3000), in(1, 8),
                         in(1, 8), in(1, 40), in(0, 400), in(0, 50)));
        break;
      }
      case 2: {
        Conv c;
        tiles(ci, ci.dilationH, ci.dilationW, c.in, c.out, c.edge);
        c.inChannels = in(1, 40);
        c.outChannels = in(1, 40);
        c.weightGroup = in(0, 9) ? 3 : in(0, 2);
        c.weightAddr = in(0, 2000);
        c.biasAddr = in(0, 2000);
        p.push_back(c);
        break;
      }
      case 3: {
        DwConv c;
        tiles(di, di.dilationH, di.dilationW, c.in, c.out, c.edge);
        c.channels = in(1, 40);
        c.weightGroup = in(0, 9) ? 3 : in(0, 2);
        c.weightAddr = in(0, 2000);
        c.biasAddr = in(0, 2000);
        p.push_back(c);
        break;
      }
      case 4: {
        Pool c;
        tiles(pi, 1, 1, c.in, c.out, c.edge);
        c.channels = in(1, 40);
        p.push_back(c);
        break;
      }
      default: {
        Eltwise e;
        e.a = fm();
        e.b = fm();
        e.out = in(0, 3) ? fm() : e.a;
        e.rows = in(1, 8);
        e.cols = in(1, 8);
        e.channels = in(1, 40);
        e.shiftA = in(0, 15);
        e.shiftB = in(0, 15);
        e.shiftOut = in(0, 31);
        e.relu = in(0, 1);
        p.push_back(e);
      }
      }
    }
    p.push_back(End{});
    return p;
  }
};
} // namespace

// Measures the DWCONV throughput (a MobileNet-style 3x3 depthwise layer,
// 112x112x32 at batch 4) and checks it.
TEST(Sim, DepthwiseThroughput) {
  ConvCase c;
  c.depthwise = true;
  c.cfg = convInit(3, 1, 1, 1, Activation::Relu6);
  c.h = c.w = 112;
  c.ic = 32;
  double best = 0;
  RunStats stats = checkConv(c, 1500, &best);
  ASSERT_GT(best, 0);
  std::printf("[ sim ] 3x3 depthwise 112x112x32 batch 4: %.2f ms per run, "
              "%.2f GMAC/s; modeled %lld cycles\n",
              best * 1e3, double(stats.macs) / best * 1e-9,
              (long long)stats.totalCycles);
}

TEST(Sim, RandomProgramsNeverCrash) {
  Harness hs(2);
  std::mt19937 rng(1400);
  hs.addParams(randomBytes(6000, rng));
  for (int64_t reg = 1; reg < 8; ++reg)
    for (int64_t l = 0; l < 2; ++l)
      hs.setInput(reg, l, randomBytes(6000, rng));
  SmallGen g(1401);
  int ran = 0, failed = 0, invalid = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::vector<Instruction> p = g.program(int(g.in(1, 10)));
    if (validateProgram(p)) {
      ++invalid;
      continue;
    }
    auto r = hs.run(p);
    if (r) {
      ++ran;
      continue;
    }
    ++failed;
    EXPECT_GE(r.error().index, 0) << r.error().str();
    EXPECT_LT(r.error().index, int64_t(p.size())) << r.error().str();
  }
  // Both outcomes are exercised.
  EXPECT_GT(ran, 40);
  EXPECT_GT(failed, 40);
  std::printf(
      "[ sim ] random programs: %d ran, %d failed cleanly, %d invalid\n", ran,
      failed, invalid);
}
