//===- Partition.cpp - DPU/CPU partitioning and the inspector -------------===//
//
// Every layer goes to the DPU when it is quantized, the target's engines run
// it (::vai::target::dpuUnsupportedReason) and it can be tiled into the banks;
// otherwise to the CPU, with the reason. Subgraphs are the maximal connected
// groups of layers of one device (connected through the fix ops between
// them), numbered in program order.
//
//===----------------------------------------------------------------------===//

#include "Layers.h"

#include "vai/Backend/Backend.h"
#include "vai/ISA/ISA.h"
#include "vai/Target/OpSupport.h"

#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::vai;
using ::vai::target::Target;

namespace vai::backend {
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

//===----------------------------------------------------------------------===//
// Geometry (Layers.h)
//===----------------------------------------------------------------------===//

std::optional<FmShape> fmShape(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape())
    return std::nullopt;
  auto s = t.getShape();
  if (s.size() == 4 && s[0] == 1)
    return FmShape{s[1], s[2], s[3]};
  if (s.size() == 2 && s[0] == 1)
    return FmShape{1, 1, s[1]};
  return std::nullopt;
}

std::optional<BankPlan> bankPlan(const Target &t) {
  BankPlan p;
  SmallVector<int64_t> fm;
  for (auto [i, g] : llvm::enumerate(t.bankGroups)) {
    if (g.isParam) {
      if (p.param < 0)
        p.param = i;
    } else {
      fm.push_back(i);
    }
  }
  if (fm.size() < 2 || p.param < 0)
    return std::nullopt;
  p.in = fm[0];
  p.out = fm[1];
  p.aux = fm.size() > 2 ? fm[2] : fm[0];
  auto words = [&](int64_t g) {
    return t.bankGroups[g].banks * t.bankGroups[g].depth;
  };
  p.fmHalfWords = std::min(words(p.in), words(p.out));
  if (fm.size() > 2)
    p.fmHalfWords = std::min(p.fmHalfWords, words(p.aux));
  p.fmHalfWords /= 2;
  p.paramHalfWords = words(p.param) / 2;
  p.wb = t.bankGroups[p.in].widthBytes;
  return p;
}

std::optional<Window> windowOf(Operation *op) {
  Window w;
  auto setPad = [&](ArrayRef<int64_t> pad) {
    for (int i = 0; i < 4; ++i)
      w.pad[i] = pad[i];
  };
  auto conv = [&](auto o) {
    auto k = o.getWeight().getType().getShape();
    w.kh = k[1];
    w.kw = k[2];
    w.sh = o.getStrides()[0];
    w.sw = o.getStrides()[1];
    w.dh = o.getDilations()[0];
    w.dw = o.getDilations()[1];
    setPad(o.getPad());
    return w;
  };
  auto pool = [&](auto o) {
    w.kh = o.getKernel()[0];
    w.kw = o.getKernel()[1];
    w.sh = o.getStrides()[0];
    w.sw = o.getStrides()[1];
    setPad(o.getPad());
    return w;
  };
  return llvm::TypeSwitch<Operation *, std::optional<Window>>(op)
      .Case<Conv2DOp, DepthwiseConv2DOp>(conv)
      .Case<MaxPool2DOp, AvgPool2DOp>(pool)
      .Case<GlobalAvgPool2DOp, GlobalMaxPool2DOp>(
          [&](auto o) -> std::optional<Window> {
            auto s = o.getInput().getType().getShape();
            w.kh = s[1];
            w.kw = s[2];
            return w;
          })
      .Case<InnerProductOp>([&](auto) { return w; })
      .Default([](Operation *) { return std::nullopt; });
}

std::pair<int64_t, int64_t> inputRows(const Window &w, int64_t inH, int64_t r0,
                                      int64_t r1) {
  int64_t first = r0 * w.sh - w.pad[0];
  int64_t last = (r1 - 1) * w.sh - w.pad[0] + w.dh * (w.kh - 1) + 1;
  return {std::max<int64_t>(first, 0), std::min(last, inH)};
}

std::string layerName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc)) {
    for (Location l : f.getLocations())
      if (auto s = layerName(l); !s.empty() && isa<NameLoc>(l))
        return s;
  }
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return layerName(c.getCallee());
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

//===----------------------------------------------------------------------===//
// Decisions
//===----------------------------------------------------------------------===//

bool isLayer(Operation *op) {
  return !isa<ConstantOp, FixOp>(op) && !op->hasTrait<OpTrait::IsTerminator>();
}

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string noBank(const llvm::Twine &what) {
  return ("fits no bank even when tiled: " + what).str();
}

/// The consumer a zero pad folds into: its output fix's single user, a
/// conv or depthwise conv reading it as the input.
Operation *padConsumer(PadOp pad) {
  auto q = getQuantizedOp(pad);
  if (!q || !q->output->hasOneUse())
    return nullptr;
  Operation *user = *q->output->getUsers().begin();
  if (!isa<Conv2DOp, DepthwiseConv2DOp>(user) ||
      user->getOperand(0) != q->output.getResult())
    return nullptr;
  return user;
}

} // namespace

