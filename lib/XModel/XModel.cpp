//===- XModel.cpp - From a partitioned function to an xmodel plan ---------===//
//
// XIR op mapping (libxir 2.5's registered op definitions; Vitis AI's
// compiled xmodels for the conventions):
//   function input + its vai.fix      -> data-fix (XINT8, USER subgraph)
//   vai.constant + vai.fix            -> const-fix (int8 data)
//   quantized conv2d                  -> conv2d-fix
//   quantized depthwise_conv2d        -> depthwise-conv2d-fix
//   quantized inner_product           -> reshape-fix, conv2d-fix 1x1,
//                                        reshape-fix (XIR has no fixed
//                                        inner product: the DPU runs it as a
//                                        1x1 convolution)
//   quantized max/avg pool (global)   -> pool-fix MAX/AVG
//   quantized add                     -> eltwise-fix ADD
//   quantized concat                  -> concat-fix
//   quantized reshape/flatten/squeeze -> reshape-fix
//   float ops (CPU)                   -> softmax, sigmoid, tanh, relu, relu6,
//                                        reshape, flatten, concat, add, sub,
//                                        mul, div, max, min, transpose
//   fixed tensor read by a float op   -> fix2float
//   vai.fix of a float op's result    -> float2fix
// A quantized op on a CPU subgraph keeps its -fix type (its integer
// semantics, docs/quantization.md), as Vitis AI's CPU subgraphs do.
//
//===----------------------------------------------------------------------===//

#include "vai/XModel/XModel.h"

