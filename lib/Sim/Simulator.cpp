//===- Simulator.cpp - Instruction-level DPUCADF8H simulator --------------===//
//
// Functional execution follows docs/isa.md, "Semantics", instruction by
// instruction in program order; the arithmetic is QuantKernels.h's (one
// statement of it for the interpreter and the simulator). CONV and DWCONV
// run through the exact int8 oneDNN convolution (rt::Conv2D; DWCONV as a
// grouped one) with the lanes as the batch dimension, except reductions too
// long for int32 (int64 loops); prepared convolutions are cached by geometry
// and weight bytes, so running a program again (the next batch) does not
// repack its weights (ConvCache).
//
//===----------------------------------------------------------------------===//

#include "vai/Sim/Simulator.h"

#include "vai/Runtime/Kernels.h"
#include "vai/Runtime/QuantKernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <type_traits>
#include <unordered_map>
#include <variant>

using namespace vai;
using namespace vai::sim;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Sums of more than this many int8 x int8 products can leave int32 (|x*w|
/// <= 2^14); such convolutions run in int64 loops instead of oneDNN.
constexpr int64_t kMaxInt32Terms = (int64_t(1) << 17) - 1;

rt::Activation toRt(isa::Activation a) {
  switch (a) {
  case isa::Activation::Relu:
    return rt::Activation::Relu;
  case isa::Activation::Relu6:
    return rt::Activation::Relu6;
  case isa::Activation::LeakyRelu:
    return rt::Activation::LeakyRelu;
  case isa::Activation::None:
    break;
  }
  return rt::Activation::None;
}

/// Dense NHWC pixels <-> a bank tile whose pixels are padded to whole words.
void unpackTile(const int8_t *tile, int64_t pixels, int64_t channels,
                int64_t wordBytes, int8_t *dense) {
  int64_t stride = ceilDiv(channels, wordBytes) * wordBytes;
  if (stride == channels) {
    std::memcpy(dense, tile, size_t(pixels * channels));
    return;
  }
  for (int64_t p = 0; p < pixels; ++p)
    std::memcpy(dense + p * channels, tile + p * stride, size_t(channels));
}
void packTile(const int8_t *dense, int64_t pixels, int64_t channels,
              int64_t wordBytes, int8_t *tile) {
  int64_t stride = ceilDiv(channels, wordBytes) * wordBytes;
  if (stride == channels) {
    std::memcpy(tile, dense, size_t(pixels * channels));
    return;
  }
  for (int64_t p = 0; p < pixels; ++p) {
    std::memcpy(tile + p * stride, dense + p * channels, size_t(channels));
    std::memset(tile + p * stride + channels, 0, size_t(stride - channels));
  }
}

/// Zeroed memory from calloc: large blocks come straight from the OS as
/// untouched zero pages, so a machine costs only the memory it uses.
struct Memory {
  struct Free {
    void operator()(int8_t *p) const { std::free(p); }
  };
  std::unique_ptr<int8_t, Free> bytes;
  size_t size = 0;
  explicit Memory(size_t n)
      : bytes(static_cast<int8_t *>(std::calloc(n ? n : 1, 1))), size(n) {
    if (!bytes)
      throw std::bad_alloc();
  }
  int8_t *data() const { return bytes.get(); }
};

struct Binding {
  const uint8_t *rd = nullptr;
  uint8_t *wr = nullptr;
  size_t size = 0;
  bool bound = false;
};

/// The stop signal of an instruction's execution: the error to return.
struct Fail {
  Error error;
};

} // namespace

//===----------------------------------------------------------------------===//
// MachineDesc and timing
//===----------------------------------------------------------------------===//

