//===- DpuTarget.cpp - dpu programs against a vai::target::Target ---------===//
//
// What the encoding allows but a given DPU may not (docs/isa.md, "Checks by
// target"). Every limit comes from the vai::target::Target.
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Dpu/DpuTarget.h"
#include "vai/Dialect/Dpu/DpuToISA.h"

#include <variant>

using namespace mlir;
using namespace mlir::dpu;
namespace isa = vai::isa;
using vai::target::Target;

isa::TimingParams mlir::dpu::timingParams(const Target &t) {
  isa::TimingParams p;
  p.batch = t.batch;
  p.convICP = t.conv.inputChannelParallel;
  p.convOCP = t.conv.outputChannelParallel;
  p.convPP = t.conv.pixelParallel;
  p.dwCP = t.depthwise.channelParallel;
  p.dwPP = t.depthwise.pixelParallel;
  p.poolCP = t.pool.channelParallel;
  p.poolPP = t.pool.pixelParallel;
  p.eltwiseCP = t.eltwise.channelParallel;
  p.eltwisePP = t.eltwise.pixelParallel;
  p.loadCP = t.loadChannelParallel;
  p.saveCP = t.saveChannelParallel;
  p.loadBytesPerCycle = t.timing.loadBytesPerCycle;
  p.saveBytesPerCycle = t.timing.saveBytesPerCycle;
  p.loadLatency = t.timing.loadLatency;
  p.saveLatency = t.timing.saveLatency;
  p.convLatency = t.timing.convLatency;
  p.dwLatency = t.timing.depthwiseLatency;
  p.poolLatency = t.timing.poolLatency;
  p.eltwiseLatency = t.timing.eltwiseLatency;
  return p;
}

namespace {

/// Checks one instruction; `cfg*` are the INITs in effect.
class Checker {
public:
  Checker(Operation *op, const Target &t) : op(op), t(t) {}

  /// A block of `words` words at `ref`; `param` says whether it must be in a
  /// parameter group (weights) or a feature-map group.
  LogicalResult block(StringRef what, const isa::BankRef &ref, int64_t words,
                      bool param) {
    if (ref.group >= int64_t(t.bankGroups.size()))
      return op->emitOpError()
             << what << ": bank group " << ref.group << " does not exist on "
             << t.name << " (it has " << t.bankGroups.size() << ")";
    const auto &g = t.bankGroups[ref.group];
    if (g.isParam != param)
      return op->emitOpError()
             << what << ": bank group " << ref.group << " (" << g.name
             << ") holds " << (g.isParam ? "parameters" : "feature maps")
             << ", expected a " << (param ? "parameter" : "feature-map")
             << " group";
    int64_t capacity = g.banks * g.depth;
    if (ref.addr + words > capacity)
      return op->emitOpError() << what << ": " << words << " words at address "
                               << ref.addr << " run past the end of " << g.name
                               << " (" << capacity << " words)";
    return success();
  }
  int64_t wordBytes(const isa::BankRef &ref) const {
    return t.bankGroups[ref.group].widthBytes;
  }
  int64_t tileWords(const isa::BankRef &ref, int64_t rows, int64_t cols,
                    int64_t channels) const {
    int64_t w = wordBytes(ref);
    return rows * cols * ((channels + w - 1) / w);
  }
  /// A feature-map tile (validity of its group checked first).
  LogicalResult tile(StringRef what, const isa::BankRef &ref, int64_t rows,
                     int64_t cols, int64_t channels, int64_t &words) {
    if (failed(block(what, ref, 0, /*param=*/false)))
      return failure();
    words = tileWords(ref, rows, cols, channels);
    return block(what, ref, words, false);
  }
  /// Two ranges of the same group must not overlap (`exactOk`: identical
  /// ranges are fine, the in-place eltwise).
  LogicalResult disjoint(StringRef a, const isa::BankRef &ra, int64_t wa,
                         StringRef b, const isa::BankRef &rb, int64_t wb,
                         bool exactOk = false) {
    if (ra.group != rb.group)
      return success();
    if (exactOk && ra.addr == rb.addr && wa == wb)
      return success();
    if (ra.addr < rb.addr + wb && rb.addr < ra.addr + wa)
      return op->emitOpError()
             << a << " [" << ra.addr << ", " << ra.addr + wa << ") overlaps "
             << b << " [" << rb.addr << ", " << rb.addr + wb << ") in bank "
             << "group " << ra.group;
    return success();
  }
  LogicalResult inSet(StringRef what, const vai::target::IntSet &set,
                      int64_t v) {
    if (set.contains(v))
      return success();
    return op->emitOpError() << what << " " << v << " is not supported by "
                             << t.name << " (allowed: " << set.str() << ")";
  }
  LogicalResult range(StringRef what, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi)
      return success();
    return op->emitOpError() << what << " " << v << " is outside " << t.name
                             << "'s range " << lo << "-" << hi;
  }
  LogicalResult activation(StringRef engine, const vai::target::Nonlinear &n,
                           isa::Activation a) {
    bool ok = a == isa::Activation::None ||
              (a == isa::Activation::Relu && n.relu) ||
              (a == isa::Activation::Relu6 && n.relu6) ||
              (a == isa::Activation::LeakyRelu && n.leakyRelu);
    if (ok)
      return success();
    return op->emitOpError()
           << "activation " << isa::activationName(a) << " is not supported by "
           << t.name << "'s " << engine << " engine";
  }
  LogicalResult window(StringRef engine, const isa::WindowConfig &c,
                       const vai::target::IntSet &kernel,
                       const vai::target::IntSet &stride,
                       const vai::target::Nonlinear &n) {
    const auto &q = t.quant;
    if (failed(inSet("kernel height", kernel, c.kernelH)) ||
        failed(inSet("kernel width", kernel, c.kernelW)) ||
        failed(inSet("stride height", stride, c.strideH)) ||
        failed(inSet("stride width", stride, c.strideW)) ||
        failed(pads(c.padTop, c.padBottom, c.padLeft, c.padRight)) ||
        failed(
            range("shift_bias", c.shiftBias, q.shiftBiasMin, q.shiftBiasMax)) ||
        failed(range("shift_cut", c.shiftCut, q.shiftCutMin, q.shiftCutMax)) ||
        failed(activation(engine, n, c.act)))
      return failure();
    if (c.act == isa::Activation::Relu6)
      return range("act_max", c.actMax, 0, q.activationMax);
    return success();
  }
  LogicalResult pads(int64_t top, int64_t bottom, int64_t left, int64_t right) {
    for (int64_t p : {top, bottom, left, right})
      if (failed(range("padding", p, 0, t.quant.padMax)))
        return failure();
    return success();
  }

