//===- LowerToDpu.cpp - DPU subgraphs to dpu.program
//-----------------------===//
//
// Each DPU subgraph becomes one dpu.program:
// - tiling: a layer's output is cut into bands of rows (with the input rows
//   their windows read, the halo, loaded again for each band) that fit half
//   a feature-map bank group; output channels are split into groups whose
//   weights fit half the parameter group;
// - DDR: activations live in reg 1 (workspace), placed by liveness so dead
//   buffers are reused; reshapes, flattens, squeezes and folded zero pads
//   re-interpret their input's bytes; concat inputs are saved straight into
//   their channel slice of the output; subgraph inputs are reg 2, outputs
//   reg 3; weights and biases reg 0;
// - scheduling: bank buffers alternate between the halves of their group
//   (double buffering) and every instruction waits, by token, only for the
//   latest instruction of each other engine touching the same bank words or
//   DDR bytes (docs/isa.md's correctness contract), so the LOAD of band t+1,
//   the CONV of band t and the SAVE of band t-1 overlap.
//
//===----------------------------------------------------------------------===//

// The dpu headers name ::vai from inside mlir::dpu: before mlir::vai.
#include "vai/Dialect/Dpu/DpuTarget.h"
#include "vai/Dialect/Dpu/DpuToISA.h"

#include "Layers.h"

#include "vai/Backend/Backend.h"
#include "vai/Runtime/QuantKernels.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::vai;
namespace hw = ::vai::isa;
using ::vai::target::Target;