std::optional<std::string> MachineDesc::check() const {
  if (bankGroups.empty())
    return std::string("no bank groups");
  if (int64_t(bankGroups.size()) > isa::EncodingLimits::kMaxBankGroups)
    return "more bank groups (" + std::to_string(bankGroups.size()) +
           ") than the encoding addresses (" +
           std::to_string(isa::EncodingLimits::kMaxBankGroups) + ")";
  for (size_t i = 0; i < bankGroups.size(); ++i) {
    const BankGroupDesc &g = bankGroups[i];
    if (g.banks <= 0 || g.widthBytes <= 0 || g.depth <= 0 ||
        g.bytes() > (int64_t(1) << 32))
      return "bank group " + std::to_string(i) + " ('" + g.name +
             "') has banks " + std::to_string(g.banks) + ", width " +
             std::to_string(g.widthBytes) + " bytes, depth " +
             std::to_string(g.depth) +
             " (each must be positive, at most 4 GiB in all)";
  }
  if (lanes < 1 || lanes > 64)
    return "lanes is " + std::to_string(lanes) + ", expected 1-64";
  const isa::TimingParams &t = timing;
  for (int64_t v : {t.convICP, t.convOCP, t.convPP, t.dwCP, t.dwPP, t.poolCP,
                    t.poolPP, t.eltwiseCP, t.eltwisePP, t.loadCP, t.saveCP})
    if (v < 1)
      return std::string("an engine parallelism figure is not positive");
  if (!(t.loadBytesPerCycle > 0) || !(t.saveBytesPerCycle > 0))
    return std::string("DDR bytes per cycle must be positive");
  for (int64_t v : {t.loadLatency, t.saveLatency, t.convLatency, t.dwLatency,
                    t.poolLatency, t.eltwiseLatency})
    if (v < 0)
      return std::string("an engine latency is negative");
  if (!(clockMHz > 0))
    return std::string("clockMHz must be positive");
  if (activationMin > activationMax || activationMin < -128 ||
      activationMax > 127)
    return std::string("the activation range must lie in [-128, 127]");
  return std::nullopt;
}

Result<RunStats>
vai::sim::modelTiming(const std::vector<isa::Instruction> &program,
                      const MachineDesc &desc) {
  if (auto why = desc.check())
    return Error{"bad machine description: " + *why};
  isa::TimingParams t = desc.timing;
  t.batch = desc.lanes;
  auto sched = isa::schedule(program, t);
  if (!sched)
    return sched.error();
  RunStats s;
  s.start = sched->start;
  s.end = sched->end;
  s.cycles.resize(program.size());
  for (size_t i = 0; i < program.size(); ++i) {
    s.cycles[i] = s.end[i] - s.start[i];
    if (auto e = isa::engineOf(program[i]))
      ++s.engineInstructions[unsigned(*e)];
    if (auto *l = std::get_if<isa::Load>(&program[i]))
      s.ddrBytesLoaded +=
          l->rows * l->cols * l->channels * (l->ddr.reg == 0 ? 1 : desc.lanes);
    else if (auto *v = std::get_if<isa::Save>(&program[i]))
      s.ddrBytesSaved += v->rows * v->cols * v->channels * desc.lanes;
  }
  s.totalCycles = sched->total;
  for (int e = 0; e < isa::kNumEngines; ++e)
    s.engineBusy[e] = sched->busy[e];
  s.macs = sched->macs;
  s.lanes = desc.lanes;
  s.clockMHz = desc.clockMHz;
  s.latencySeconds = double(s.totalCycles) / (desc.clockMHz * 1e6);
  s.fps = s.latencySeconds > 0 ? double(desc.lanes) / s.latencySeconds : 0;
  s.macUtilisation = s.totalCycles > 0
                         ? double(s.macs) / (double(s.totalCycles) *
                                             double(desc.peakMacsPerCycle()))
                         : 0;
  return s;
}

//===----------------------------------------------------------------------===//
// ConvCache
//===----------------------------------------------------------------------===//

struct ConvCache::Impl {
  size_t maxBytes;
  mutable std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const rt::Conv2D>> map;
  size_t bytes = 0, hits = 0, misses = 0;

  /// The prepared convolution of geometry `g` with OHWI weights `w`.
  std::shared_ptr<const rt::Conv2D> get(const rt::ConvGeometry &g,
                                        const int8_t *w, size_t bytes) {
    static_assert(std::has_unique_object_representations_v<rt::ConvGeometry>,
                  "the key uses the bytes of ConvGeometry");
    std::string key(sizeof(g), '\0');
    std::memcpy(key.data(), &g, sizeof(g));
    key.append(reinterpret_cast<const char *>(w), bytes);
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = map.find(key);
      if (it != map.end()) {
        ++hits;
        return it->second;
      }
      ++misses;
    }
    // Prepared outside the lock: two threads may both prepare the same
    // convolution; the first one stored wins.
    auto conv = std::make_shared<const rt::Conv2D>(g, w);
    std::lock_guard<std::mutex> lock(mutex);
    if (bytes + key.size() > maxBytes) {
      map.clear();
      bytes = 0;
    }
    size_t size = key.size();
    auto [it, inserted] = map.emplace(std::move(key), conv);
    if (inserted)
      bytes += size;
    return it->second;
  }
};