  /// The input and output tiles of a compute instruction: in feature-map
  /// groups, inside them, not overlapping.
  LogicalResult compute(const isa::Tile &in, int64_t inChannels,
                        const isa::Tile &out, int64_t outChannels) {
    int64_t wi = 0, wo = 0;
    if (failed(tile("input", in.bank, in.rows, in.cols, inChannels, wi)) ||
        failed(tile("output", out.bank, out.rows, out.cols, outChannels, wo)))
      return failure();
    return disjoint("output", out.bank, wo, "input", in.bank, wi);
  }
  /// Weights of `pixels` kernel positions of `channels` channels, and one
  /// bias per output channel, in a parameter group (docs/isa.md's layout).
  template <typename T>
  LogicalResult weights(const T &x, int64_t pixels, int64_t channels,
                        int64_t biases) {
    if (failed(block("weights", {x.weightGroup, 0}, 0, /*param=*/true)))
      return failure();
    int64_t w = wordBytes({x.weightGroup, 0});
    if (failed(block("weights", {x.weightGroup, x.weightAddr},
                     pixels * ((channels + w - 1) / w), true)))
      return failure();
    return block("bias", {x.weightGroup, x.biasAddr}, (biases + w - 1) / w,
                 true);
  }

  Operation *op;
  const Target &t;
};

} // namespace