namespace vai::backend {
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t alignTo(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

constexpr int64_t kInputReg = 2, kOutputReg = 3;
/// Bands per layer the scheduler aims for, and their smallest height (a
/// scheduling choice, not a hardware figure: smaller bands overlap better
/// but reload more halo rows and pay more instruction latencies).
constexpr int64_t kMinBands = 4, kMinBandRows = 8;
constexpr int64_t kDdrSpace = 100; ///< access spaces >= this are DDR regs

/// A byte or word range an instruction reads or writes.
struct Access {
  int64_t space, lo, hi;
  bool write;
};

/// Where a tensor of one lane is in DDR: pixel (y, x), channel c at
/// offset + (y * W + x) * pitch + c.
struct View {
  int64_t reg = -1, offset = 0, pitch = 0;
};

/// Collects instructions, their accesses, and places the wait/notify
/// tokens.
class Emitter {
public:
  Emitter(const BankPlan &p) : plan(p) {
    for (auto &row : synced)
      for (int64_t &s : row)
        s = -1;
  }

  void emit(hw::Instruction inst, Location loc,
            SmallVector<Access, 4> accesses) {
    int64_t index = insts.size();
    if (auto engine = hw::engineOf(inst)) {
      int c = static_cast<int>(*engine);
      for (int p = 0; p < hw::kNumEngines; ++p) {
        if (p == c)
          continue;
        auto &hist = history[p];
        for (auto it = hist.rbegin(); it != hist.rend() && *it > synced[p][c];
             ++it) {
          if (!conflicts(access[*it], accesses))
            continue;
          hw::depsOf(insts[*it]).notify |= 1u << c;
          hw::depsOf(inst).wait |= 1u << p;
          synced[p][c] = *it;
          break;
        }
      }
      history[c].push_back(index);
    }
    insts.push_back(std::move(inst));
    locs.push_back(loc);
    access.push_back(std::move(accesses));
  }

  Access bank(int64_t group, int64_t addr, int64_t pixels, int64_t channels,
              bool write) const {
    return {group, addr, addr + plan.words(pixels, channels), write};
  }
  static Access ddr(const hw::Transfer &t, bool write) {
    int64_t hi = t.ddr.offset + (t.rows - 1) * t.rowStride +
                 (t.cols - 1) * t.colStride + t.channels;
    return {kDdrSpace + t.ddr.reg, t.ddr.offset, hi, write};
  }

  void load(const View &v, int64_t row0, int64_t rows, int64_t cols,
            int64_t channels, int64_t width, int64_t group, int64_t addr,
            Location loc) {
    hw::Load l;
    fill(l, v, row0, rows, cols, channels, width, group, addr);
    auto a = ddr(l, false);
    emit(l, loc, {a, bank(group, addr, rows * cols, channels, true)});
  }
  void save(const View &v, int64_t row0, int64_t rows, int64_t cols,
            int64_t channels, int64_t width, int64_t group, int64_t addr,
            Location loc) {
    hw::Save s;
    fill(s, v, row0, rows, cols, channels, width, group, addr);
    auto a = ddr(s, true);
    emit(s, loc, {a, bank(group, addr, rows * cols, channels, false)});
  }
  /// A parameter block from reg 0: `rows` x `cols` pixels of `channels`.
  void loadParams(int64_t offset, int64_t rows, int64_t cols, int64_t channels,
                  int64_t addr, Location loc) {
    hw::Load l;
    l.ddr = {0, offset};
    l.bank = {plan.param, addr};
    l.rows = rows;
    l.cols = cols;
    l.channels = channels;
    l.colStride = channels;
    l.rowStride = cols * channels;
    auto a = ddr(l, false);
    emit(l, loc, {a, bank(plan.param, addr, rows * cols, channels, true)});
  }

  /// Next half of a bank group (double buffering).
  int64_t nextHalf(int64_t group, bool param = false) {
    int64_t &toggle = toggles[group];
    toggle ^= 1;
    return toggle * (param ? plan.paramHalfWords : plan.fmHalfWords);
  }

  const BankPlan &plan;
  std::vector<hw::Instruction> insts;
  std::vector<Location> locs;

private:
  static bool conflicts(ArrayRef<Access> a, ArrayRef<Access> b) {
    for (const Access &x : a)
      for (const Access &y : b)
        if (x.space == y.space && (x.write || y.write) && x.lo < y.hi &&
            y.lo < x.hi)
          return true;
    return false;
  }
  void fill(hw::Transfer &t, const View &v, int64_t row0, int64_t rows,
            int64_t cols, int64_t channels, int64_t width, int64_t group,
            int64_t addr) {
    t.ddr = {v.reg, v.offset + row0 * width * v.pitch};
    t.bank = {group, addr};
    t.rows = rows;
    t.cols = cols;
    t.channels = channels;
    t.colStride = v.pitch;
    t.rowStride = width * v.pitch;
  }

  std::vector<SmallVector<Access, 4>> access;
  std::vector<int64_t> history[hw::kNumEngines];
  int64_t synced[hw::kNumEngines][hw::kNumEngines];
  DenseMap<int64_t, int64_t> toggles;
};

/// The activation operands of a layer (not its weights and biases).
SmallVector<Value> activationOperands(Operation *op) {
  if (isa<ConcatOp, AddOp>(op))
    return SmallVector<Value>(op->getOperands());
  return {op->getOperand(0)};
}

bool isAlias(Operation *op) {
  return isa<ReshapeOp, FlattenOp, SqueezeOp, PadOp>(op);
}

int64_t fixPoint(Value v) { return v.getDefiningOp<FixOp>().getFixPoint(); }

/// The int8 integers of a weight/bias fix (constant on its grid).
FailureOr<std::vector<int8_t>> quantizedConstant(FixOp fix) {
  auto values = getConstantF32(fix.getInput());
  if (!values)
    return fix.emitError("expected a constant weight or bias before this fix");
  auto [lo, hi] = fixRange(fix);
  double scale = std::ldexp(1.0, fix.getFixPoint());
  std::vector<int8_t> q(values->size());
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = static_cast<int8_t>(
        std::clamp<int64_t>(std::llround((*values)[i] * scale), lo, hi));
  return q;
}

hw::Activation isaActivation(Activation a) {
  switch (a) {
  case Activation::Relu:
    return hw::Activation::Relu;
  case Activation::Relu6:
    return hw::Activation::Relu6;
  case Activation::LeakyRelu:
    return hw::Activation::LeakyRelu;
  case Activation::None:
    break;
  }
  return hw::Activation::None;
}

/// Lowers one DPU subgraph.
class SubgraphLowering {
public:
  SubgraphLowering(const Target &t, const BankPlan &p,
                   ArrayRef<Operation *> ops)
      : target(t), plan(p), ops(ops), em(p) {}

  LogicalResult run();
  dpu::ProgramOp build(OpBuilder &b, StringRef name, int64_t number);

private:
  LogicalResult planDdr();
  LogicalResult lower(Operation *op);
  LogicalResult lowerWindowed(Operation *op);
  LogicalResult lowerAdd(AddOp op);
  void copy(Value from, const View &to, Location loc);
  /// Output rows per band so that `inWords(rows)` and `outWords(rows)` fit.
  FailureOr<int64_t> bandRows(Operation *op, int64_t outH,
                              llvm::function_ref<int64_t(int64_t)> words);

  View readView(Value v) {
    View w = views.lookup(root(v).first);
    w.offset += root(v).second;
    w.pitch = fmShape(v.getType()) ? fmShape(v.getType())->c : 1;
    return w;
  }
  View writeView(Value v) {
    auto [r, off] = root(v);
    View w = views.lookup(r);
    w.offset += off;
    w.pitch = fmShape(r.getType())->c;
    return w;
  }
  std::pair<Value, int64_t> root(Value v) const {
    int64_t off = 0;
    for (auto it = parent.find(v); it != parent.end(); it = parent.find(v)) {
      off += it->second.second;
      v = it->second.first;
    }
    return {v, off};
  }

  const Target &target;
  const BankPlan &plan;
  ArrayRef<Operation *> ops;
  Emitter em;
  DenseSet<Operation *> inSub;
  llvm::MapVector<Value, int64_t> inputs, outputs; ///< value -> io offset
  DenseMap<Value, std::pair<Value, int64_t>> parent;
  DenseMap<Value, View> views; ///< of root values
  DenseSet<Value> copiedIntoConcat;
  std::vector<int8_t> params;
  int64_t workspace = 0, inBytes = 0, outBytes = 0;
};

FailureOr<int64_t>
SubgraphLowering::bandRows(Operation *op, int64_t outH,
                           llvm::function_ref<int64_t(int64_t)> words) {
  // The largest band that fits (words grows with the rows).
  // Up to kMinBands bands of at least kMinBandRows rows, so that loads,
  // compute and saves of consecutive bands overlap.
  int64_t lo = 0,
          hi = std::min({outH, hw::EncodingLimits::kMaxTileDim,
                         std::max(kMinBandRows, ceilDiv(outH, kMinBands))});
  while (lo < hi) {
    int64_t mid = (lo + hi + 1) / 2;
    if (words(mid) <= plan.fmHalfWords)
      lo = mid;
    else
      hi = mid - 1;
  }
  int64_t rows = lo;
  if (rows <= 0)
    return op->emitError("fits no bank even when tiled");
  int64_t bands = ceilDiv(outH, rows);
  return ceilDiv(outH, bands);
}

LogicalResult SubgraphLowering::planDdr() {
  for (Operation *op : ops)
    inSub.insert(op);
  auto producer = [&](Value v) -> Operation * {
    auto fix = v.getDefiningOp<FixOp>();
    Operation *def = fix ? fix.getInput().getDefiningOp() : nullptr;
    return def && inSub.count(def) ? def : nullptr;
  };
  DenseMap<Operation *, int64_t> pos;
  DenseMap<Value, int64_t> firstDef, lastUse;
  for (auto [i, op] : llvm::enumerate(ops)) {
    pos[op] = i;
    for (Value v : activationOperands(op)) {
      if (!producer(v) && !inputs.count(v))
        inputs.insert({v, 0});
      lastUse[v] = i;
    }
    Value out = getQuantizedOp(op)->output.getResult();
    firstDef[out] = i;
    for (Operation *user : out.getUsers())
      if (!inSub.count(user)) {
        outputs.insert({out, 0});
        break;
      }
  }
  // Aliases: copies share their input's bytes; concat inputs produced here
  // (used only by the concat, not subgraph outputs) are slices of it.
  for (Operation *op : ops) {
    Value out = getQuantizedOp(op)->output.getResult();
    if (isAlias(op))
      parent[out] = {op->getOperand(0), 0};
  }
  for (Operation *op : llvm::reverse(ops)) {
    auto cat = dyn_cast<ConcatOp>(op);
    if (!cat)
      continue;
    Value out = getQuantizedOp(op)->output.getResult();
    int64_t off = 0;
    for (Value v : cat.getInputs()) {
      Operation *def = producer(v);
      bool slice = def && !isAlias(def) && v.hasOneUse() && !outputs.count(v) &&
                   !parent.count(v);
      if (slice)
        parent[v] = {out, off};
      else
        copiedIntoConcat.insert(v);
      off += fmShape(v.getType())->c;
    }
  }
  // Storage classes by root.
  llvm::MapVector<Value, SmallVector<Value>> classes;
  auto add = [&](Value v) {
    auto &members = classes[root(v).first];
    if (!llvm::is_contained(members, v))
      members.push_back(v);
  };
  for (auto &[v, _] : inputs)
    add(v);
  for (Operation *op : ops)
    add(getQuantizedOp(op)->output.getResult());
  struct Interval {
    Value root;
    int64_t start, end, size, offset = -1;
  };
  std::vector<Interval> work;
  for (auto &[r, members] : classes) {
    int64_t size =
        alignTo(cast<ShapedType>(r.getType()).getNumElements(), plan.wb);
    bool isIn = llvm::any_of(members, [&](Value v) { return inputs.count(v); });
    bool isOut =
        llvm::any_of(members, [&](Value v) { return outputs.count(v); });
    if (isIn) {
      views[r] = {kInputReg, inBytes, 0};
      inBytes += size;
    } else if (isOut) {
      views[r] = {kOutputReg, outBytes, 0};
      outBytes += size;
    } else {
      int64_t start = INT64_MAX, end = -1;
      for (Value v : members) {
        if (firstDef.count(v))
          start = std::min(start, firstDef[v]);
        if (lastUse.count(v))
          end = std::max(end, lastUse[v]);
      }
      work.push_back({r, start, std::max(end, start), size});
    }
  }
  // First fit by start time over the buffers live at the same time.
  std::vector<Interval *> placed;
  for (Interval &iv : work) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Interval *p : placed)
      if (p->start <= iv.end && iv.start <= p->end)
        busy.push_back({p->offset, p->offset + p->size});
    llvm::sort(busy);
    int64_t off = 0;
    for (auto [lo, hi] : busy) {
      if (off + iv.size <= lo)
        break;
      off = std::max(off, hi);
    }
    iv.offset = off;
    workspace = std::max(workspace, off + iv.size);
    views[iv.root] = {1, off, 0};
    placed.push_back(&iv);
  }
  for (auto &[v, off] : inputs)
    off = readView(v).offset;
  for (auto &[v, off] : outputs)
    off = readView(v).offset;
  return success();
}