ConvCache::ConvCache(size_t maxBytes) : impl(std::make_unique<Impl>()) {
  impl->maxBytes = maxBytes;
}
ConvCache::~ConvCache() = default;
size_t ConvCache::size() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->map.size();
}
size_t ConvCache::hits() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->hits;
}
size_t ConvCache::misses() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->misses;
}

//===----------------------------------------------------------------------===//
// Machine
//===----------------------------------------------------------------------===//

struct Machine::Impl {
  MachineDesc desc;
  /// mem[group][lane]: linear bytes; parameter groups have one copy.
  std::vector<std::vector<Memory>> mem;
  /// ddr[reg][lane]; reg 0 uses lane 0 only.
  std::vector<std::vector<Binding>> ddr;
  std::shared_ptr<ConvCache> convCache;

  // The instruction being executed and the INITs in effect.
  int64_t index = 0;
  const char *opName = "";
  isa::ConvInit convCfg;
  isa::DwInit dwCfg;
  isa::PoolInit poolCfg;

  Impl(const MachineDesc &d, std::shared_ptr<ConvCache> cache)
      : desc(d), convCache(std::move(cache)) {
    mem.resize(d.bankGroups.size());
    for (size_t g = 0; g < d.bankGroups.size(); ++g) {
      const BankGroupDesc &bg = d.bankGroups[g];
      for (int64_t l = 0; l < (bg.isParam ? 1 : d.lanes); ++l)
        mem[g].emplace_back(size_t(bg.bytes()));
    }
    ddr.assign(isa::EncodingLimits::kMaxRegs,
               std::vector<Binding>(size_t(d.lanes)));
  }

  [[noreturn]] void fail(const std::string &msg) const {
    throw Fail{Error{std::string(opName) + ": " + msg, index}};
  }

  int64_t lanes() const { return desc.lanes; }
  int64_t wordBytes(int64_t group) const {
    return desc.bankGroups[size_t(group)].widthBytes;
  }
  int8_t *bank(int64_t group, int64_t lane, int64_t addr) {
    auto &copies = mem[size_t(group)];
    return copies[copies.size() == 1 ? 0 : size_t(lane)].data() +
           addr * wordBytes(group);
  }

  /// Checks a block of `pixels` pixels of `channels` channels at `ref`: the
  /// group exists, holds parameters iff `param`, and the block fits.
  /// Returns the block's size in words.
  int64_t checkBlock(const char *what, const isa::BankRef &ref, int64_t pixels,
                     int64_t channels, bool param) const {
    if (ref.group < 0 || ref.group >= int64_t(desc.bankGroups.size()))
      fail(std::string(what) + ": bank group " + std::to_string(ref.group) +
           " does not exist (the machine has " +
           std::to_string(desc.bankGroups.size()) + ")");
    const BankGroupDesc &g = desc.bankGroups[size_t(ref.group)];
    if (g.isParam != param)
      fail(std::string(what) + ": bank group " + std::to_string(ref.group) +
           " ('" + g.name + "') holds " +
           (g.isParam ? "parameters" : "feature maps") + ", expected " +
           (param ? "parameters" : "feature maps"));
    int64_t words = pixels * ceilDiv(channels, g.widthBytes);
    if (ref.addr < 0 || ref.addr + words > g.words())
      fail(std::string(what) + ": words [" + std::to_string(ref.addr) + ", " +
           std::to_string(ref.addr + words) + ") run past bank group " +
           std::to_string(ref.group) + " ('" + g.name + "', " +
           std::to_string(g.words()) + " words)");
    return words;
  }
  /// Output and input ranges of one group must be disjoint (or, with
  /// `exactOk`, identical).
  void checkDisjoint(const char *a, const isa::BankRef &ra, int64_t wa,
                     const char *b, const isa::BankRef &rb, int64_t wb,
                     bool exactOk = false) const {
    if (ra.group != rb.group || (exactOk && ra.addr == rb.addr && wa == wb))
      return;
    if (ra.addr < rb.addr + wb && rb.addr < ra.addr + wa)
      fail(std::string(a) + " words [" + std::to_string(ra.addr) + ", " +
           std::to_string(ra.addr + wa) + ") overlap " + b + " words [" +
           std::to_string(rb.addr) + ", " + std::to_string(rb.addr + wb) +
           ") in bank group " + std::to_string(ra.group));
  }
  /// The DDR binding of (reg, lane) covering the transfer's bytes.
  const Binding &checkDdr(const isa::Transfer &t, int64_t lane) const {
    const Binding &b = ddr[size_t(t.ddr.reg)][size_t(t.ddr.reg ? lane : 0)];
    std::string who = "reg " + std::to_string(t.ddr.reg) +
                      (t.ddr.reg ? " lane " + std::to_string(lane) : "");
    if (!b.bound)
      fail("DDR " + who + " is not bound");
    int64_t end = t.ddr.offset + (t.rows - 1) * t.rowStride +
                  (t.cols - 1) * t.colStride + t.channels;
    if (end > int64_t(b.size))
      fail("DDR bytes up to offset " + std::to_string(end) + " of " + who +
           " run past its bound buffer of " + std::to_string(b.size) +
           " bytes");
    return b;
  }