LogicalResult mlir::dpu::verifyProgramForTarget(ProgramOp program,
                                                const Target &t) {
  FailureOr<std::vector<isa::Instruction>> insts = toInstructions(program);
  if (failed(insts))
    return failure();
  bool ok = true;
  // The INITs in effect (their kernel sizes give the weight block sizes).
  std::optional<isa::ConvInit> convCfg;
  std::optional<isa::DwInit> dwCfg;
  size_t i = 0;
  for (Operation &op : program.getBody().front()) {
    const isa::Instruction &inst = (*insts)[i++];
    Checker c(&op, t);
    LogicalResult r = success();
    if (auto *l = std::get_if<isa::Load>(&inst)) {
      if (l->bank.group < int64_t(t.bankGroups.size()) &&
          t.bankGroups[l->bank.group].isParam) {
        if (l->ddr.reg != 0)
          r = op.emitOpError()
              << "loads into parameter group "
              << t.bankGroups[l->bank.group].name
              << " must read reg 0 (parameters), got reg " << l->ddr.reg;
        else
          r = c.block("bank", l->bank,
                      c.tileWords(l->bank, l->rows, l->cols, l->channels),
                      /*param=*/true);
      } else {
        int64_t w;
        r = c.tile("bank", l->bank, l->rows, l->cols, l->channels, w);
      }
    } else if (auto *s = std::get_if<isa::Save>(&inst)) {
      int64_t w;
      r = c.tile("bank", s->bank, s->rows, s->cols, s->channels, w);
    } else if (auto *ci = std::get_if<isa::ConvInit>(&inst)) {
      r = c.window("conv", *ci, t.conv.kernel, t.conv.stride, t.conv.nonlinear);
      convCfg = *ci;
    } else if (auto *di = std::get_if<isa::DwInit>(&inst)) {
      if (!t.depthwise.present)
        r = op.emitOpError() << t.name << " has no depthwise engine";
      else
        r = c.window("depthwise", *di, t.depthwise.kernel, t.depthwise.stride,
                     t.depthwise.nonlinear);
      dwCfg = *di;
    } else if (auto *x = std::get_if<isa::Conv>(&inst)) {
      int64_t kernel = convCfg ? convCfg->kernelH * convCfg->kernelW : 0;
      r = c.compute(x->in, x->inChannels, x->out, x->outChannels);
      if (succeeded(r))
        r = c.weights(*x, x->outChannels * kernel, x->inChannels,
                      x->outChannels);
    } else if (auto *x = std::get_if<isa::DwConv>(&inst)) {
      int64_t kernel = dwCfg ? dwCfg->kernelH * dwCfg->kernelW : 0;
      r = c.compute(x->in, x->channels, x->out, x->channels);
      if (succeeded(r))
        r = c.weights(*x, kernel, x->channels, x->channels);
    } else if (auto *pi = std::get_if<isa::PoolInit>(&inst)) {
      bool max = pi->kind == isa::PoolKind::Max;
      if (max ? !t.pool.max : !t.pool.avg)
        r = op.emitOpError() << t.name << "'s pool engine has no "
                             << (max ? "max" : "average") << " pooling";
      else if (failed(c.inSet("kernel height",
                              max ? t.pool.maxKernel : t.pool.avgKernel,
                              pi->kernelH)) ||
               failed(c.inSet("kernel width",
                              max ? t.pool.maxKernel : t.pool.avgKernel,
                              pi->kernelW)) ||
               failed(c.inSet("stride height",
                              max ? t.pool.maxStride : t.pool.avgStride,
                              pi->strideH)) ||
               failed(c.inSet("stride width",
                              max ? t.pool.maxStride : t.pool.avgStride,
                              pi->strideW)) ||
               failed(c.pads(pi->padTop, pi->padBottom, pi->padLeft,
                             pi->padRight)))
        r = failure();
    } else if (auto *x = std::get_if<isa::Pool>(&inst)) {
      r = c.compute(x->in, x->channels, x->out, x->channels);
    } else if (auto *x = std::get_if<isa::Eltwise>(&inst)) {
      int64_t wa = 0, wb = 0, wo = 0;
      if (!t.eltwise.add)
        r = op.emitOpError() << t.name << "'s eltwise engine cannot add";
      if (succeeded(r) && x->relu && !t.eltwise.nonlinear.relu)
        r = op.emitOpError()
            << "relu is not supported by " << t.name << "'s eltwise engine";
      if (succeeded(r))
        r = c.tile("lhs", x->a, x->rows, x->cols, x->channels, wa);
      if (succeeded(r))
        r = c.tile("rhs", x->b, x->rows, x->cols, x->channels, wb);
      if (succeeded(r))
        r = c.tile("output", x->out, x->rows, x->cols, x->channels, wo);
      if (succeeded(r))
        r = c.disjoint("output", x->out, wo, "lhs", x->a, wa, true);
      if (succeeded(r))
        r = c.disjoint("output", x->out, wo, "rhs", x->b, wb, true);
    }
    ok &= succeeded(r);
  }
  return success(ok);
}