void SubgraphLowering::copy(Value from, const View &to, Location loc) {
  FmShape s = *fmShape(from.getType());
  View src = readView(from);
  int64_t rows = std::max<int64_t>(
      1, std::min(s.h, plan.fmHalfWords / plan.words(s.w, s.c)));
  for (int64_t r0 = 0; r0 < s.h; r0 += rows) {
    int64_t n = std::min(rows, s.h - r0);
    int64_t addr = em.nextHalf(plan.in);
    em.load(src, r0, n, s.w, s.c, s.w, plan.in, addr, loc);
    em.save(to, r0, n, s.w, s.c, s.w, plan.in, addr, loc);
  }
}

LogicalResult SubgraphLowering::lowerWindowed(Operation *op) {
  Location loc = op->getLoc();
  auto q = *getQuantizedOp(op);
  Value inV = op->getOperand(0);
  Window w = *windowOf(op);
  // A zero pad before a conv folds into the conv's padding.
  if (auto padFix = inV.getDefiningOp<FixOp>())
    if (auto pad = padFix.getInput().getDefiningOp<PadOp>();
        pad && inSub.count(pad)) {
      auto lo = pad.getLow(), hi = pad.getHigh();
      w.pad[0] += lo[1];
      w.pad[1] += hi[1];
      w.pad[2] += lo[2];
      w.pad[3] += hi[2];
      inV = pad.getInput();
    }
  FmShape in = *fmShape(inV.getType());
  Value outV = q.output.getResult();
  FmShape out = *fmShape(outV.getType());
  bool isConv = isa<Conv2DOp, InnerProductOp>(op);
  bool isDw = isa<DepthwiseConv2DOp>(op);
  if (isa<InnerProductOp>(op))
    in = FmShape{1, 1, in.bytes()};
  if (isa<MaxPool2DOp>(op)) {
    // Ceil-mode windows: the max over the in-tile positions is the same
    // with the extra padding that makes them legal.
    w.pad[1] = std::max(w.pad[1], (out.h - 1) * w.sh + w.kh - in.h - w.pad[0]);
    w.pad[3] = std::max(w.pad[3], (out.w - 1) * w.sw + w.kw - in.w - w.pad[2]);
  }
  int64_t px = fixPoint(inV), py = q.output.getFixPoint();

  // Weights and biases into the parameter blob.
  int64_t wOff = -1, bOff = -1, shiftBias = 0, shiftCut = 0;
  int64_t oc = out.c, ocChunk = out.c;
  if (isConv || isDw) {
    auto wq = quantizedConstant(q.operands[1]);
    if (failed(wq))
      return failure();
    int64_t pw = q.operands[1].getFixPoint();
    std::vector<int8_t> bias(oc, 0);
    if (q.operands.size() > 2) {
      auto bq = quantizedConstant(q.operands[2]);
      if (failed(bq))
        return failure();
      bias = *bq;
      shiftBias = px + pw - q.operands[2].getFixPoint();
    }
    shiftCut = px + pw - py;
    wOff = params.size();
    params.insert(params.end(), wq->begin(), wq->end());
    bOff = params.size();
    params.insert(params.end(), bias.begin(), bias.end());
    if (isConv) {
      int64_t ocp = target.conv.outputChannelParallel;
      int64_t perOc = w.kh * w.kw * ceilDiv(in.c, plan.wb);
      ocChunk = std::min(oc, (plan.paramHalfWords - 1) / perOc / ocp * ocp);
      while (ocChunk > ocp &&
             ocChunk * perOc + ceilDiv(ocChunk, plan.wb) > plan.paramHalfWords)
        ocChunk -= ocp;
      if (ocChunk <= 0)
        return op->emitError("fits no bank even when tiled");
      // Keep the output chunks balanced.
      int64_t chunks = ceilDiv(oc, ocChunk);
      ocChunk = std::min(oc, alignTo(ceilDiv(oc, chunks), ocp));
    }
  }

  // Engine configuration.
  hw::Activation act = hw::Activation::None;
  int64_t actMax = 0;
  if (isConv || isDw) {
    Activation a = isa<Conv2DOp>(op) ? cast<Conv2DOp>(op).getAct()
                   : isa<InnerProductOp>(op)
                       ? cast<InnerProductOp>(op).getAct()
                       : cast<DepthwiseConv2DOp>(op).getAct();
    act = isaActivation(a);
    if (a == Activation::Relu6)
      actMax = ::vai::rt::roundShift(6, -static_cast<int>(py));
    hw::WindowConfig cfg;
    cfg.kernelH = w.kh;
    cfg.kernelW = w.kw;
    cfg.strideH = w.sh;
    cfg.strideW = w.sw;
    cfg.dilationH = w.dh;
    cfg.dilationW = w.dw;
    cfg.padTop = w.pad[0];
    cfg.padBottom = w.pad[1];
    cfg.padLeft = w.pad[2];
    cfg.padRight = w.pad[3];
    cfg.shiftBias = shiftBias;
    cfg.shiftCut = shiftCut;
    cfg.act = act;
    cfg.actMax = actMax;
    if (isDw)
      em.emit(hw::DwInit{cfg}, loc, {});
    else
      em.emit(hw::ConvInit{cfg}, loc, {});
  } else {
    hw::PoolInit init;
    bool avg = isa<AvgPool2DOp, GlobalAvgPool2DOp>(op);
    init.kind = avg ? hw::PoolKind::Avg : hw::PoolKind::Max;
    init.kernelH = w.kh;
    init.kernelW = w.kw;
    init.strideH = w.sh;
    init.strideW = w.sw;
    init.padTop = w.pad[0];
    init.padBottom = w.pad[1];
    init.padLeft = w.pad[2];
    init.padRight = w.pad[3];
    init.shift = px - py;
    if (avg) {
      ::vai::rt::AvgPoolFactor f = ::vai::rt::avgPoolFactor(w.kh, w.kw);
      init.mul = f.mul;
      init.shift += f.shift;
    }
    em.emit(init, loc, {});
  }

  // Bands of output rows.
  auto words = [&](int64_t rows) {
    // The worst band reads (rows - 1) * sh + the dilated kernel's rows.
    int64_t inRows = std::min(in.h, (rows - 1) * w.sh + w.dh * (w.kh - 1) + 1);
    return std::max(plan.words(inRows * in.w, in.c),
                    plan.words(rows * out.w, ocChunk));
  };
  auto rowsOr = bandRows(op, out.h, words);
  if (failed(rowsOr))
    return failure();
  int64_t rows = *rowsOr;
  if (rows * w.sh < w.pad[0])
    return op->emitError("fits no bank even when tiled: the first band must "
                         "cover the top padding");
  View src = readView(inV), dst = writeView(outV);
  for (int64_t o0 = 0; o0 < oc; o0 += ocChunk) {
    int64_t ocn = std::min(ocChunk, oc - o0);
    int64_t wAddr = 0, bAddr = 0;
    if (isConv || isDw) {
      wAddr = em.nextHalf(plan.param, /*param=*/true);
      int64_t perOc = isConv ? w.kh * w.kw * in.c : 0;
      if (isConv) {
        em.loadParams(wOff + o0 * perOc, ocn, w.kh * w.kw, in.c, wAddr, loc);
        bAddr = wAddr + plan.words(ocn * w.kh * w.kw, in.c);
      } else {
        em.loadParams(wOff, 1, w.kh * w.kw, in.c, wAddr, loc);
        bAddr = wAddr + plan.words(w.kh * w.kw, in.c);
      }
      em.loadParams(bOff + o0, 1, 1, ocn, bAddr, loc);
    }
    for (int64_t r0 = 0; r0 < out.h; r0 += rows) {
      int64_t r1 = std::min(out.h, r0 + rows);
      auto [i0, i1] = inputRows(w, in.h, r0, r1);
      uint32_t edge = hw::EdgeLeft | hw::EdgeRight;
      if (r0 == 0)
        edge |= hw::EdgeTop;
      if (i1 == in.h)
        edge |= hw::EdgeBottom;
      int64_t inAddr = em.nextHalf(plan.in);
      int64_t outAddr = em.nextHalf(plan.out);
      em.load(src, i0, i1 - i0, in.w, in.c, in.w, plan.in, inAddr, loc);
      hw::Tile ti{{plan.in, inAddr}, i1 - i0, in.w};
      hw::Tile to{{plan.out, outAddr}, r1 - r0, out.w};
      SmallVector<Access, 4> acc = {
          em.bank(plan.in, inAddr, ti.rows * ti.cols, in.c, false),
          em.bank(plan.out, outAddr, to.rows * to.cols, ocn, true)};
      if (isConv || isDw)
        acc.push_back(
            {plan.param, wAddr, bAddr + ceilDiv(ocn, plan.wb), false});
      if (isConv) {
        hw::Conv c;
        c.in = ti;
        c.out = to;
        c.inChannels = in.c;
        c.outChannels = ocn;
        c.weightGroup = plan.param;
        c.weightAddr = wAddr;
        c.biasAddr = bAddr;
        c.edge = edge;
        em.emit(c, loc, acc);
      } else if (isDw) {
        hw::DwConv c;
        c.in = ti;
        c.out = to;
        c.channels = in.c;
        c.weightGroup = plan.param;
        c.weightAddr = wAddr;
        c.biasAddr = bAddr;
        c.edge = edge;
        em.emit(c, loc, acc);
      } else {
        hw::Pool p;
        p.in = ti;
        p.out = to;
        p.channels = in.c;
        p.edge = edge;
        em.emit(p, loc, acc);
      }
      View d = dst;
      d.offset += o0;
      em.save(d, r0, r1 - r0, out.w, ocn, out.w, plan.out, outAddr, loc);
    }
  }
  return success();
}