  void exec(const isa::Instruction &inst) {
    std::visit([&](const auto &x) { step(x); }, inst);
  }

  void step(const isa::Load &l) {
    const BankGroupDesc &g =
        l.bank.group >= 0 && l.bank.group < int64_t(desc.bankGroups.size())
            ? desc.bankGroups[size_t(l.bank.group)]
            : BankGroupDesc();
    if (g.isParam && l.ddr.reg != 0)
      fail("loads into parameter group " + std::to_string(l.bank.group) +
           " ('" + g.name + "') must read reg 0, got reg " +
           std::to_string(l.ddr.reg));
    checkBlock("bank", l.bank, l.rows * l.cols, l.channels, g.isParam);
    // Reg 0 is read once and, for a feature-map group, copied to every
    // lane; a parameter group has one copy.
    int64_t readLanes = l.ddr.reg == 0 ? 1 : lanes();
    for (int64_t lane = 0; lane < readLanes; ++lane)
      checkDdr(l, lane);
    const int64_t wb = g.widthBytes;
    const int64_t stride = ceilDiv(l.channels, wb) * wb;
    for (int64_t lane = 0; lane < readLanes; ++lane) {
      const Binding &b = checkDdr(l, lane);
      const uint8_t *src = b.rd + l.ddr.offset;
      int8_t *dst = bank(l.bank.group, lane, l.bank.addr);
#pragma omp parallel for schedule(static) if (l.rows * l.cols > 4096)
      for (int64_t y = 0; y < l.rows; ++y)
        for (int64_t x = 0; x < l.cols; ++x) {
          int8_t *d = dst + (y * l.cols + x) * stride;
          std::memcpy(d, src + y * l.rowStride + x * l.colStride,
                      size_t(l.channels));
          std::memset(d + l.channels, 0, size_t(stride - l.channels));
        }
    }
    if (l.ddr.reg == 0 && !g.isParam) {
      size_t bytes = size_t(l.rows * l.cols * stride);
      const int8_t *first = bank(l.bank.group, 0, l.bank.addr);
      for (int64_t lane = 1; lane < lanes(); ++lane)
        std::memcpy(bank(l.bank.group, lane, l.bank.addr), first, bytes);
    }
  }

  void step(const isa::Save &s) {
    if (s.ddr.reg == 0)
      fail("SAVE to reg 0: parameters are read-only");
    checkBlock("bank", s.bank, s.rows * s.cols, s.channels, false);
    for (int64_t lane = 0; lane < lanes(); ++lane)
      checkDdr(s, lane);
    const int64_t wb = wordBytes(s.bank.group);
    const int64_t stride = ceilDiv(s.channels, wb) * wb;
    for (int64_t lane = 0; lane < lanes(); ++lane) {
      uint8_t *dst = checkDdr(s, lane).wr + s.ddr.offset;
      const int8_t *src = bank(s.bank.group, lane, s.bank.addr);
      // In order: with overlapping DDR strides the last pixel wins.
      for (int64_t y = 0; y < s.rows; ++y)
        for (int64_t x = 0; x < s.cols; ++x)
          std::memcpy(dst + y * s.rowStride + x * s.colStride,
                      src + (y * s.cols + x) * stride, size_t(s.channels));
    }
  }

  void step(const isa::ConvInit &c) { convCfg = c; }
  void step(const isa::DwInit &c) { dwCfg = c; }
  void step(const isa::PoolInit &c) { poolCfg = c; }
  void step(const isa::End &) {}