std::optional<std::string> tilingFailure(Operation *op, const Target &t) {
  auto plan = bankPlan(t);
  if (!plan)
    return std::string("the target has no two feature-map bank groups and a "
                       "parameter group");
  // Activation operands and the result must be one image's map.
  SmallVector<Value> acts;
  if (isa<ConcatOp, AddOp>(op))
    acts.append(op->operand_begin(), op->operand_end());
  else if (op->getNumOperands())
    acts.push_back(op->getOperand(0));
  auto out = op->getNumResults() == 1 ? fmShape(op->getResult(0).getType())
                                      : std::nullopt;
  bool copy = isa<ReshapeOp, FlattenOp, SqueezeOp>(op);
  for (Value v : acts)
    if (!copy && !fmShape(v.getType()))
      return llvm::formatv("input {0} is not one image's NHWC map (the DPU "
                           "runs one image per batch lane)",
                           v.getType())
          .str();
  if (!copy && !out)
    return llvm::formatv("result {0} is not one image's NHWC map (the DPU "
                         "runs one image per batch lane)",
                         op->getResult(0).getType())
        .str();
  if (copy) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (type.getRank() < 1 || type.getShape()[0] != 1)
      return std::string("a copy of more than one image");
    return std::nullopt;
  }
  const BankPlan &p = *plan;
  constexpr int64_t kMaxDim = ::vai::isa::EncodingLimits::kMaxTileDim;
  FmShape in = *fmShape(acts.front().getType());
  if (in.w > kMaxDim || out->w > kMaxDim)
    return noBank(llvm::formatv("rows of {0} pixels exceed the tile limit "
                                "of {1}",
                                std::max(in.w, out->w), kMaxDim));
  // One output row and the input rows it reads, and (for convolutions) the
  // weights of one group of output channels, must fit half a bank group.
  int64_t inRows = 1;
  if (auto w = windowOf(op)) {
    inRows = std::min(in.h, w->dh * (w->kh - 1) + 1);
    if (isa<InnerProductOp>(op))
      in = FmShape{1, 1, in.bytes()};
  }
  if (isa<GlobalAvgPool2DOp, GlobalMaxPool2DOp>(op))
    inRows = in.h;
  int64_t inWords = p.words(inRows * in.w, in.c);
  if (inWords > p.fmHalfWords)
    return noBank(llvm::formatv("the {0} input rows one output row reads "
                                "({1}x{2}x{3}) need {4} words, half a "
                                "feature-map group holds {5}",
                                inRows, inRows, in.w, in.c, inWords,
                                p.fmHalfWords));
  int64_t ocp = t.conv.outputChannelParallel;
  bool conv = isa<Conv2DOp, InnerProductOp>(op);
  int64_t outWords = p.words(out->w, conv ? std::min(out->c, ocp) : out->c);
  if (outWords > p.fmHalfWords)
    return noBank(llvm::formatv("one output row needs {0} words, half a "
                                "feature-map group holds {1}",
                                outWords, p.fmHalfWords));
  if (auto w = windowOf(op);
      w && isa<Conv2DOp, DepthwiseConv2DOp, InnerProductOp>(op)) {
    bool dw = isa<DepthwiseConv2DOp>(op);
    int64_t oc = dw ? 1 : std::min(out->c, ocp);
    int64_t words = oc * w->kh * w->kw * ceilDiv(in.c, p.wb) +
                    ceilDiv(dw ? in.c : oc, p.wb);
    if (words > p.paramHalfWords)
      return noBank(llvm::formatv("the weights of {0} output channels need "
                                  "{1} words, half the parameter group "
                                  "holds {2}",
                                  oc, words, p.paramHalfWords));
  }
  if (auto mp = dyn_cast<MaxPool2DOp>(op)) {
    // Windows ceil mode adds must stay within padding smaller than the
    // kernel.
    Window w = *windowOf(op);
    int64_t needB = (out->h - 1) * w.sh + w.kh - in.h - w.pad[0];
    int64_t needR = (out->w - 1) * w.sw + w.kw - in.w - w.pad[2];
    if (needB >= w.kh || needR >= w.kw || needB > t.quant.padMax ||
        needR > t.quant.padMax)
      return std::string("ceil-mode windows run past the padding the pool "
                         "engine supports");
  }
  return std::nullopt;
}

std::optional<std::string> cpuReason(Operation *op, const Target &t) {
  if (!getQuantizedOp(op))
    return std::string("not quantized");
  if (auto r = ::vai::target::dpuUnsupportedReason(op, t))
    return r;
  if (auto pad = dyn_cast<PadOp>(op)) {
    auto type = pad.getInput().getType();
    auto lo = pad.getLow(), hi = pad.getHigh();
    if (type.getRank() != 4 || lo[0] || hi[0] || lo[3] || hi[3])
      return std::string("zero pad of other dimensions than height and "
                         "width");
    Operation *user = padConsumer(pad);
    if (!user)
      return std::string("zero pad whose result does not feed only a "
                         "convolution (the DPU folds zero padding into the "
                         "next convolution)");
    if (cpuReason(user, t))
      return std::string("zero pad feeding a convolution that runs on the "
                         "CPU");
    auto w = windowOf(user);
    int64_t sides[4] = {lo[1], hi[1], lo[2], hi[2]};
    for (int i = 0; i < 4; ++i)
      if (w->pad[i] + sides[i] > t.quant.padMax)
        return llvm::formatv("zero pad folded into '{0}' gives padding {1} "
                             "> {2}",
                             layerName(user->getLoc()), w->pad[i] + sides[i],
                             t.quant.padMax)
            .str();
    return std::nullopt;
  }
  return tilingFailure(op, t);
}