LogicalResult SubgraphLowering::lowerAdd(AddOp op) {
  Location loc = op->getLoc();
  auto q = *getQuantizedOp(op);
  FmShape s = *fmShape(op.getLhs().getType());
  int64_t pa = fixPoint(op.getLhs()), pb = fixPoint(op.getRhs());
  int64_t pm = std::max(pa, pb), py = q.output.getFixPoint();
  auto rowsOr =
      bandRows(op, s.h, [&](int64_t r) { return plan.words(r * s.w, s.c); });
  if (failed(rowsOr))
    return failure();
  View a = readView(op.getLhs()), b = readView(op.getRhs());
  View d = writeView(q.output.getResult());
  for (int64_t r0 = 0; r0 < s.h; r0 += *rowsOr) {
    int64_t n = std::min(*rowsOr, s.h - r0);
    int64_t aAddr = em.nextHalf(plan.in), bAddr = em.nextHalf(plan.aux);
    if (plan.aux == plan.in)
      bAddr = em.nextHalf(plan.in);
    int64_t oAddr = em.nextHalf(plan.out);
    em.load(a, r0, n, s.w, s.c, s.w, plan.in, aAddr, loc);
    em.load(b, r0, n, s.w, s.c, s.w, plan.aux, bAddr, loc);
    hw::Eltwise e;
    e.a = {plan.in, aAddr};
    e.b = {plan.aux, bAddr};
    e.out = {plan.out, oAddr};
    e.rows = n;
    e.cols = s.w;
    e.channels = s.c;
    e.shiftA = pm - pa;
    e.shiftB = pm - pb;
    e.shiftOut = pm - py;
    e.relu = op.getAct() == Activation::Relu;
    em.emit(e, loc,
            {em.bank(plan.in, aAddr, n * s.w, s.c, false),
             em.bank(plan.aux, bAddr, n * s.w, s.c, false),
             em.bank(plan.out, oAddr, n * s.w, s.c, true)});
    em.save(d, r0, n, s.w, s.c, s.w, plan.out, oAddr, loc);
  }
  return success();
}