  // Scratch buffers, kept across instructions: fresh multi-megabyte
  // allocations cost a page fault per page on every instruction.
  std::vector<int8_t> bufIn, bufOut, bufW, bufWt, bufB;
  std::vector<int32_t> bufAcc;
  template <typename T> static T *grow(std::vector<T> &v, int64_t n) {
    if (v.size() < size_t(n))
      v.resize(size_t(n));
    return v.data();
  }

  /// Input tiles of every lane as one dense [lanes, rows, cols, channels]
  /// (in bufIn).
  const int8_t *gatherLanes(const isa::Tile &t, int64_t channels) {
    int64_t per = t.rows * t.cols * channels;
    int8_t *dense = grow(bufIn, per * lanes());
    for (int64_t lane = 0; lane < lanes(); ++lane)
      unpackTile(bank(t.bank.group, lane, t.bank.addr), t.rows * t.cols,
                 channels, wordBytes(t.bank.group), dense + lane * per);
    return dense;
  }
  /// A dense output of all lanes (bufOut, of `outer * channels` bytes).
  int8_t *outputBuffer(int64_t outer, int64_t channels) {
    return grow(bufOut, outer * channels);
  }
  void scatterLanes(const isa::Tile &t, int64_t channels) {
    int64_t per = t.rows * t.cols * channels;
    for (int64_t lane = 0; lane < lanes(); ++lane)
      packTile(bufOut.data() + lane * per, t.rows * t.cols, channels,
               wordBytes(t.bank.group), bank(t.bank.group, lane, t.bank.addr));
  }
  /// `pixels` x `channels` parameters at `addr` of the weight group, dense
  /// in `buf`.
  const int8_t *params(int64_t group, int64_t addr, int64_t pixels,
                       int64_t channels, std::vector<int8_t> &buf) {
    int8_t *dense = grow(buf, pixels * channels);
    unpackTile(bank(group, 0, addr), pixels, channels, wordBytes(group), dense);
    return dense;
  }

  /// The tile's geometry as a convolution over all lanes, with the layer's
  /// padding on the borders `edge` names.
  template <typename Cfg>
  rt::ConvGeometry geometry(const Cfg &cfg, const isa::Tile &in,
                            const isa::Tile &out, uint32_t edge) const {
    rt::ConvGeometry g;
    g.n = lanes();
    g.ih = in.rows;
    g.iw = in.cols;
    g.oh = out.rows;
    g.ow = out.cols;
    g.kh = cfg.kernelH;
    g.kw = cfg.kernelW;
    g.strideH = cfg.strideH;
    g.strideW = cfg.strideW;
    g.padTop = edge & isa::EdgeTop ? cfg.padTop : 0;
    g.padBottom = edge & isa::EdgeBottom ? cfg.padBottom : 0;
    g.padLeft = edge & isa::EdgeLeft ? cfg.padLeft : 0;
    g.padRight = edge & isa::EdgeRight ? cfg.padRight : 0;
    return g;
  }
  rt::Requant requant(const isa::WindowConfig &cfg) const {
    rt::Requant rq;
    rq.shift = int(cfg.shiftCut);
    rq.act = toRt(cfg.act);
    rq.relu6Max = cfg.actMax;
    rq.lo = desc.activationMin;
    rq.hi = desc.activationMax;
    return rq;
  }

  /// The compute operands: input and output tiles in feature-map groups,
  /// inside them and disjoint; weights and biases in a parameter group.
  void checkCompute(const isa::Tile &in, int64_t inCh, const isa::Tile &out,
                    int64_t outCh, int64_t weightGroup, int64_t weightAddr,
                    int64_t biasAddr, int64_t weightPixels,
                    int64_t weightChannels) const {
    int64_t wi =
        checkBlock("input tile", in.bank, in.rows * in.cols, inCh, false);
    int64_t wo =
        checkBlock("output tile", out.bank, out.rows * out.cols, outCh, false);
    checkDisjoint("output tile", out.bank, wo, "input tile", in.bank, wi);
    checkBlock("weights", {weightGroup, weightAddr}, weightPixels,
               weightChannels, true);
    checkBlock("bias", {weightGroup, biasAddr}, 1, outCh, true);
  }