#include "Plan.h"
#include "vai/Dialect/Dpu/DpuToISA.h"
#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/XModel/ProgramInfo.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <functional>
#include <set>

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace vai::xmodel {

using namespace detail;

StringRef toolVersion() { return "vai-mlir 0.1"; }

namespace {

Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string layerOf(Location loc) {
  if (auto name = loc->findInstanceOf<NameLoc>())
    return name.getName().str();
  return "";
}

/// XIR's pad `paddings`: [low0, high0, low1, high1, ...].
std::vector<int32_t> padPairs(mlir::vai::PadOp p) {
  std::vector<int32_t> out;
  for (auto [lo, hi] : llvm::zip(p.getLow(), p.getHigh())) {
    out.push_back(static_cast<int32_t>(lo));
    out.push_back(static_cast<int32_t>(hi));
  }
  return out;
}

std::vector<int32_t> i32(ArrayRef<int64_t> v) {
  return std::vector<int32_t>(v.begin(), v.end());
}

std::vector<int64_t> shapeOf(Value v) {
  auto t = cast<ShapedType>(v.getType());
  return std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
}

const char *nonlinear(mlir::vai::Activation act) {
  switch (act) {
  case mlir::vai::Activation::None:
    return "NONE";
  case mlir::vai::Activation::Relu:
    return "RELU";
  case mlir::vai::Activation::Relu6:
    return "RELU6";
  case mlir::vai::Activation::LeakyRelu:
    return "LEAKYRELU";
  }
  return "NONE";
}

FixInfo fixInfo(mlir::vai::FixOp fix) {
  FixInfo info;
  info.fixPoint = fix.getFixPoint();
  info.bitWidth = fix.getBitWidth();
  info.isSigned = true;
  switch (fix.getRoundMode()) {
  case mlir::vai::RoundMode::DpuRound:
    info.roundMode = "DPU_ROUND";
    break;
  case mlir::vai::RoundMode::StdRound:
    info.roundMode = "STD_ROUND";
    break;
  case mlir::vai::RoundMode::Py3Round:
    info.roundMode = "PY3_ROUND";
    break;
  }
  return info;
}

/// A layer op whose operands are all vai.fix results and whose one use is a
/// vai.fix (docs/quantization.md): returns that fix.
mlir::vai::FixOp quantizedOutput(Operation *op) {
  if (op->getNumResults() != 1 || !op->getResult(0).hasOneUse())
    return {};
  auto fix = dyn_cast<mlir::vai::FixOp>(*op->getResult(0).getUsers().begin());
  if (!fix)
    return {};
  for (Value v : op->getOperands())
    if (!v.getDefiningOp<mlir::vai::FixOp>())
      return {};
  return fix;
}

class PlanBuilder {
public:
  PlanBuilder(ModuleOp module, func::FuncOp func, const target::Target &target)
      : module(module), func(func), target(target) {}

  Expected<Plan> build();

private:
  Error fail(const std::string &layer, const llvm::Twine &what) {
    return makeError((layer.empty() ? std::string("function '") +
                                          func.getSymName().str() + "'"
                                    : "layer '" + layer + "'") +
                     ": " + what);
  }
  std::string uniqueName(std::string base) {
    if (base.empty())
      base = "op";
    std::string name = base;
    for (int i = 1; usedNames.count(name); ++i)
      name = base + "_" + std::to_string(i);
    usedNames.insert(name);
    return name;
  }
  int add(PlanOp op) {
    plan.ops.push_back(std::move(op));
    return static_cast<int>(plan.ops.size()) - 1;
  }

  Error readPrograms();
  Expected<int> subgraphOf(Operation *op, const std::string &layer);
  Expected<int> input(BlockArgument arg);
  Expected<int> constant(mlir::vai::ConstantOp cst, mlir::vai::FixOp fix,
                         int subgraph);
  Expected<int> operand(Value v, bool wantFixed, int subgraph,
                        const std::string &layer);
  Error layer(Operation *op);
  Error quantizedLayer(Operation *op, mlir::vai::FixOp fix,
                       const std::string &name, int subgraph);
  Error floatLayer(Operation *op, const std::string &name, int subgraph);
  Error addPrograms();

  ModuleOp module;
  func::FuncOp func;
  const target::Target &target;
  Plan plan;
  std::set<std::string> usedNames;
  /// XIR op holding each MLIR value's tensor.
  llvm::DenseMap<Value, int> tensorOf;
  /// fix2float conversions, per (fixed op, subgraph).
  std::map<std::pair<int, int>, int> toFloat;
  /// Partition subgraph id -> plan subgraph index, and the programs.
  std::map<int64_t, int> subgraphIndex;
  std::map<int64_t, std::pair<ProgramInfo, dpu::ProgramOp>> programs;
  std::map<int, std::map<std::string, std::string>> cpuReasons;
  /// The XIR op holding each layer's output (io lookup), by layer name.
  std::map<std::string, int> layerOutput;
  /// The fixed tensor of a layer name (a quantized layer's output, or the
  /// float2fix quantizing a float layer's): what DPU io entries name, also
  /// when a float op shares the layer's name (Keras Dense + softmax).
  std::map<std::string, int> fixedOutput;
};

Error PlanBuilder::readPrograms() {
  for (auto program : module.getOps<dpu::ProgramOp>()) {
    auto info = readProgramInfo(program);
    if (!info)
      return info.takeError();
    if (info->target != target.name)
      return makeError(llvm::formatv(
          "dpu.program @{0}: compiled for target '{1}', not '{2}'",
          info->symbol, info->target, target.name));
    int64_t id = info->subgraph;
    if (!programs.emplace(id, std::make_pair(std::move(*info), program)).second)
      return makeError(
          llvm::formatv("two dpu.program ops for subgraph {0}", id));
  }
  return Error::success();
}

Expected<int> PlanBuilder::subgraphOf(Operation *op, const std::string &layer) {
  auto id = op->getAttrOfType<IntegerAttr>("vai.subgraph");
  auto device = op->getAttrOfType<StringAttr>("vai.device");
  if (!id || !device)
    return fail(layer, op->getName().getStringRef() +
                           " has no vai.device/vai.subgraph attribute (run "
                           "-vai-partition first)");
  StringRef dev = device.getValue();
  if (dev != "DPU" && dev != "CPU")
    return fail(layer, "vai.device is \"" + dev + "\", not DPU or CPU");
  auto it = subgraphIndex.find(id.getInt());
  if (it != subgraphIndex.end()) {
    auto &have =
        std::get<std::string>(plan.subgraphs[it->second].attrs.at("device"));
    if (have != dev)
      return fail(layer, llvm::formatv("subgraph {0} mixes DPU and CPU layers",
                                       id.getInt()));
  } else {
    if (dev == "DPU" && !programs.count(id.getInt()))
      return fail(layer, llvm::formatv("DPU subgraph {0} has no dpu.program "
                                       "(run -vai-lower-to-dpu)",
                                       id.getInt()));
    PlanSubgraph sg;
    sg.name = "subgraph_" + layer;
    sg.attrs["device"] = dev.str();
    sg.attrs["vai_subgraph"] = static_cast<int64_t>(id.getInt());
    plan.subgraphs.push_back(std::move(sg));
    it = subgraphIndex.emplace(id.getInt(), plan.subgraphs.size() - 1).first;
  }
  if (dev == "CPU") {
    auto reason = op->getAttrOfType<StringAttr>("vai.cpu_reason");
    cpuReasons[it->second][layer] =
        reason ? reason.getValue().str() : std::string("(no reason given)");
  }
  return it->second;
}

/// data-fix when every use of the input is the same vai.fix (the DPU reads
/// it quantized), else a float `data` op.
Expected<int> PlanBuilder::input(BlockArgument arg) {
  auto found = tensorOf.find(arg);
  if (found != tensorOf.end())
    return found->second;
  std::string name = layerOf(arg.getLoc());
  if (name.empty())
    name = "input_" + std::to_string(arg.getArgNumber());
  std::optional<FixInfo> fix;
  bool allFixed = !arg.use_empty();
  for (Operation *user : arg.getUsers()) {
    auto f = dyn_cast<mlir::vai::FixOp>(user);
    if (!f) {
      allFixed = false;
      break;
    }
    FixInfo info = fixInfo(f);
    if (fix &&
        (fix->fixPoint != info.fixPoint || fix->bitWidth != info.bitWidth))
      allFixed = false;
    fix = info;
  }
  PlanSubgraph sg;
  sg.name = "subgraph_" + name;
  sg.attrs["device"] = std::string("USER");
  plan.subgraphs.push_back(std::move(sg));

  PlanOp op;
  op.name = uniqueName(name);
  op.layer = name;
  op.shape = shapeOf(arg);
  op.attrs["shape"] = i32(op.shape);
  op.subgraph = plan.subgraphs.size() - 1;
  if (allFixed) {
    op.type = "data-fix";
    op.attrs["data_type"] = std::string("XINT8");
    op.fix = fix;
  } else {
    op.type = "data";
    op.attrs["data_type"] = std::string("FLOAT32");
  }
  int index = add(std::move(op));
  tensorOf[arg] = index;
  layerOutput.emplace(name, index);
  if (allFixed)
    for (Operation *user : arg.getUsers())
      tensorOf[user->getResult(0)] = index;
  return index;
}

/// const-fix (with `fix`: int8 values on the fix grid) or const (float32).
Expected<int> PlanBuilder::constant(mlir::vai::ConstantOp cst,
                                    mlir::vai::FixOp fix, int subgraph) {
  std::string layer = layerOf(cst.getLoc());
  auto tensor = tensorFromAttr(cst.getValue());
  if (!tensor)
    return fail(layer, "constant: " + llvm::toString(tensor.takeError()));
  if (tensor->dtype() != rt::DType::F32)
    return fail(layer, "constant of a non-float type");
  const float *data = tensor->data<float>();
  int64_t n = tensor->numElements();
  PlanOp op;
  op.layer = layer;
  op.shape = shapeOf(cst.getResult());
  op.attrs["shape"] = i32(op.shape);
  op.subgraph = subgraph;
  std::vector<char> bytes;
  if (fix) {
    op.fix = fixInfo(fix);
    op.type = "const-fix";
    op.attrs["data_type"] = std::string("XINT8");
    double scale = std::ldexp(1.0, op.fix->fixPoint);
    int64_t lo = -(int64_t(1) << (op.fix->bitWidth - 1));
    int64_t hi = (int64_t(1) << (op.fix->bitWidth - 1)) - 1;
    bytes.reserve(n);
    for (int64_t i = 0; i < n; ++i) {
      double q = double(data[i]) * scale;
      double r = std::nearbyint(q);
      // Values off the grid or the range are quantized as vai.fix would:
      // the xmodel holds exactly what the quantized model computes with.
      if (!std::isfinite(q))
        return fail(layer, "constant holds NaN or Inf");
      if (r != q)
        r = fix.getRoundMode() == mlir::vai::RoundMode::DpuRound
                ? std::floor(q + 0.5)
                : std::round(q);
      r = std::min<double>(std::max<double>(r, lo), hi);
      bytes.push_back(static_cast<char>(static_cast<int8_t>(r)));
    }
    op.name = uniqueName(layer.empty() ? "const" : layer);
  } else {
    op.type = "const";
    op.attrs["data_type"] = std::string("FLOAT32");
    bytes.resize(n * sizeof(float));
    std::memcpy(bytes.data(), data, bytes.size());
    op.name = uniqueName(layer.empty() ? "const" : layer);
  }
  op.attrs["data"] = std::move(bytes);
  return add(std::move(op));
}

/// The XIR op giving `v` to a layer in `subgraph`: fixed (wantFixed) or
/// float, inserting constants and fix2float conversions as needed.
Expected<int> PlanBuilder::operand(Value v, bool wantFixed, int subgraph,
                                   const std::string &layer) {
  if (auto fix = v.getDefiningOp<mlir::vai::FixOp>()) {
    if (auto cst = fix.getInput().getDefiningOp<mlir::vai::ConstantOp>()) {
      auto it = tensorOf.find(v);
      if (it == tensorOf.end()) {
        auto index = constant(cst, fix, subgraph);
        if (!index)
          return index.takeError();
        it = tensorOf.try_emplace(v, *index).first;
      }
      v = fix.getResult();
    }
  } else if (auto cst = v.getDefiningOp<mlir::vai::ConstantOp>()) {
    if (!tensorOf.count(v)) {
      auto index = constant(cst, {}, subgraph);
      if (!index)
        return index.takeError();
      tensorOf[v] = *index;
    }
  } else if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (auto index = input(arg); !index)
      return index.takeError();
  }
  if (auto arg = dyn_cast<BlockArgument>(v); arg && !tensorOf.count(v))
    if (auto index = input(arg); !index)
      return index.takeError();
  if (auto fix = v.getDefiningOp<mlir::vai::FixOp>();
      fix && !tensorOf.count(v) && llvm::isa<BlockArgument>(fix.getInput()))
    if (auto index = input(cast<BlockArgument>(fix.getInput())); !index)
      return index.takeError();
  auto it = tensorOf.find(v);
  if (it == tensorOf.end())
    return fail(layer, "an operand is produced by an op the xmodel does not "
                       "hold");
  int index = it->second;
  if (plan.ops[index].fix.has_value() == wantFixed)
    return index;
  if (wantFixed)
    return fail(layer, "reads the float tensor of '" + plan.ops[index].name +
                           "' without a vai.fix");
  auto key = std::make_pair(index, subgraph);
  auto conv = toFloat.find(key);
  if (conv != toFloat.end())
    return conv->second;
  const PlanOp &src = plan.ops[index];
  PlanOp op;
  op.name = uniqueName(src.name + "_fix2float");
  op.type = "fix2float";
  op.layer = src.layer;
  op.attrs["fix_point"] = static_cast<int32_t>(src.fix->fixPoint);
  op.attrs["bit_width"] = static_cast<int32_t>(src.fix->bitWidth);
  op.attrs["round_mode"] = src.fix->roundMode;
  op.attrs["if_signed"] = src.fix->isSigned;
  op.inputs = {{"input", {index}}};
  op.shape = src.shape;
  op.subgraph = subgraph;
  int c = add(std::move(op));
  toFloat[key] = c;
  return c;
}

Error PlanBuilder::quantizedLayer(Operation *op, mlir::vai::FixOp fix,
                                  const std::string &name, int subgraph) {
  PlanOp x;
  x.layer = name;
  x.fix = fixInfo(fix);
  x.subgraph = subgraph;
  x.shape = shapeOf(op->getResult(0));
  auto in = [&](Value v) -> Expected<int> {
    return operand(v, /*wantFixed=*/true, subgraph, name);
  };
  auto convInputs = [&](Value input, Value weight, Value bias) -> Error {
    auto i = in(input);
    if (!i)
      return i.takeError();
    auto w = in(weight);
    if (!w)
      return w.takeError();
    x.inputs = {{"input", {*i}}, {"weights", {*w}}};
    if (bias) {
      auto b = in(bias);
      if (!b)
        return b.takeError();
      x.inputs.push_back({"bias", {*b}});
    }
    return Error::success();
  };
  auto convGeometry = [&](ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> pad, ArrayRef<int64_t> dilations,
                          mlir::vai::Activation act) {
    // XIR: kernel/stride/dilation {w, h}; pad {left, right, top, bottom}.
    x.attrs["kernel"] =
        std::vector<int32_t>{int32_t(kernel[1]), int32_t(kernel[0])};
    x.attrs["stride"] =
        std::vector<int32_t>{int32_t(strides[1]), int32_t(strides[0])};
    x.attrs["dilation"] =
        std::vector<int32_t>{int32_t(dilations[1]), int32_t(dilations[0])};
    x.attrs["pad"] = std::vector<int32_t>{int32_t(pad[2]), int32_t(pad[3]),
                                          int32_t(pad[0]), int32_t(pad[1])};
    x.attrs["nonlinear"] = std::string(nonlinear(act));
  };
  auto single = [&](Value v) -> Error {
    auto i = in(v);
    if (!i)
      return i.takeError();
    x.inputs = {{"input", {*i}}};
    return Error::success();
  };
  auto many = [&](OperandRange vs) -> Error {
    std::vector<int> ids;
    for (Value v : vs) {
      auto i = in(v);
      if (!i)
        return i.takeError();
      ids.push_back(*i);
    }
    x.inputs = {{"input", ids}};
    return Error::success();
  };

  Error err =
      llvm::TypeSwitch<Operation *, Error>(op)
          .Case([&](mlir::vai::Conv2DOp c) -> Error {
            if (c.getGroups() != 1)
              return fail(name,
                          "grouped convolution has no XIR fixed-point op");
            if (Error e = convInputs(c.getInput(), c.getWeight(), c.getBias()))
              return e;
            auto w = shapeOf(c.getWeight());
            x.type = "conv2d-fix";
            convGeometry({w[1], w[2]}, c.getStrides(), c.getPad(),
                         c.getDilations(), c.getAct());
            return Error::success();
          })
          .Case([&](mlir::vai::DepthwiseConv2DOp c) -> Error {
            if (Error e = convInputs(c.getInput(), c.getWeight(), c.getBias()))
              return e;
            auto w = shapeOf(c.getWeight());
            x.type = "depthwise-conv2d-fix";
            convGeometry({w[1], w[2]}, c.getStrides(), c.getPad(),
                         c.getDilations(), c.getAct());
            return Error::success();
          })
          .Case([&](mlir::vai::InnerProductOp c) -> Error {
            // reshape-fix [B, I] -> [B, 1, 1, I], conv2d-fix 1x1 with weights
            // [O, 1, 1, I], reshape-fix back to [B, O].
            if (Error e = convInputs(c.getInput(), c.getWeight(), c.getBias()))
              return e;
            auto inShape = shapeOf(c.getInput());
            auto wShape = shapeOf(c.getWeight());
            int weights = x.inputs[1].second[0];
            PlanOp &w = plan.ops[weights];
            if (w.type != "const-fix" || w.shape.size() != 2)
              return fail(name, "inner product weights are not a constant");
            w.shape = {wShape[0], 1, 1, wShape[1]};
            w.attrs["shape"] = i32(w.shape);
            PlanOp r;
            r.name = uniqueName(name + "_input_reshape");
            r.type = "reshape-fix";
            r.layer = name;
            r.fix = plan.ops[x.inputs[0].second[0]].fix;
            r.shape = {inShape[0], 1, 1, inShape[1]};
            r.attrs["shape"] = i32(r.shape);
            r.inputs = {{"input", {x.inputs[0].second[0]}}};
            r.subgraph = subgraph;
            x.inputs[0].second[0] = add(std::move(r));
            x.type = "conv2d-fix";
            x.shape = {inShape[0], 1, 1, wShape[0]};
            convGeometry({1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, c.getAct());
            return Error::success();
          })
          .Case([&](mlir::vai::MaxPool2DOp p) -> Error {
            x.type = "pool-fix";
            x.attrs["type"] = std::string("MAX");
            return single(p.getInput());
          })
          .Case([&](mlir::vai::AvgPool2DOp p) -> Error {
            x.type = "pool-fix";
            x.attrs["type"] = std::string("AVG");
            return single(p.getInput());
          })
          .Case([&](mlir::vai::GlobalMaxPool2DOp p) -> Error {
            x.type = "pool-fix";
            x.attrs["type"] = std::string("MAX");
            return single(p.getInput());
          })
          .Case([&](mlir::vai::GlobalAvgPool2DOp p) -> Error {
            x.type = "pool-fix";
            x.attrs["type"] = std::string("AVG");
            return single(p.getInput());
          })
          .Case([&](mlir::vai::AddOp a) -> Error {
            if (shapeOf(a.getLhs()) != shapeOf(a.getRhs()))
              return fail(name, "broadcasting add has no XIR fixed-point op");
            x.type = "eltwise-fix";
            x.attrs["type"] = std::string("ADD");
            x.attrs["nonlinear"] = std::string(nonlinear(a.getAct()));
            return many(a->getOperands());
          })
          .Case([&](mlir::vai::ConcatOp c) -> Error {
            x.type = "concat-fix";
            x.attrs["axis"] = static_cast<int32_t>(c.getAxis());
            return many(c.getInputs());
          })
          .Case([&](mlir::vai::PadOp p) -> Error {
            if (p.getMode() != mlir::vai::PadMode::Constant ||
                !p.getValue().isZero())
              return fail(name, "quantized pad other than with zeros");
            x.type = "pad-fix";
            x.attrs["paddings"] = padPairs(p);
            x.attrs["mode"] = std::string("CONSTANT"); // zeros by default
            return single(p.getInput());
          })
          .Case<mlir::vai::ReshapeOp, mlir::vai::FlattenOp,
                mlir::vai::SqueezeOp>([&](Operation *r) -> Error {
            x.type = "reshape-fix";
            x.attrs["shape"] = i32(x.shape);
            return single(r->getOperand(0));
          })
          .Default([&](Operation *o) -> Error {
            return fail(name,
                        "quantized " + o->getName().getStringRef() +
                            " has no XIR fixed-point op in vai-compile yet");
          });
  if (err)
    return err;
  // Pool geometry (XIR: {w, h} and {left, right, top, bottom}).
  if (x.type == "pool-fix") {
    auto inShape = shapeOf(op->getOperand(0));
    if (auto p = dyn_cast<mlir::vai::MaxPool2DOp>(op)) {
      x.attrs["kernel"] = std::vector<int32_t>{int32_t(p.getKernel()[1]),
                                               int32_t(p.getKernel()[0])};
      x.attrs["stride"] = std::vector<int32_t>{int32_t(p.getStrides()[1]),
                                               int32_t(p.getStrides()[0])};
      auto pad = p.getPad();
      x.attrs["pad"] = std::vector<int32_t>{int32_t(pad[2]), int32_t(pad[3]),
                                            int32_t(pad[0]), int32_t(pad[1])};
    } else if (auto p = dyn_cast<mlir::vai::AvgPool2DOp>(op)) {
      x.attrs["kernel"] = std::vector<int32_t>{int32_t(p.getKernel()[1]),
                                               int32_t(p.getKernel()[0])};
      x.attrs["stride"] = std::vector<int32_t>{int32_t(p.getStrides()[1]),
                                               int32_t(p.getStrides()[0])};
      auto pad = p.getPad();
      x.attrs["pad"] = std::vector<int32_t>{int32_t(pad[2]), int32_t(pad[3]),
                                            int32_t(pad[0]), int32_t(pad[1])};
    } else {
      x.attrs["kernel"] =
          std::vector<int32_t>{int32_t(inShape[2]), int32_t(inShape[1])};
      x.attrs["stride"] =
          std::vector<int32_t>{int32_t(inShape[2]), int32_t(inShape[1])};
      x.attrs["pad"] = std::vector<int32_t>{0, 0, 0, 0};
    }
  }
  bool innerProduct = llvm::isa<mlir::vai::InnerProductOp>(op);
  x.name = uniqueName(name);
  int index = add(std::move(x));
  if (innerProduct) {
    PlanOp r;
    r.name = uniqueName(name + "_output_reshape");
    r.type = "reshape-fix";
    r.layer = name;
    r.fix = plan.ops[index].fix;
    r.shape = shapeOf(op->getResult(0));
    r.attrs["shape"] = i32(r.shape);
    r.inputs = {{"input", {index}}};
    r.subgraph = subgraph;
    index = add(std::move(r));
  }
  tensorOf[op->getResult(0)] = index;
  tensorOf[fix.getResult()] = index;
  layerOutput[name] = index;
  fixedOutput.try_emplace(name, index);
  return Error::success();
}

Error PlanBuilder::floatLayer(Operation *op, const std::string &name,
                              int subgraph) {
  PlanOp x;
  x.name = uniqueName(name);
  x.layer = name;
  x.subgraph = subgraph;
  if (op->getNumResults() != 1)
    return fail(name, "ops with several results have no XIR op");
  x.shape = shapeOf(op->getResult(0));
  std::optional<std::string> type =
      llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
          .Case([&](mlir::vai::SoftmaxOp s) {
            x.attrs["axis"] = static_cast<int32_t>(s.getAxis());
            return "softmax";
          })
          .Case([](mlir::vai::SigmoidOp) { return "sigmoid"; })
          .Case([](mlir::vai::TanhOp) { return "tanh"; })
          .Case([](mlir::vai::ReluOp) { return "relu"; })
          .Case([](mlir::vai::Relu6Op) { return "relu6"; })
          .Case([&](mlir::vai::ReshapeOp) {
            x.attrs["shape"] = i32(x.shape);
            return "reshape";
          })
          .Case([&](mlir::vai::SqueezeOp) {
            x.attrs["shape"] = i32(x.shape);
            return "reshape";
          })
          .Case([&](mlir::vai::FlattenOp f) {
            int64_t rank = shapeOf(f.getInput()).size();
            if (f.getAxis() == 0 || static_cast<int64_t>(f.getAxis()) >= rank)
              return std::optional<std::string>();
            x.attrs["start_axis"] = static_cast<int32_t>(f.getAxis());
            x.attrs["end_axis"] = static_cast<int32_t>(rank - 1);
            return std::optional<std::string>("flatten");
          })
          .Case([&](mlir::vai::ConcatOp c) {
            x.attrs["axis"] = static_cast<int32_t>(c.getAxis());
            return "concat";
          })
          .Case([&](mlir::vai::TransposeOp t) {
            x.attrs["order"] = i32(t.getPerm());
            return "transpose";
          })
          .Case([&](mlir::vai::AddOp a) {
            return a.getAct() == mlir::vai::Activation::None
                       ? std::optional<std::string>("add")
                       : std::nullopt;
          })
          .Case([&](mlir::vai::SliceOp sl) {
            std::vector<int64_t> begin(sl.getOffsets()), end, strides;
            for (auto [i, b] : llvm::enumerate(begin)) {
              int64_t st = sl.getStrides() ? (*sl.getStrides())[i] : 1;
              strides.push_back(st);
              end.push_back(b + (sl.getSizes()[i] - 1) * st + 1);
            }
            x.attrs["begin"] = i32(begin);
            x.attrs["end"] = i32(end);
            x.attrs["strides"] = i32(strides);
            return "strided_slice";
          })
          .Case([&](mlir::vai::PadOp p) {
            if (p.getMode() != mlir::vai::PadMode::Constant)
              return std::optional<std::string>();
            x.attrs["paddings"] = padPairs(p);
            x.attrs["mode"] = std::string("CONSTANT");
            x.attrs["constant_values"] = std::vector<float>(
                2 * p.getLow().size(), p.getValue().convertToFloat());
            return std::optional<std::string>("pad");
          })
          .Case([](mlir::vai::SubOp) { return "sub"; })
          .Case([](mlir::vai::MulOp) { return "mul"; })
          .Case([](mlir::vai::DivOp) { return "div"; })
          .Case([](mlir::vai::MaxOp) { return "max"; })
          .Case([](mlir::vai::MinOp) { return "min"; })
          .Default([](Operation *) { return std::nullopt; });
  if (!type)
    return fail(name, "float " + op->getName().getStringRef() +
                          " has no XIR op in vai-compile yet");
  x.type = *type;
  std::vector<int> ids;
  for (Value v : op->getOperands()) {
    auto i = operand(v, /*wantFixed=*/false, subgraph, name);
    if (!i)
      return i.takeError();
    ids.push_back(*i);
  }
  x.inputs = {{"input", ids}};
  int index = add(std::move(x));
  tensorOf[op->getResult(0)] = index;
  layerOutput[name] = index;
  return Error::success();
}

Error PlanBuilder::layer(Operation *op) {
  std::string name = layerOf(op->getLoc());
  if (name.empty())
    return makeError("an " + op->getName().getStringRef() +
                     " op has no layer name (location)");
  if (auto fix = dyn_cast<mlir::vai::FixOp>(op)) {
    Value in = fix.getInput();
    if (tensorOf.count(fix.getResult()) ||
        in.getDefiningOp<mlir::vai::ConstantOp>())
      return Error::success(); // fused into its producer or a const-fix
    if (auto arg = dyn_cast<BlockArgument>(in)) {
      auto index = input(arg);
      if (!index)
        return index.takeError();
      if (tensorOf.count(fix.getResult()))
        return Error::success();
    }
    // A float producer's result, quantized: float2fix in the producer's
    // subgraph.
    auto src = tensorOf.find(in);
    if (src == tensorOf.end())
      return fail(name, "vai.fix of a value the xmodel does not hold");
    PlanOp x;
    x.name = uniqueName(name + "_float2fix");
    x.type = "float2fix";
    x.layer = name;
    x.fix = fixInfo(fix);
    x.attrs["fix_point"] = static_cast<int32_t>(x.fix->fixPoint);
    x.attrs["bit_width"] = static_cast<int32_t>(x.fix->bitWidth);
    x.attrs["round_mode"] = x.fix->roundMode;
    x.attrs["if_signed"] = x.fix->isSigned;
    x.inputs = {{"input", {src->second}}};
    x.shape = shapeOf(in);
    x.subgraph = plan.ops[src->second].subgraph;
    int index = add(std::move(x));
    tensorOf[fix.getResult()] = index;
    fixedOutput.try_emplace(name, index);
    return Error::success();
  }
  auto subgraph = subgraphOf(op, name);
  if (!subgraph)
    return subgraph.takeError();
  if (mlir::vai::FixOp fix = quantizedOutput(op))
    return quantizedLayer(op, fix, name, *subgraph);
  return floatLayer(op, name, *subgraph);
}

Error PlanBuilder::addPrograms() {
  for (auto &[id, entry] : programs) {
    auto &[info, program] = entry;
    auto it = subgraphIndex.find(id);
    if (it == subgraphIndex.end())
      return makeError(llvm::formatv(
          "dpu.program @{0}: no layer of the function is in subgraph {1}",
          info.symbol, id));
    PlanSubgraph &sg = plan.subgraphs[it->second];
    if (std::get<std::string>(sg.attrs["device"]) != "DPU")
      return makeError(llvm::formatv(
          "dpu.program @{0}: subgraph {1} is a CPU subgraph", info.symbol, id));
    FailureOr<std::vector<uint8_t>> code = dpu::encodeProgram(program);
    if (failed(code))
      return makeError("dpu.program @" + info.symbol +
                       ": cannot encode its instructions");
    auto &a = sg.attrs;
    a["dpu_name"] = target.name;
    a["dpu_fingerprint"] = static_cast<uint64_t>(target.fingerprint);
    a["mc_code"] = std::vector<char>(code->begin(), code->end());
    a["vai_mlir_version"] = toolVersion().str();
    a["runner"] = std::map<std::string, std::string>{
        {"ref", "libvart-vai-sim-runner.so"},
        {"run", "libvart-vai-sim-runner.so"},
        {"xrt", "libvart-vai-xrt-runner.so"}};
    a["workload"] = static_cast<uint64_t>(2 * info.macs);
    a["vai_macs"] = static_cast<int64_t>(info.macs);
    a["vai_cycles"] = static_cast<int64_t>(info.cycles);
    a["vai_batch"] = static_cast<int32_t>(target.batch);

    std::map<std::string, std::string> context, segment;
    std::map<std::string, int32_t> sizes;
    std::vector<int> regIn(info.regSizes.size()), regOut(regIn.size());
    std::map<std::string, std::vector<int32_t>> inPlace, outPlace;
    for (const ProgramIO &io : info.io) {
      (io.isInput ? regIn : regOut)[io.reg]++;
      auto op = layerOutput.find(io.name);
      if (op == layerOutput.end())
        return makeError(llvm::formatv("dpu.program @{0}: io '{1}' names no "
                                       "layer of the function",
                                       info.symbol, io.name));
      int index = op->second;
      if (auto f = fixedOutput.find(io.name); f != fixedOutput.end())
        index = f->second;
      PlanOp &x = plan.ops[index];
      if (!x.fix || x.fix->fixPoint != io.fixPoint)
        return makeError(llvm::formatv(
            "dpu.program @{0}: io '{1}': fix_point {2}, but the tensor {3}",
            info.symbol, io.name, io.fixPoint,
            x.fix ? "has fix_point " + std::to_string(x.fix->fixPoint)
                  : std::string("is float")));
      int64_t lane = 1, elems = 1;
      for (int64_t d : io.shape)
        lane *= d;
      for (size_t d = 1; d < x.shape.size(); ++d)
        elems *= x.shape[d];
      if (lane != elems)
        return makeError(llvm::formatv(
            "dpu.program @{0}: io '{1}' holds {2} bytes per lane, the tensor "
            "{3}",
            info.symbol, io.name, lane, elems));
      std::vector<int32_t> place = {int32_t(io.reg), int32_t(io.offset)};
      (io.isInput ? inPlace : outPlace)[x.name] = place;
      if (!io.isInput) {
        x.tensorAttrs["reg_id"] = static_cast<int32_t>(io.reg);
        x.tensorAttrs["ddr_addr"] = static_cast<int32_t>(io.offset);
        x.tensorAttrs["location"] = static_cast<int32_t>(1); // DDR
      }
    }
    for (size_t r = 0; r < info.regSizes.size(); ++r) {
      std::string reg = "REG_" + std::to_string(r);
      sizes[reg] = static_cast<int32_t>(info.regSizes[r]);
      segment[reg] = r == 0 ? "W0" : "D" + std::to_string(r - 1);
      context[reg] = r == 0                   ? "CONST"
                     : r == 1                 ? "WORKSPACE"
                     : regIn[r] && !regOut[r] ? "DATA_LOCAL_INPUT"
                     : regOut[r] && !regIn[r] ? "DATA_LOCAL_OUTPUT"
                                              : "DATA_LOCAL";
    }
    a["reg_id_to_context_type"] = context;
    a["reg_id_to_context_type_v2"] = context;
    a["reg_id_to_hw_segment"] = segment;
    a["reg_id_to_size"] = sizes;
    a["reg_id_to_parameter_value"] =
        std::map<std::string, std::vector<char>>{{"REG_0", info.params}};
    a["vai_input_placement"] = inPlace;
    a["vai_output_placement"] = outPlace;
  }
  for (auto &[index, reasons] : cpuReasons)
    plan.subgraphs[index].attrs["vai_cpu_reasons"] = reasons;
  return Error::success();
}

Expected<Plan> PlanBuilder::build() {
  plan.name = func.getSymName().str();
  plan.attrs["vai_mlir_version"] = toolVersion().str();
  plan.attrs["origin"] = std::string("vai-mlir");
  if (Error e = readPrograms())
    return std::move(e);
  for (BlockArgument arg : func.getArguments())
    if (auto index = input(arg); !index)
      return index.takeError();
  for (Operation &op : func.getBody().front()) {
    if (llvm::isa<func::ReturnOp, mlir::vai::ConstantOp>(op))
      continue;
    if (op.getDialect() != func->getContext()->getLoadedDialect("vai"))
      return fail(layerOf(op.getLoc()),
                  "unexpected op " + op.getName().getStringRef());
    if (Error e = layer(&op))
      return std::move(e);
  }
  if (Error e = addPrograms())
    return std::move(e);
  return std::move(plan);
}

} // namespace

/// libxir aborts on subgraphs that depend on each other: refuse them first.
static Error checkAcyclic(const Plan &plan) {
  size_t n = plan.subgraphs.size();
  std::vector<std::set<int>> next(n);
  for (const PlanOp &op : plan.ops)
    for (const auto &input : op.inputs)
      for (int i : input.second) {
        int from = plan.ops[i].subgraph, to = op.subgraph;
        if (from >= 0 && to >= 0 && from != to)
          next[from].insert(to);
      }
  std::vector<int> state(n, 0); // 0 new, 1 on the stack, 2 done
  std::function<int(int)> visit = [&](int s) -> int {
    state[s] = 1;
    for (int t : next[s]) {
      if (state[t] == 1)
        return t;
      if (state[t] == 0)
        if (int c = visit(t); c >= 0)
          return c;
    }
    state[s] = 2;
    return -1;
  };
  for (size_t s = 0; s < n; ++s)
    if (state[s] == 0)
      if (int c = visit(s); c >= 0)
        return makeError("subgraph '" + plan.subgraphs[c].name +
                         "' depends on itself through other subgraphs "
                         "(partition the model with -vai-partition)");
  return Error::success();
}

Expected<std::string> emitXModel(ModuleOp module, func::FuncOp func,
                                 const target::Target &target) {
  if (func.getBody().empty())
    return makeError("function '" + func.getSymName().str() + "' has no body");
  bool quantized = false;
  func.walk([&](mlir::vai::FixOp) { quantized = true; });
  if (!quantized)
    return makeError("function '" + func.getSymName().str() +
                     "' is not quantized (no vai.fix): run vai-quantize first");
  PlanBuilder builder(module, func, target);
  auto plan = builder.build();
  if (!plan)
    return plan.takeError();
  if (Error e = checkAcyclic(*plan))
    return std::move(e);
  return writeXir(*plan);
}

} // namespace vai::xmodel
