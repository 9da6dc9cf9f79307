//===- Quantize.cpp - Power-of-two INT8 quantization of a vai model -------===//

#include "vai/Quantizer/Quantize.h"

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Quantizer/Calibrate.h"
#include "vai/Quantizer/Calibration.h"
#include "vai/Runtime/QuantKernels.h"
#include "vai/Target/OpSupport.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "vai/Transforms/Passes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::vai;
using llvm::Expected;

namespace vai::quant {
namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Weights, biases and constant activations: 8-bit two's complement grids.
const QuantSpec kWeightSpec{-128, 127, QuantSpec::Round::Std};
const QuantSpec kActivationSpec{-127, 127, QuantSpec::Round::Dpu};

bool isConvLike(Operation *op) {
  return isa<Conv2DOp, DepthwiseConv2DOp, TransposedConv2DOp, InnerProductOp>(
      op);
}

/// Operands of `op` that are activations (not a conv-like's weight or bias).
SmallVector<Value> activationOperands(Operation *op) {
  if (isConvLike(op))
    return {op->getOperand(0)};
  return SmallVector<Value>(op->getOperands());
}

/// The fused activation of a conv-like or add op.
std::pair<Activation, float> fusedActivation(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::pair<Activation, float>>(op)
      .Case<Conv2DOp, DepthwiseConv2DOp, TransposedConv2DOp, InnerProductOp,
            AddOp>([](auto o) {
        return std::make_pair(o.getAct(), o.getActAlpha().convertToFloat());
      })
      .Default(
          [](Operation *) { return std::make_pair(Activation::None, 0.0f); });
}

/// The position of constant data: exact minimum squared error; all-zero
/// data takes the largest position (the shift adjustment lowers it).
Expected<int> constantPosition(ArrayRef<float> values, const QuantSpec &spec,
                               StringRef what) {
  if (llvm::any_of(values, [](float v) { return !std::isfinite(v); }))
    return makeError(what + " holds NaN or Inf");
  if (llvm::all_of(values, [](float v) { return v == 0.0f; }))
    return kMaxPosition;
  Expected<int> p = bestPositionForValues(values, spec);
  if (!p)
    return makeError(what + ": " + llvm::toString(p.takeError()));
  return *p;
}

/// Positions of tensors that must agree (an op that keeps its input's
/// position), with union-find over dense ids.
class Groups {
public:
  int add(int position) {
    parent.push_back(parent.size());
    pos.push_back(position);
    reason.emplace_back();
    initial.push_back(position);
    return parent.size() - 1;
  }
  int find(int i) {
    while (parent[i] != i)
      i = parent[i] = parent[parent[i]];
    return i;
  }
  /// Joins two groups at the smaller position (more range, no saturation).
  void join(int a, int b) {
    a = find(a), b = find(b);
    if (a == b)
      return;
    parent[b] = a;
    pos[a] = std::min(pos[a], pos[b]);
  }
  int position(int i) { return pos[find(i)]; }
  /// Lowers the group's position to at most `p`; true when it changed.
  bool lower(int i, int p, const std::string &why) {
    i = find(i);
    if (pos[i] <= p)
      return false;
    pos[i] = p;
    reason[i] = why;
    return true;
  }
  const std::string &lastReason(int i) { return reason[find(i)]; }

  std::vector<int> parent, pos, initial;
  std::vector<std::string> reason;
};

/// A conv-like op's weight and bias positions.
struct ConvParams {
  Operation *op;
  int in, out;
  int pw, pb = 0;
  bool hasBias;
  int pw0, pb0; ///< as calibrated, for the report
  std::string pwWhy, pbWhy;
};

} // namespace

llvm::Error preprocessForQuantization(ModuleOp module) {
  PassManager pm(module->getContext());
  pm.addPass(createRemoveInferenceNoops());
  pm.addPass(createFoldConstants());
  pm.addPass(createFoldBatchNorm());
  pm.addPass(createFuseActivations());
  pm.addPass(createFoldTransposeIntoInnerProduct());
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(module)))
    return makeError("preprocessing failed (see the errors above)");
  return llvm::Error::success();
}

Expected<int64_t> equalizeForQuantization(ModuleOp module, bool replaceRelu6) {
  auto countRelu6 = [&] {
    int64_t n = 0;
    module->walk([&](Operation *op) {
      auto act = op->getAttrOfType<ActivationAttr>("act");
      n += act && act.getValue() == Activation::Relu6;
    });
    return n;
  };
  int64_t before = countRelu6();
  PassManager pm(module->getContext());
  EqualizeOptions options;
  options.replaceRelu6 = replaceRelu6;
  pm.addPass(createEqualize(options));
  if (failed(pm.run(module)))
    return makeError("equalization failed (see the errors above)");
  return before - countRelu6();
}