  void step(const isa::Conv &c) {
    const isa::ConvInit &cfg = convCfg;
    const int64_t kernel = cfg.kernelH * cfg.kernelW;
    checkCompute(c.in, c.inChannels, c.out, c.outChannels, c.weightGroup,
                 c.weightAddr, c.biasAddr, c.outChannels * kernel,
                 c.inChannels);
    rt::ConvGeometry g = geometry(cfg, c.in, c.out, c.edge);
    g.ic = c.inChannels;
    g.oc = c.outChannels;
    g.dilH = cfg.dilationH;
    g.dilW = cfg.dilationW;
    const int8_t *x = gatherLanes(c.in, c.inChannels);
    const int64_t wBytes = c.outChannels * kernel * c.inChannels;
    const int8_t *w = params(c.weightGroup, c.weightAddr,
                             c.outChannels * kernel, c.inChannels, bufW);
    const int8_t *bias =
        params(c.weightGroup, c.biasAddr, 1, c.outChannels, bufB);
    const int64_t outer = g.n * g.oh * g.ow;
    int8_t *y = outputBuffer(outer, g.oc);
    rt::Requant rq = requant(cfg);
    if (c.inChannels * kernel <= kMaxInt32Terms) {
      int32_t *acc = grow(bufAcc, outer * g.oc);
      convCache->impl->get(g, w, size_t(wBytes))->run(x, acc);
      rt::convRequant(acc, bias, int(cfg.shiftBias), rq, y, outer, g.oc);
    } else {
      convInt64(g, x, w, bias, cfg, rq, y);
    }
    scatterLanes(c.out, c.outChannels);
  }