LogicalResult SubgraphLowering::lower(Operation *op) {
  if (auto add = dyn_cast<AddOp>(op))
    return lowerAdd(add);
  if (auto cat = dyn_cast<ConcatOp>(op)) {
    View d = writeView(getQuantizedOp(op)->output.getResult());
    for (Value v : cat.getInputs()) {
      if (copiedIntoConcat.count(v))
        copy(v, d, op->getLoc());
      d.offset += fmShape(v.getType())->c;
    }
    return success();
  }
  if (isAlias(op))
    return success();
  return lowerWindowed(op);
}

LogicalResult SubgraphLowering::run() {
  if (failed(planDdr()))
    return failure();
  for (Operation *op : ops)
    if (failed(lower(op)))
      return failure();
  em.emit(hw::End{}, ops.back()->getLoc(), {});
  if (auto err = hw::validateProgram(em.insts)) {
    Operation *at = ops.front();
    return at->emitError("lowering produced an invalid program: ")
           << err->str();
  }
  return success();
}

dpu::ProgramOp SubgraphLowering::build(OpBuilder &b, StringRef name,
                                       int64_t number) {
  MLIRContext *ctx = b.getContext();
  auto program = dpu::buildProgram(b, ops.front()->getLoc(), name, target.name,
                                   em.insts, em.locs);
  auto sched = hw::schedule(em.insts, dpu::timingParams(target));
  program.setSubgraphAttr(b.getI64IntegerAttr(number));
  SmallVector<int64_t> regs = {static_cast<int64_t>(params.size()), workspace,
                               inBytes, outBytes};
  program.setRegSizesAttr(b.getDenseI64ArrayAttr(regs));
  auto type = RankedTensorType::get({static_cast<int64_t>(params.size())},
                                    b.getIntegerType(8));
  ArrayRef<char> raw(reinterpret_cast<const char *>(params.data()),
                     params.size());
  program.setParamsAttr(DenseResourceElementsAttr::get(
      type, (name + "_params").str(),
      HeapAsmResourceBlob::allocateAndCopyWithAlign(raw, 1)));
  SmallVector<Attribute> io;
  auto entry = [&](Value v, bool in, int64_t reg, int64_t off) {
    auto fix = v.getDefiningOp<FixOp>();
    NamedAttribute fields[] = {
        b.getNamedAttr("name", b.getStringAttr(layerName(fix->getLoc()))),
        b.getNamedAttr("direction", b.getStringAttr(in ? "in" : "out")),
        b.getNamedAttr("reg", b.getI64IntegerAttr(reg)),
        b.getNamedAttr("offset", b.getI64IntegerAttr(off)),
        b.getNamedAttr("shape", b.getI64ArrayAttr(
                                    cast<ShapedType>(v.getType()).getShape())),
        b.getNamedAttr("fix_point", b.getI64IntegerAttr(fix.getFixPoint()))};
    io.push_back(DictionaryAttr::get(ctx, fields));
  };
  for (auto &[v, off] : inputs)
    entry(v, true, kInputReg, off);
  for (auto &[v, off] : outputs)
    entry(v, false, readView(v).reg, off);
  program.setIoAttr(b.getArrayAttr(io));
  if (sched) {
    program.setMacsAttr(b.getI64IntegerAttr(sched->macs));
    program.setCyclesAttr(b.getI64IntegerAttr(sched->total));
  }
  return program;
}

} // namespace

LogicalResult lowerToDpu(ModuleOp module, const Target &target) {
  auto plan = bankPlan(target);
  if (!plan)
    return module.emitError("target ")
           << target.name << " lacks the bank groups the lowering needs";
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  for (func::FuncOp f : funcs) {
    std::map<int64_t, SmallVector<Operation *>> subgraphs;
    for (Operation &op : f.getBody().getOps()) {
      auto dev = op.getAttrOfType<StringAttr>(kDeviceAttr);
      auto sg = op.getAttrOfType<IntegerAttr>(kSubgraphAttr);
      if (!isLayer(&op))
        continue;
      if (!dev || !sg)
        return op.emitError("layer without partition attributes; run "
                            "-vai-partition first");
      if (dev.getValue() == "DPU")
        subgraphs[sg.getInt()].push_back(&op);
    }
    for (auto &[n, ops] : subgraphs) {
      std::string name = "subgraph_" + std::to_string(n);
      if (funcs.size() > 1)
        name = (f.getSymName() + "_" + name).str();
      SubgraphLowering l(target, *plan, ops);
      if (failed(l.run()))
        return failure();
      l.build(b, name, n);
    }
  }
  return success();
}

} // namespace vai::backend