Expected<QuantizeSummary>
quantizeFunction(func::FuncOp func, const std::map<std::string, int> &positions,
                 const target::Target &target) {
  QuantizeSummary summary;
  TensorNames names = tensorNames(func);
  llvm::DenseMap<Value, std::string> nameOf;
  for (auto [arg, name] : llvm::zip(func.getArguments(), names.arguments))
    nameOf[arg] = name;
  for (auto &[op, name] : names.ops)
    nameOf[op->getResult(0)] = name;
  auto layerOf = [&](Operation *op) { return names.ops.at(op); };

  // 1. The ops the DPU runs; their weights must be constants.
  SmallVector<Operation *> quantized;
  llvm::DenseSet<Operation *> isQuantized;
  for (Operation &op : func.getBody().front()) {
    if (!names.ops.count(&op))
      continue;
    std::optional<std::string> reason =
        target::dpuUnsupportedReason(&op, target);
    if (!reason && isConvLike(&op))
      for (Value v : op.getOperands().drop_front())
        if (!getConstantF32(v))
          reason = "its weight or bias is not a constant";
    if (!reason &&
        !cast<ShapedType>(op.getResult(0).getType()).getElementType().isF32())
      reason = "its result is not f32";
    if (reason) {
      summary.leftFloat.emplace_back(layerOf(&op), *reason);
      continue;
    }
    quantized.push_back(&op);
    isQuantized.insert(&op);
    summary.quantized.push_back(layerOf(&op));
  }

  // 2. Activation tensors and their calibrated positions.
  Groups groups;
  llvm::MapVector<Value, int> groupOf;
  auto activation = [&](Value v, Operation *user) -> Expected<int> {
    if (auto it = groupOf.find(v); it != groupOf.end())
      return it->second;
    int p;
    if (std::optional<std::vector<float>> data = getConstantF32(v)) {
      Expected<int> cp =
          constantPosition(*data, kActivationSpec,
                           "layer '" + layerOf(user) + "': constant operand");
      if (!cp)
        return cp.takeError();
      p = std::min(*cp, kMaxPosition);
    } else {
      auto name = nameOf.find(v);
      if (name == nameOf.end())
        return makeError("layer '" + layerOf(user) +
                         "': an operand has no tensor name to quantize by");
      auto it = positions.find(name->second);
      Operation *producer = v.getDefiningOp();
      if (it == positions.end() && producer && isQuantized.count(producer) &&
          target::keepsFixPosition(producer))
        p = kMaxPosition; // takes its input's position below
      else if (it == positions.end())
        return makeError("the calibration table has no entry for tensor '" +
                         name->second + "' (used by layer '" + layerOf(user) +
                         "')");
      else
        p = it->second;
    }
    int id = groups.add(p);
    groupOf[v] = id;
    return id;
  };
  for (Operation *op : quantized) {
    for (Value v : activationOperands(op))
      if (Expected<int> id = activation(v, op); !id)
        return id.takeError();
    if (Expected<int> id = activation(op->getResult(0), op); !id)
      return id.takeError();
  }
  for (Operation *op : quantized)
    if (target::keepsFixPosition(op))
      for (Value v : op->getOperands())
        groups.join(groupOf[op->getResult(0)], groupOf[v]);

  // 3. Weight and bias positions.
  std::vector<ConvParams> convs;
  for (Operation *op : quantized) {
    if (!isConvLike(op))
      continue;
    ConvParams c{op, groupOf[op->getOperand(0)], groupOf[op->getResult(0)]};
    Expected<int> pw =
        constantPosition(*getConstantF32(op->getOperand(1)), kWeightSpec,
                         "layer '" + layerOf(op) + "': weight");
    if (!pw)
      return pw.takeError();
    c.pw = c.pw0 = *pw;
    c.hasBias = op->getNumOperands() > 2;
    c.pb = c.pb0 = 0;
    if (c.hasBias) {
      Expected<int> pb =
          constantPosition(*getConstantF32(op->getOperand(2)), kWeightSpec,
                           "layer '" + layerOf(op) + "': bias");
      if (!pb)
        return pb.takeError();
      c.pb = c.pb0 = *pb;
    }
    convs.push_back(c);
  }

  // 4. Lower positions until every shift is legal.
  const target::QuantLimits &lim = target.quant;
  bool changed = true;
  for (int round = 0; changed; ++round) {
    if (round == 1000)
      return makeError("fix positions did not settle while adjusting shifts");
    changed = false;
    for (ConvParams &c : convs) {
      int px = groups.position(c.in);
      auto [act, alpha] = fusedActivation(c.op);
      // relu6 clamps at 6 * 2^py, which must fit the output range.
      if (act == Activation::Relu6)
        changed |= groups.lower(c.out, 4, "relu6's clamp 6*2^p fits 127");
      int py = groups.position(c.out);
      if (px + c.pw - py < lim.shiftCutMin)
        changed |= groups.lower(c.out, px + c.pw - lim.shiftCutMin,
                                llvm::formatv("shift_cut of layer '{0}' >= {1}",
                                              layerOf(c.op), lim.shiftCutMin)
                                    .str());
      py = groups.position(c.out);
      if (px + c.pw - py > lim.shiftCutMax) {
        c.pw = py + lim.shiftCutMax - px;
        c.pwWhy = llvm::formatv("shift_cut <= {0}", lim.shiftCutMax);
        changed = true;
      }
      if (!c.hasBias)
        continue;
      if (px + c.pw - c.pb < lim.shiftBiasMin) {
        c.pb = px + c.pw - lim.shiftBiasMin;
        c.pbWhy = llvm::formatv("shift_bias >= {0}", lim.shiftBiasMin);
        changed = true;
      }
      if (px + c.pw - c.pb > lim.shiftBiasMax) {
        c.pw = c.pb + lim.shiftBiasMax - px;
        c.pwWhy = llvm::formatv("shift_bias <= {0}", lim.shiftBiasMax);
        changed = true;
      }
    }
    for (Operation *op : quantized) {
      int out = groupOf[op->getResult(0)];
      if (auto add = dyn_cast<AddOp>(op)) {
        int pm = std::max(groups.position(groupOf[add.getLhs()]),
                          groups.position(groupOf[add.getRhs()]));
        changed |= groups.lower(out, pm,
                                "eltwise '" + layerOf(op) +
                                    "' shifts its aligned sum right");
        if (add.getAct() == Activation::Relu6)
          changed |= groups.lower(out, 4, "relu6's clamp 6*2^p fits 127");
      } else if (isa<AvgPool2DOp, GlobalAvgPool2DOp>(op)) {
        auto k = isa<AvgPool2DOp>(op)
                     ? SmallVector<int64_t>(cast<AvgPool2DOp>(op).getKernel())
                     : SmallVector<int64_t>(
                           cast<ShapedType>(op->getOperand(0).getType())
                               .getShape()
                               .slice(1, 2));
        int shift = rt::avgPoolFactor(k[0], k[1]).shift;
        changed |= groups.lower(
            out, groups.position(groupOf[op->getOperand(0)]) + shift,
            "average pool '" + layerOf(op) + "' shifts its scaled sum right");
      }
    }
  }

  // 5. Rewrite: fix ops after activations, quantized weights and biases.
  OpBuilder builder(func.getContext());
  auto makeFix = [&](Location loc, Value v, int p, bool weight) {
    return FixOp::create(
        builder, loc, v.getType(), v, builder.getI64IntegerAttr(p),
        builder.getI64IntegerAttr(8),
        RoundModeAttr::get(builder.getContext(),
                           weight ? RoundMode::StdRound : RoundMode::DpuRound),
        builder.getBoolAttr(!weight));
  };
  for (ConvParams &c : convs) {
    builder.setInsertionPoint(c.op);
    auto onGrid = [&](unsigned idx, int p) {
      Value v = c.op->getOperand(idx);
      std::vector<float> data = *getConstantF32(v);
      for (float &x : data)
        x = static_cast<float>(quantize(x, p, kWeightSpec));
      auto type = cast<RankedTensorType>(v.getType());
      ConstantOp k = createF32Constant(builder, v.getLoc(), type.getShape(),
                                       data, idx == 1 ? "weight" : "bias");
      c.op->setOperand(idx, makeFix(v.getLoc(), k, p, /*weight=*/true));
      if (Operation *old = v.getDefiningOp(); old && old->use_empty())
        old->erase();
    };
    onGrid(1, c.pw);
    if (c.hasBias)
      onGrid(2, c.pb);
    if (c.pw != c.pw0)
      summary.adjustments.push_back(
          llvm::formatv("{0}: weight position {1} -> {2} so that {3}",
                        layerOf(c.op), c.pw0, c.pw, c.pwWhy));
    if (c.hasBias && c.pb != c.pb0 && c.pb0 != kMaxPosition)
      summary.adjustments.push_back(
          llvm::formatv("{0}: bias position {1} -> {2} so that {3}",
                        layerOf(c.op), c.pb0, c.pb, c.pbWhy));
  }
  Operation *lastArgumentFix = nullptr; // keeps argument fixes in order
  for (auto &[v, id] : groupOf) {
    if (isa<BlockArgument>(v) && lastArgumentFix)
      builder.setInsertionPointAfter(lastArgumentFix);
    else
      builder.setInsertionPointAfterValue(v);
    Location loc = v.getDefiningOp() ? v.getDefiningOp()->getLoc()
                                     : cast<BlockArgument>(v).getLoc();
    int p = groups.position(id);
    FixOp fix = makeFix(loc, v, p, /*weight=*/false);
    if (isa<BlockArgument>(v))
      lastArgumentFix = fix;
    Operation *producer = v.getDefiningOp();
    if (producer && isQuantized.count(producer))
      v.replaceAllUsesExcept(fix, fix);
    else
      v.replaceUsesWithIf(fix, [&](OpOperand &use) {
        return isQuantized.count(use.getOwner()) > 0;
      });
    if (auto name = nameOf.find(v); name != nameOf.end()) {
      summary.positions[name->second] = p;
      if (p != groups.initial[id] && positions.count(name->second))
        summary.adjustments.push_back(
            llvm::formatv("{0}: activation position {1} -> {2} so that {3}",
                          name->second, groups.initial[id], p,
                          groups.lastReason(id).empty()
                              ? "it agrees with the tensors it is copied to"
                              : groups.lastReason(id))
                .str());
    }
  }
  return summary;
}

} // namespace vai::quant