  /// docs/isa.md's CONV sum in int64, for reductions too long for int32.
  static void convInt64(const rt::ConvGeometry &g, const int8_t *x,
                        const int8_t *w, const int8_t *bias,
                        const isa::ConvInit &cfg, const rt::Requant &rq,
                        int8_t *y) {
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox)
          for (int64_t o = 0; o < g.oc; ++o) {
            int64_t acc = 0;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              int64_t iy = oy * g.strideH - g.padTop + ky * g.dilH;
              if (iy < 0 || iy >= g.ih)
                continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                int64_t ix = ox * g.strideW - g.padLeft + kx * g.dilW;
                if (ix < 0 || ix >= g.iw)
                  continue;
                const int8_t *xp = x + ((n * g.ih + iy) * g.iw + ix) * g.ic;
                const int8_t *wp = w + ((o * g.kh + ky) * g.kw + kx) * g.ic;
                // One kernel position: at most 8192 products, int32 is exact.
                int32_t part = 0;
                for (int64_t i = 0; i < g.ic; ++i)
                  part += int32_t(xp[i]) * int32_t(wp[i]);
                acc += part;
              }
            }
            acc += int64_t(bias[o]) * (int64_t(1) << cfg.shiftBias);
            y[((n * g.oh + oy) * g.ow + ox) * g.oc + o] =
                static_cast<int8_t>(rq.apply(acc));
          }
  }

  void step(const isa::DwConv &c) {
    const isa::DwInit &cfg = dwCfg;
    const int64_t kernel = cfg.kernelH * cfg.kernelW;
    checkCompute(c.in, c.channels, c.out, c.channels, c.weightGroup,
                 c.weightAddr, c.biasAddr, kernel, c.channels);
    rt::ConvGeometry g = geometry(cfg, c.in, c.out, c.edge);
    const int64_t ch = c.channels;
    const int8_t *x = gatherLanes(c.in, ch);
    const int8_t *w = params(c.weightGroup, c.weightAddr, kernel, ch, bufW);
    const int8_t *bias = params(c.weightGroup, c.biasAddr, 1, ch, bufB);
    const int64_t outer = g.n * g.oh * g.ow;
    // oneDNN's grouped convolution with one channel per group; its weights
    // are [C, KH, KW, 1]. At most 16 x 16 products of |x*w| <= 2^14: int32
    // is exact.
    g.ic = g.oc = g.groups = ch;
    g.dilH = cfg.dilationH;
    g.dilW = cfg.dilationW;
    int8_t *wt = grow(bufWt, kernel * ch);
    for (int64_t k = 0; k < kernel; ++k)
      for (int64_t i = 0; i < ch; ++i)
        wt[i * kernel + k] = w[k * ch + i];
    int32_t *acc = grow(bufAcc, outer * ch);
    convCache->impl->get(g, wt, size_t(kernel * ch))->run(x, acc);
    rt::convRequant(acc, bias, int(cfg.shiftBias), requant(cfg),
                    outputBuffer(outer, ch), outer, ch);
    scatterLanes(c.out, ch);
  }

  void step(const isa::Pool &p) {
    const isa::PoolInit &cfg = poolCfg;
    int64_t wi = checkBlock("input tile", p.in.bank, p.in.rows * p.in.cols,
                            p.channels, false);
    int64_t wo = checkBlock("output tile", p.out.bank, p.out.rows * p.out.cols,
                            p.channels, false);
    checkDisjoint("output tile", p.out.bank, wo, "input tile", p.in.bank, wi);
    rt::PoolGeometry g;
    g.n = lanes();
    g.ih = p.in.rows;
    g.iw = p.in.cols;
    g.c = p.channels;
    g.kh = cfg.kernelH;
    g.kw = cfg.kernelW;
    g.strideH = cfg.strideH;
    g.strideW = cfg.strideW;
    g.padTop = p.edge & isa::EdgeTop ? cfg.padTop : 0;
    g.padBottom = p.edge & isa::EdgeBottom ? cfg.padBottom : 0;
    g.padLeft = p.edge & isa::EdgeLeft ? cfg.padLeft : 0;
    g.padRight = p.edge & isa::EdgeRight ? cfg.padRight : 0;
    g.oh = p.out.rows;
    g.ow = p.out.cols;
    rt::Requant rq;
    rq.shift = int(cfg.shift); // negative: a left shift (roundShift)
    rq.lo = desc.activationMin;
    rq.hi = desc.activationMax;
    const int8_t *x = gatherLanes(p.in, p.channels);
    int8_t *y = outputBuffer(g.n * g.oh * g.ow, g.c);
    if (cfg.kind == isa::PoolKind::Avg)
      rt::avgPool2DInt(g, x, cfg.mul, rq, y);
    else
      maxPoolInt(g, x, rq, y);
    scatterLanes(p.out, p.channels);
  }

  /// Max over the window's positions inside the tile, then the shift.
  static void maxPoolInt(const rt::PoolGeometry &g, const int8_t *in,
                         const rt::Requant &rq, int8_t *out) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        std::vector<int8_t> m(size_t(g.c));
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          std::fill(m.begin(), m.end(), int8_t(-128));
          int64_t y0 = oy * g.strideH - g.padTop,
                  x0 = ox * g.strideW - g.padLeft;
          bool any = false;
          for (int64_t y = std::max<int64_t>(y0, 0);
               y < std::min(y0 + g.kh, g.ih); ++y)
            for (int64_t x = std::max<int64_t>(x0, 0);
                 x < std::min(x0 + g.kw, g.iw); ++x) {
              const int8_t *src = in + ((n * g.ih + y) * g.iw + x) * g.c;
              for (int64_t c = 0; c < g.c; ++c)
                m[size_t(c)] = std::max(m[size_t(c)], src[c]);
              any = true;
            }
          // isa::validate keeps a real pixel in every window; an empty one
          // (impossible) reads the padding's 0.
          int8_t *o = out + ((n * g.oh + oy) * g.ow + ox) * g.c;
          for (int64_t c = 0; c < g.c; ++c)
            o[c] = static_cast<int8_t>(rq.apply(any ? m[size_t(c)] : 0));
        }
      }
  }

  void step(const isa::Eltwise &e) {
    int64_t pixels = e.rows * e.cols;
    int64_t wa = checkBlock("input a", e.a, pixels, e.channels, false);
    int64_t wb = checkBlock("input b", e.b, pixels, e.channels, false);
    int64_t wo = checkBlock("output", e.out, pixels, e.channels, false);
    checkDisjoint("output", e.out, wo, "input a", e.a, wa, /*exactOk=*/true);
    checkDisjoint("output", e.out, wo, "input b", e.b, wb, /*exactOk=*/true);
    rt::Requant rq;
    rq.shift = int(e.shiftOut);
    rq.act = e.relu ? rt::Activation::Relu : rt::Activation::None;
    rq.lo = desc.activationMin;
    rq.hi = desc.activationMax;
    const int64_t bytesA = wordBytes(e.a.group), bytesB = wordBytes(e.b.group),
                  bytesO = wordBytes(e.out.group);
    for (int64_t lane = 0; lane < lanes(); ++lane) {
      const int8_t *a = bank(e.a.group, lane, e.a.addr);
      const int8_t *b = bank(e.b.group, lane, e.b.addr);
      int8_t *o = bank(e.out.group, lane, e.out.addr);
      if (bytesA == bytesO && bytesB == bytesO) {
        // Same layout: whole words element-wise (in place is fine), then the
        // output's padding bytes back to 0.
        rt::addRequant(a, int(e.shiftA), b, int(e.shiftB), rq, o, wo * bytesO);
        int64_t stride = ceilDiv(e.channels, bytesO) * bytesO;
        if (stride != e.channels)
          for (int64_t p = 0; p < pixels; ++p)
            std::memset(o + p * stride + e.channels, 0,
                        size_t(stride - e.channels));
        continue;
      }
      std::vector<int8_t> da(size_t(pixels * e.channels)), db(da.size()),
          dy(da.size());
      unpackTile(a, pixels, e.channels, bytesA, da.data());
      unpackTile(b, pixels, e.channels, bytesB, db.data());
      rt::addRequant(da.data(), int(e.shiftA), db.data(), int(e.shiftB), rq,
                     dy.data(), pixels * e.channels);
      packTile(dy.data(), pixels, e.channels, bytesO, o);
    }
  }
};