//===----------------------------------------------------------------------===//
// Partition and inspector
//===----------------------------------------------------------------------===//

/// The layer that produces `v`, looking through fix ops; null for function
/// arguments and constants.
static Operation *producerLayer(Value v) {
  while (auto fix = v.getDefiningOp<FixOp>())
    v = fix.getInput();
  Operation *def = v.getDefiningOp();
  return def && isLayer(def) ? def : nullptr;
}

void partition(func::FuncOp func, const Target &target) {
  MLIRContext *ctx = func.getContext();
  SmallVector<Operation *> layers;
  func.walk([&](Operation *op) {
    if (op != func && op->getParentOp() == func && isLayer(op))
      layers.push_back(op);
  });
  DenseMap<Operation *, bool> onDpu;
  Builder b(ctx);
  for (Operation *op : layers) {
    auto reason = cpuReason(op, target);
    onDpu[op] = !reason;
    op->setAttr(kDeviceAttr, b.getStringAttr(reason ? "CPU" : "DPU"));
    if (reason)
      op->setAttr(kCpuReasonAttr, b.getStringAttr(*reason));
    else
      op->removeAttr(kCpuReasonAttr);
  }
  // Subgraphs must form an acyclic graph (XIR requires it; a DPU subgraph
  // cannot wait for a CPU op that needs its own output). Each layer gets a
  // level: the largest over its producers of their level, plus one where
  // the device changes. Connected layers of one device and one level form a
  // subgraph: an edge between subgraphs of different devices raises the
  // level, so no path can return to a subgraph it left.
  DenseMap<Operation *, int64_t> level;
  for (Operation *op : layers) {
    int64_t l = 0;
    for (Value v : op->getOperands())
      if (Operation *p = producerLayer(v); p && level.count(p))
        l = std::max(l, level[p] + (onDpu[p] != onDpu[op] ? 1 : 0));
    level[op] = l;
  }
  llvm::EquivalenceClasses<Operation *> groups;
  for (Operation *op : layers) {
    groups.insert(op);
    for (Value v : op->getOperands())
      if (Operation *p = producerLayer(v);
          p && onDpu.count(p) && onDpu[p] == onDpu[op] && level[p] == level[op])
        groups.unionSets(p, op);
  }
  DenseMap<Operation *, int64_t> number;
  for (Operation *op : layers) {
    Operation *leader = groups.getLeaderValue(op);
    auto [it, inserted] = number.try_emplace(leader, number.size());
    op->setAttr(kSubgraphAttr, b.getI64IntegerAttr(it->second));
  }
}

std::string inspect(func::FuncOp func) {
  struct Row {
    std::string layer, op, device, subgraph, reason;
  };
  std::vector<Row> rows{{"layer", "op", "device", "subgraph", "reason"}};
  func.walk([&](Operation *op) {
    if (op == func || !isLayer(op) || op->getParentOp() != func)
      return;
    Row r{layerName(op->getLoc()), op->getName().getStringRef().str(), "-", "-",
          ""};
    if (auto d = op->getAttrOfType<StringAttr>(kDeviceAttr))
      r.device = d.str();
    if (auto s = op->getAttrOfType<IntegerAttr>(kSubgraphAttr))
      r.subgraph = std::to_string(s.getInt());
    if (auto s = op->getAttrOfType<StringAttr>(kCpuReasonAttr))
      r.reason = s.str();
    rows.push_back(std::move(r));
  });
  size_t width[4] = {0, 0, 0, 0};
  for (const Row &r : rows) {
    width[0] = std::max(width[0], r.layer.size());
    width[1] = std::max(width[1], r.op.size());
    width[2] = std::max(width[2], r.device.size());
    width[3] = std::max(width[3], r.subgraph.size());
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  int64_t dpu = 0, cpu = 0;
  for (const Row &r : rows) {
    os << llvm::left_justify(r.layer, width[0]) << "  "
       << llvm::left_justify(r.op, width[1]) << "  "
       << llvm::left_justify(r.device, width[2]) << "  "
       << llvm::left_justify(r.subgraph, width[3]);
    if (!r.reason.empty())
      os << "  " << r.reason;
    os << "\n";
    dpu += r.device == "DPU";
    cpu += r.device == "CPU";
  }
  os << "function " << func.getSymName() << ": " << dpu << " DPU layers, "
     << cpu << " CPU layers\n";
  return s;
}

} // namespace vai::backend