Machine::Machine(const MachineDesc &desc, std::shared_ptr<ConvCache> cache)
    : impl(std::make_unique<Impl>(desc, std::move(cache))) {}
Machine::~Machine() = default;

Result<std::unique_ptr<Machine>>
Machine::create(const MachineDesc &desc, std::shared_ptr<ConvCache> cache) {
  if (auto why = desc.check())
    return Error{"bad machine description: " + *why};
  try {
    if (!cache)
      cache = std::make_shared<ConvCache>();
    return std::unique_ptr<Machine>(new Machine(desc, std::move(cache)));
  } catch (const std::bad_alloc &) {
    return Error{"out of memory allocating the bank memories"};
  }
}

const MachineDesc &Machine::desc() const { return impl->desc; }

void Machine::bindParams(const void *data, size_t size) {
  Binding &b = impl->ddr[0][0];
  b.rd = static_cast<const uint8_t *>(data);
  b.wr = nullptr;
  b.size = data ? size : 0;
  b.bound = true;
}

std::optional<Error> Machine::bind(int64_t reg, int64_t lane, void *data,
                                   size_t size) {
  if (reg < 1 || reg >= isa::EncodingLimits::kMaxRegs)
    return Error{"bind: register " + std::to_string(reg) +
                 " is not 1-7 (use bindParams for reg 0)"};
  if (lane < 0 || lane >= impl->desc.lanes)
    return Error{"bind: lane " + std::to_string(lane) + " is not 0-" +
                 std::to_string(impl->desc.lanes - 1)};
  if (!data && size)
    return Error{"bind: null data with a size of " + std::to_string(size)};
  Binding &b = impl->ddr[size_t(reg)][size_t(lane)];
  b.wr = static_cast<uint8_t *>(data);
  b.rd = b.wr;
  b.size = size;
  b.bound = true;
  return std::nullopt;
}

void Machine::unbindAll() {
  for (auto &reg : impl->ddr)
    for (Binding &b : reg)
      b = Binding();
}

Result<RunStats> Machine::run(const std::vector<isa::Instruction> &program) {
  // Timing first: it validates the program and finds deadlocks.
  auto stats = modelTiming(program, impl->desc);
  if (!stats)
    return stats.error();
  Impl &m = *impl;
  m.index = 0;
  try {
    for (size_t i = 0; i < program.size(); ++i) {
      m.index = int64_t(i);
      m.opName = isa::opcodeName(isa::opcodeOf(program[i]));
      m.exec(program[i]);
    }
  } catch (Fail &f) {
    return std::move(f.error);
  } catch (const std::bad_alloc &) {
    return Error{std::string(m.opName) + ": out of memory", m.index};
  } catch (const std::exception &e) {
    return Error{std::string(m.opName) + ": " + e.what(), m.index};
  }
  return stats;
}

Result<RunStats> Machine::run(const uint8_t *code, size_t size) {
  auto program = isa::decode(code, size);
  if (!program)
    return program.error();
  return run(*program);
}

std::vector<int8_t> Machine::bankBytes(int64_t group, int64_t lane) const {
  if (group < 0 || group >= int64_t(impl->mem.size()) || lane < 0 ||
      lane >= impl->desc.lanes)
    return {};
  const auto &copies = impl->mem[size_t(group)];
  const Memory &m = copies[copies.size() == 1 ? 0 : size_t(lane)];
  return std::vector<int8_t>(m.data(), m.data() + m.size);
}

void Machine::fillBanks(int8_t value) {
  for (auto &group : impl->mem)
    for (auto &copy : group)
      std::memset(copy.data(), value, copy.size);
}

ConvCache &Machine::convCache() const { return *impl->convCache; }
