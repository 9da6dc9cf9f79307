//===- XRun.cpp - Run a compiled .xmodel on the simulator -----------------===//
//
// Loading turns the xmodel into plain data (Node per XIR op, DpuStep per DPU
// subgraph) after checking every attribute the run reads: libxir aborts on a
// missing attribute or a bad file, so the protobuf is parsed first and each
// attribute is read through has_attr and a checked any_cast. Running then
// never touches libxir.
//
//===----------------------------------------------------------------------===//

#include "vai/XRun/XRun.h"

#include "vai/Dialect/Dpu/DpuTarget.h"
#include "vai/Runtime/Kernels.h"
#include "vai/Runtime/QuantKernels.h"
#include "vai/Sim/TargetDesc.h"
#include "vai/Target/Target.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <xir/graph/graph.hpp>
#include <xir/graph/subgraph.hpp>
#include <xir/op/op.hpp>
#include <xir/tensor/tensor.hpp>

#include <any>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

using llvm::Error;
using llvm::Expected;

namespace vai::xrun {
namespace {

Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// An attribute of a libxir object (op, tensor, subgraph) of type T, or
/// nullopt when it is missing or of another type.
template <typename T, typename Obj>
std::optional<T> attr(const Obj *obj, const std::string &key) {
  if (!obj->has_attr(key))
    return std::nullopt;
  std::any a = obj->get_attr(key);
  if (const T *v = std::any_cast<T>(&a))
    return *v;
  return std::nullopt;
}

/// The integer range of a fixed tensor: symmetric for DPU_ROUND
/// (activations, docs/quantization.md), else the full two's complement one.
std::pair<int64_t, int64_t> fixRange(int bitWidth, const std::string &round) {
  int64_t hi = (int64_t(1) << (bitWidth - 1)) - 1;
  return {round == "DPU_ROUND" ? -hi : -hi - 1, hi};
}

rt::RoundMode roundMode(const std::string &round) {
  return round == "STD_ROUND"   ? rt::RoundMode::Std
         : round == "PY3_ROUND" ? rt::RoundMode::Py3
                                : rt::RoundMode::Dpu;
}

/// A tensor flowing between ops: float32, or int8 with a fix position.
struct Value {
  rt::Tensor t;
  std::optional<int> fix;
};

/// Float to integers at `fixPoint` (exact: rt::fixQuantize computes the
/// rounded, clamped grid value, which scales back to its integer exactly).
rt::Tensor quantize(const rt::Tensor &in, int fixPoint, int64_t lo, int64_t hi,
                    rt::RoundMode mode) {
  int64_t n = in.numElements();
  std::vector<float> q(n);
  rt::fixQuantize(in.data<float>(), q.data(), n, fixPoint, lo, hi, mode);
  rt::Tensor out(rt::DType::I8, in.shape());
  int8_t *o = out.data<int8_t>();
  for (int64_t i = 0; i < n; ++i)
    o[i] = static_cast<int8_t>(std::ldexp(double(q[i]), fixPoint));
  return out;
}

rt::Tensor dequantize(const rt::Tensor &in, int fixPoint) {
  rt::Tensor out(rt::DType::F32, in.shape());
  const int8_t *q = in.data<int8_t>();
  float *o = out.data<float>();
  for (int64_t i = 0, n = in.numElements(); i < n; ++i)
    o[i] = std::ldexp(float(q[i]), -fixPoint);
  return out;
}

/// One XIR op, as the run needs it.
struct Node {
  std::string name, type;
  std::vector<int> inputs; ///< node indices ("input" argument, in order)
  rt::Shape shape;
  std::optional<int> fix; ///< output fix position when the output is fixed
  std::string round = "DPU_ROUND";
  int bitWidth = 8;
  std::vector<int64_t> a, b, c; ///< order / begin,end,strides / paddings
  int64_t axis = 0;
  float padValue = 0;
  rt::Tensor constant; ///< const / const-fix data
  bool onDpu = false;  ///< computed by a DPU subgraph
};

struct DpuIO {
  int node;
  int64_t reg, offset, bytes;
};

struct DpuStep {
  std::string name;
  std::vector<uint8_t> code;
  std::vector<char> params;
  std::vector<int64_t> regSizes; ///< index = reg id (0 unused here)
  std::vector<DpuIO> ins, outs;
};

struct Step {
  bool dpu;
  int index; ///< node index (CPU op) or DpuStep index
};

} // namespace

struct Model::Impl {
  std::string path;
  std::vector<Node> nodes;
  std::vector<DpuStep> dpus;
  std::vector<Step> steps;
  std::vector<int> inputNodes, outputNodes;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  sim::MachineDesc desc;
  std::shared_ptr<sim::ConvCache> cache = std::make_shared<sim::ConvCache>();
  int64_t cpuSubgraphs = 0;

  Error fail(const llvm::Twine &msg) const {
    return makeError(path + ": " + msg);
  }
  Error load(const std::string &bytes);
  Expected<Node> readOp(const xir::Op *op,
                        const std::map<const xir::Op *, int> &index);
  Expected<DpuStep> readDpu(const xir::Subgraph *sg, const xir::Graph &graph,
                            const std::map<const xir::Op *, int> &index);
  Error runCpu(const Node &n, std::vector<Value> &values) const;
  /// One worker's simulator state for a DPU subgraph, kept across its
  /// batches: the machine and each lane's DDR registers.
  struct DpuState {
    std::unique_ptr<sim::Machine> machine;
    std::vector<std::vector<std::vector<int8_t>>> ddr; ///< [lane][reg]
  };
  Error runBatch(std::vector<std::vector<Value>> &lanes,
                 std::vector<DpuState> &states, sim::RunStats *stats) const;
};

/// Checks and converts one op's attributes.
Expected<Node>
Model::Impl::readOp(const xir::Op *op,
                    const std::map<const xir::Op *, int> &index) {
  Node n;
  n.name = op->get_name();
  n.type = op->get_type();
  auto where = [&](const llvm::Twine &what) {
    return fail("op '" + n.name + "' (" + n.type + "): " + what);
  };
  const xir::Tensor *out = op->get_output_tensor();
  if (!out)
    return where("no output tensor");
  for (int32_t d : out->get_shape())
    n.shape.push_back(d);
  if (out->has_attr("fix_point")) {
    auto fp = attr<int>(out, "fix_point");
    if (!fp)
      return where("the output tensor's fix_point is not an int");
    n.fix = *fp;
    if (auto bw = attr<int>(out, "bit_width"))
      n.bitWidth = *bw;
    if (auto rm = attr<std::string>(out, "round_mode"))
      n.round = *rm;
    if (n.bitWidth != 8)
      return where(
          llvm::formatv("bit width {0}: only 8-bit tensors run", n.bitWidth));
  }
  for (const xir::Op *in : op->get_input_ops("input")) {
    auto it = index.find(in);
    if (it == index.end())
      return where("reads an op outside the graph");
    n.inputs.push_back(it->second);
  }
  auto ints = [&](const char *key,
                  std::vector<int64_t> &into) -> std::optional<Error> {
    auto v = attr<std::vector<int32_t>>(op, key);
    if (!v)
      return where(std::string("missing int32 vector attribute '") + key + "'");
    into.assign(v->begin(), v->end());
    return std::nullopt;
  };
  const std::string &t = n.type;
  auto needInputs = [&](size_t k) -> std::optional<Error> {
    if (n.inputs.size() != k)
      return where(
          llvm::formatv("{0} input(s), expected {1}", n.inputs.size(), k));
    return std::nullopt;
  };
  if (t == "data" || t == "data-fix") {
    if (n.shape.empty() || n.shape[0] != 1)
      return where("inputs must have batch 1 (compile with --input-shape "
                   "NAME:1,...)");
    if (t == "data-fix" && !n.fix)
      return where("no fix_point on its tensor");
  } else if (t == "const" || t == "const-fix") {
    auto data = attr<std::vector<char>>(op, "data");
    if (!data)
      return where("missing attribute 'data'");
    bool fixed = t == "const-fix";
    if (fixed && !n.fix)
      return where("no fix_point on its tensor");
    n.constant = rt::Tensor(fixed ? rt::DType::I8 : rt::DType::F32, n.shape);
    if (data->size() != n.constant.byteSize())
      return where(llvm::formatv("'data' holds {0} bytes, the shape needs {1}",
                                 data->size(), n.constant.byteSize()));
    std::memcpy(n.constant.raw(), data->data(), data->size());
  } else if (t == "float2fix" || t == "fix2float") {
    if (auto e = needInputs(1))
      return std::move(*e);
    auto fp = attr<int>(op, "fix_point");
    if (!fp)
      return where("missing int attribute 'fix_point'");
    if (auto bw = attr<int>(op, "bit_width"); bw && *bw != 8)
      return where("only 8-bit conversions run");
    if (auto rm = attr<std::string>(op, "round_mode"))
      n.round = *rm;
    if (t == "float2fix")
      n.fix = *fp;
    else
      n.axis = *fp; // the input's position
  } else if (t == "transpose") {
    if (auto e = needInputs(1))
      return std::move(*e);
    if (auto e = ints("order", n.a))
      return std::move(*e);
  } else if (t == "reshape" || t == "reshape-fix" || t == "flatten" ||
             t == "relu" || t == "relu6" || t == "sigmoid" || t == "tanh") {
    if (auto e = needInputs(1))
      return std::move(*e);
  } else if (t == "softmax") {
    if (auto e = needInputs(1))
      return std::move(*e);
    auto ax = attr<int>(op, "axis");
    if (!ax)
      return where("missing int attribute 'axis'");
    n.axis = *ax < 0 ? *ax + int64_t(n.shape.size()) : *ax;
    if (n.axis < 0 || n.axis >= int64_t(n.shape.size()))
      return where("axis out of range");
  } else if (t == "strided_slice") {
    if (auto e = needInputs(1))
      return std::move(*e);
    std::vector<int64_t> end;
    if (auto e = ints("begin", n.a))
      return std::move(*e);
    if (auto e = ints("end", end))
      return std::move(*e);
    if (auto e = ints("strides", n.b))
      return std::move(*e);
    if (n.a.size() != n.shape.size() || n.b.size() != n.shape.size())
      return where("begin/strides rank differs from the output's");
    for (int64_t s : n.b)
      if (s <= 0)
        return where("non-positive stride");
  } else if (t == "pad" || t == "pad-fix") {
    if (auto e = needInputs(1))
      return std::move(*e);
    if (auto e = ints("paddings", n.c))
      return std::move(*e);
    if (n.c.size() != 2 * n.shape.size())
      return where("'paddings' needs two values per dimension");
    if (auto mode = attr<std::string>(op, "mode"); mode && *mode != "CONSTANT")
      return where("pad mode " + *mode + " is not supported (CONSTANT only)");
    if (auto cv = attr<std::vector<float>>(op, "constant_values");
        cv && !cv->empty())
      n.padValue = (*cv)[0];
    if (t == "pad-fix" && n.padValue != 0)
      return where("pad-fix with a non-zero value");
  } else if (t == "concat" || t == "concat-fix") {
    if (n.inputs.empty())
      return where("no inputs");
    auto ax = attr<int>(op, "axis");
    if (!ax)
      return where("missing int attribute 'axis'");
    n.axis = *ax < 0 ? *ax + int64_t(n.shape.size()) : *ax;
  } else if (t == "add" || t == "sub" || t == "mul" || t == "div" ||
             t == "max" || t == "min") {
    if (auto e = needInputs(2))
      return std::move(*e);
  } else {
    return where("this op type cannot run on the CPU in vai-run yet "
                 "(supported: data, data-fix, const, const-fix, float2fix, "
                 "fix2float, transpose, reshape, reshape-fix, flatten, "
                 "strided_slice, pad, pad-fix, concat, concat-fix, softmax, "
                 "sigmoid, tanh, relu, relu6, add, sub, mul, div, max, min)");
  }
  bool fixedOut = t.size() > 4 && t.compare(t.size() - 4, 4, "-fix") == 0;
  if ((fixedOut || t == "float2fix") && !n.fix)
    return where("no fix_point on its output tensor");
  if (!fixedOut && t != "float2fix")
    n.fix.reset();
  return n;
}

Expected<DpuStep>
Model::Impl::readDpu(const xir::Subgraph *sg, const xir::Graph &graph,
                     const std::map<const xir::Op *, int> &index) {
  DpuStep d;
  d.name = sg->get_name();
  auto where = [&](const llvm::Twine &what) {
    return fail("DPU subgraph '" + d.name + "': " + what);
  };
  auto dpuName = attr<std::string>(sg, "dpu_name");
  auto fingerprint = attr<uint64_t>(sg, "dpu_fingerprint");
  if (!dpuName || !fingerprint)
    return where("missing attribute 'dpu_name' or 'dpu_fingerprint'");
  Expected<target::Target> target = target::loadTarget(*dpuName);
  if (!target)
    return where("target '" + *dpuName +
                 "': " + llvm::toString(target.takeError()));
  if (target->fingerprint != *fingerprint)
    return where(llvm::formatv(
        "compiled for DPU fingerprint {0:x16}, but target '{1}' has "
        "fingerprint {2:x16}: the xmodel is for another DPU",
        *fingerprint, *dpuName, target->fingerprint));
  if (desc.bankGroups.empty())
    desc = sim::machineDesc(*target, mlir::dpu::timingParams(*target));
  else if (desc.lanes != target->batch)
    return where("subgraphs target DPUs of different batch");

  auto code = attr<std::vector<char>>(sg, "mc_code");
  auto params = attr<std::map<std::string, std::vector<char>>>(
      sg, "reg_id_to_parameter_value");
  auto sizes = attr<std::map<std::string, int32_t>>(sg, "reg_id_to_size");
  using Placement = std::map<std::string, std::vector<int32_t>>;
  auto inPlace = attr<Placement>(sg, "vai_input_placement");
  auto outPlace = attr<Placement>(sg, "vai_output_placement");
  if (!code)
    return where("missing attribute 'mc_code'");
  if (!params)
    return where("missing attribute 'reg_id_to_parameter_value'");
  if (!sizes)
    return where("missing attribute 'reg_id_to_size'");
  if (!inPlace || !outPlace)
    return where("missing attribute 'vai_input_placement' or "
                 "'vai_output_placement'");
  d.code.assign(code->begin(), code->end());
  if (auto p = params->find("REG_0"); p != params->end())
    d.params = p->second;
  for (const auto &[reg, size] : *sizes) {
    if (reg.rfind("REG_", 0) != 0)
      return where("reg_id_to_size has key '" + reg + "'");
    int r = std::atoi(reg.c_str() + 4);
    if (r < 0 || r > 7 || size < 0)
      return where("reg_id_to_size: bad register or size for '" + reg + "'");
    if (size_t(r) >= d.regSizes.size())
      d.regSizes.resize(r + 1, 0);
    d.regSizes[r] = size;
  }
  if (!d.regSizes.empty() && d.regSizes[0] > int64_t(d.params.size()))
    return where("REG_0 parameters are shorter than reg_id_to_size says");
  auto readIO = [&](const Placement &place, bool isInput,
                    std::vector<DpuIO> &into) -> std::optional<Error> {
    for (const auto &[name, where2] : place) {
      const xir::Op *op = graph.get_op(name);
      if (!op)
        return where("placement names no op '" + name + "'");
      if (where2.size() != 2)
        return where("placement of '" + name + "' is not {reg, offset}");
      DpuIO io;
      io.node = index.at(op);
      io.reg = where2[0];
      io.offset = where2[1];
      const Node &n = nodes[io.node];
      if (!n.fix)
        return where("'" + name + "' is not a fixed tensor");
      io.bytes = rt::numElements(n.shape) / (n.shape.empty() ? 1 : n.shape[0]);
      if (n.shape.empty() || n.shape[0] != 1)
        return where("'" + name + "' must have batch 1 per lane");
      if (io.reg < 1 || size_t(io.reg) >= d.regSizes.size() || io.offset < 0 ||
          io.offset + io.bytes > d.regSizes[io.reg])
        return where(llvm::formatv("'{0}' at REG_{1}+{2} ({3} bytes) lies "
                                   "outside the register",
                                   name, io.reg, io.offset, io.bytes));
      if (bool(sg->has_op(op)) == isInput)
        return where("'" + name + "' is " + (isInput ? "inside" : "outside") +
                     " the subgraph");
      into.push_back(io);
    }
    return std::nullopt;
  };
  if (auto e = readIO(*inPlace, true, d.ins))
    return std::move(*e);
  if (auto e = readIO(*outPlace, false, d.outs))
    return std::move(*e);
  return d;
}

Error Model::Impl::load(const std::string &bytes) {
  // libxir aborts on a malformed protobuf: parse it here first.
  using namespace google::protobuf;
  const Descriptor *descr =
      DescriptorPool::generated_pool()->FindMessageTypeByName(
          "serial_v2.Graph");
  if (!descr)
    return fail("libxir's graph message (serial_v2.Graph) is not registered");
  std::unique_ptr<Message> msg(
      MessageFactory::generated_factory()->GetPrototype(descr)->New());
  if (bytes.empty() || !msg->ParseFromString(bytes))
    return fail("not an xmodel, or a truncated or corrupt one (its "
                "protobuf does not parse)");
  const FieldDescriptor *opNode = descr->FindFieldByName("op_node");
  const FieldDescriptor *root = descr->FindFieldByName("subg_root");
  if (!opNode || !root || msg->GetReflection()->FieldSize(*msg, opNode) == 0 ||
      !msg->GetReflection()->HasField(*msg, root))
    return fail("not an xmodel (no ops or no root subgraph)");
  std::unique_ptr<xir::Graph> graph =
      xir::Graph::deserialize_from_string(bytes);
  if (!graph)
    return fail("libxir cannot read the graph");

  std::map<const xir::Op *, int> index;
  std::vector<const xir::Op *> order;
  for (const xir::Op *op :
       static_cast<const xir::Graph &>(*graph).topological_sort()) {
    index[op] = static_cast<int>(order.size());
    order.push_back(op);
  }
  nodes.resize(order.size());
  const xir::Subgraph *rootSg = graph->get_root_subgraph();
  std::vector<const xir::Subgraph *> children =
      rootSg->children_topological_sort();
  if (children.empty())
    return fail("the root subgraph has no children (not a compiled xmodel)");
  // Ops of DPU subgraphs are computed by the program: only their tensors
  // are read (shapes and fix positions of the outputs).
  for (const xir::Subgraph *sg : children) {
    auto device = attr<std::string>(sg, "device");
    if (!device)
      return fail("subgraph '" + sg->get_name() + "' has no device");
    for (const xir::Op *op : sg->get_ops())
      nodes[index.at(op)].onDpu = *device == "DPU";
  }
  for (size_t i = 0; i < order.size(); ++i) {
    if (nodes[i].onDpu) {
      Node &n = nodes[i];
      n.name = order[i]->get_name();
      n.type = order[i]->get_type();
      const xir::Tensor *out = order[i]->get_output_tensor();
      for (int32_t d : out->get_shape())
        n.shape.push_back(d);
      if (auto fp = attr<int>(out, "fix_point"))
        n.fix = *fp;
      continue;
    }
    auto n = readOp(order[i], index);
    if (!n)
      return n.takeError();
    nodes[i] = std::move(*n);
    nodes[i].onDpu = false;
  }
  for (const xir::Subgraph *sg : children) {
    std::string device = *attr<std::string>(sg, "device");
    if (device == "DPU") {
      auto d = readDpu(sg, *graph, index);
      if (!d)
        return d.takeError();
      steps.push_back({true, static_cast<int>(dpus.size())});
      dpus.push_back(std::move(*d));
      continue;
    }
    if (device != "CPU" && device != "USER")
      return fail("subgraph '" + sg->get_name() + "' has device '" + device +
                  "'");
    cpuSubgraphs += device == "CPU";
    for (const xir::Op *op : sg->topological_sort())
      steps.push_back({false, index.at(op)});
  }
  if (dpus.empty()) {
    Expected<target::Target> t = target::loadTarget("DPUCADF8H_ISA0");
    if (!t)
      return t.takeError();
    desc = sim::machineDesc(*t, mlir::dpu::timingParams(*t));
  }
  if (auto why = desc.check())
    return fail("the target's simulator description: " + *why);
  for (size_t i = 0; i < order.size(); ++i) {
    const Node &n = nodes[i];
    if (n.type == "data" || n.type == "data-fix") {
      inputNodes.push_back(i);
      inputSpecs.push_back({n.name, n.shape});
    }
    if (n.type != "const" && n.type != "const-fix" &&
        order[i]->get_fanout_num() == 0) {
      outputNodes.push_back(i);
      outputSpecs.push_back({n.name, n.shape});
    }
  }
  if (inputNodes.empty() || outputNodes.empty())
    return fail("the graph has no input (data op) or no output");
  return Error::success();
}

Error Model::Impl::runCpu(const Node &n, std::vector<Value> &values) const {
  auto in = [&](size_t i) -> const Value & { return values[n.inputs[i]]; };
  auto fail2 = [&](const llvm::Twine &what) {
    return fail("op '" + n.name + "' (" + n.type + "): " + what);
  };
  auto wantFloat = [&](size_t i) -> std::optional<Error> {
    if (in(i).t.isNull())
      return fail2("its input was not computed");
    if (in(i).t.dtype() != rt::DType::F32)
      return fail2("reads a fixed tensor where a float one is expected");
    return std::nullopt;
  };
  auto wantSameKind = [&](size_t i) -> std::optional<Error> {
    if (in(i).t.isNull())
      return fail2("its input was not computed");
    if (bool(in(i).fix) != bool(n.fix))
      return fail2("input and output differ in fixed/float kind");
    if (n.fix && *in(i).fix != *n.fix && n.type != "concat-fix")
      return fail2(
          llvm::formatv("input fix_point {0}, output {1}", *in(i).fix, *n.fix));
    return std::nullopt;
  };
  Value out;
  out.fix = n.fix;
  const std::string &t = n.type;
  rt::DType dt = n.fix ? rt::DType::I8 : rt::DType::F32;
  size_t es = rt::dtypeSize(dt);
  if (t == "const" || t == "const-fix") {
    out.t = n.constant;
  } else if (t == "float2fix") {
    if (auto e = wantFloat(0))
      return std::move(*e);
    auto [lo, hi] = fixRange(8, n.round);
    out.t = quantize(in(0).t, *n.fix, lo, hi, roundMode(n.round));
  } else if (t == "fix2float") {
    if (!in(0).fix)
      return fail2("reads a float tensor");
    out.t = dequantize(in(0).t, *in(0).fix);
  } else if (t == "reshape" || t == "reshape-fix" || t == "flatten") {
    if (auto e = wantSameKind(0))
      return std::move(*e);
    if (in(0).t.numElements() != rt::numElements(n.shape))
      return fail2("element count changes");
    out.t = in(0).t.reshaped(n.shape);
  } else if (t == "transpose") {
    if (auto e = wantSameKind(0))
      return std::move(*e);
    if (n.a.size() != in(0).t.shape().size())
      return fail2("'order' rank differs from the input's");
    out.t = rt::Tensor(dt, n.shape);
    rt::transpose(in(0).t.raw(), in(0).t.shape(), n.a, es, out.t.raw());
  } else if (t == "strided_slice") {
    if (auto e = wantSameKind(0))
      return std::move(*e);
    const rt::Shape &s = in(0).t.shape();
    for (size_t d = 0; d < s.size(); ++d)
      if (n.a[d] < 0 || n.a[d] + (n.shape[d] - 1) * n.b[d] >= s[d])
        return fail2("slice reads outside its input");
    out.t = rt::Tensor(dt, n.shape);
    rt::slice(in(0).t.raw(), s, n.a, n.b, es, out.t.raw(), n.shape);
  } else if (t == "pad" || t == "pad-fix") {
    if (auto e = wantSameKind(0))
      return std::move(*e);
    std::vector<int64_t> low, high;
    for (size_t d = 0; d < n.shape.size(); ++d) {
      low.push_back(n.c[2 * d]);
      high.push_back(n.c[2 * d + 1]);
    }
    out.t = rt::Tensor(dt, n.shape);
    int8_t zero = 0;
    rt::pad(in(0).t.raw(), in(0).t.shape(), low, high, rt::PadMode::Constant,
            n.fix ? static_cast<const void *>(&zero)
                  : static_cast<const void *>(&n.padValue),
            es, out.t.raw());
  } else if (t == "concat" || t == "concat-fix") {
    std::vector<rt::Tensor> parts;
    std::vector<const void *> ptrs;
    std::vector<rt::Shape> shapes;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (auto e = wantSameKind(i))
        return std::move(*e);
      rt::Tensor p = in(i).t;
      if (n.fix && *in(i).fix != *n.fix) {
        // Requantize to the output position (docs/quantization.md).
        rt::Tensor r(rt::DType::I8, p.shape());
        int d = *n.fix - *in(i).fix;
        for (int64_t k = 0; k < p.numElements(); ++k)
          r.data<int8_t>()[k] = static_cast<int8_t>(
              rt::saturate(rt::roundShift(p.data<int8_t>()[k], -d), -127, 127));
        p = r;
      }
      parts.push_back(p);
      ptrs.push_back(parts.back().raw());
      shapes.push_back(p.shape());
    }
    out.t = rt::Tensor(dt, n.shape);
    rt::concat(ptrs, shapes, n.axis, es, out.t.raw());
  } else if (t == "softmax") {
    if (auto e = wantFloat(0))
      return std::move(*e);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < n.axis; ++d)
      outer *= n.shape[d];
    for (size_t d = n.axis + 1; d < n.shape.size(); ++d)
      inner *= n.shape[d];
    out.t = rt::Tensor(dt, n.shape);
    rt::softmax(in(0).t.data<float>(), out.t.data<float>(), outer,
                n.shape[n.axis], inner);
  } else if (t == "relu" || t == "relu6" || t == "sigmoid" || t == "tanh") {
    if (auto e = wantFloat(0))
      return std::move(*e);
    rt::UnaryKind k = t == "relu"    ? rt::UnaryKind::Relu
                      : t == "relu6" ? rt::UnaryKind::Relu6
                      : t == "tanh"  ? rt::UnaryKind::Tanh
                                     : rt::UnaryKind::Sigmoid;
    out.t = rt::Tensor(dt, n.shape);
    rt::unary(k, in(0).t.data<float>(), out.t.data<float>(),
              out.t.numElements());
  } else {
    // add, sub, mul, div, max, min (readOp admits nothing else).
    for (size_t i = 0; i < 2; ++i)
      if (auto e = wantFloat(i))
        return std::move(*e);
    rt::BinaryKind k = t == "add"   ? rt::BinaryKind::Add
                       : t == "sub" ? rt::BinaryKind::Sub
                       : t == "mul" ? rt::BinaryKind::Mul
                       : t == "div" ? rt::BinaryKind::Div
                       : t == "max" ? rt::BinaryKind::Max
                                    : rt::BinaryKind::Min;
    auto padded = [&](const rt::Shape &s) {
      rt::Shape r(n.shape.size() - std::min(n.shape.size(), s.size()), 1);
      r.insert(r.end(), s.begin(), s.end());
      return r;
    };
    rt::Shape a = padded(in(0).t.shape()), b = padded(in(1).t.shape());
    for (size_t d = 0; d < n.shape.size(); ++d)
      if ((a[d] != n.shape[d] && a[d] != 1) ||
          (b[d] != n.shape[d] && b[d] != 1))
        return fail2("operand shapes do not broadcast to the output");
    out.t = rt::Tensor(dt, n.shape);
    rt::binary(k, in(0).t.data<float>(), a, in(1).t.data<float>(), b,
               out.t.data<float>(), n.shape);
  }
  if (out.t.shape() != n.shape)
    return fail2("computed shape " + rt::shapeToString(out.t.shape()) +
                 ", the xmodel says " + rt::shapeToString(n.shape));
  values[&n - nodes.data()] = std::move(out);
  return Error::success();
}

/// Runs every step for up to lanes() images (lanes[l] holds image l's
/// values; its inputs are set).
Error Model::Impl::runBatch(std::vector<std::vector<Value>> &lanes,
                            std::vector<DpuState> &states,
                            sim::RunStats *stats) const {
  for (const Step &step : steps) {
    if (!step.dpu) {
      const Node &n = nodes[step.index];
      if (n.type == "data" || n.type == "data-fix")
        continue;
      for (auto &values : lanes)
        if (Error e = runCpu(n, values))
          return e;
      continue;
    }
    const DpuStep &d = dpus[step.index];
    auto &machine = states[step.index].machine;
    auto &ddr = states[step.index].ddr;
    if (!machine) {
      auto m = sim::Machine::create(desc, cache);
      if (!m)
        return fail("DPU subgraph '" + d.name + "': " + m.error().message);
      machine = std::move(*m);
      if (!d.params.empty())
        machine->bindParams(d.params.data(), d.params.size());
      // Per lane, per register: DDR allocated (zeroed) once and reused by
      // the worker's later batches; lanes are independent, so a padding
      // lane's stale bytes never reach a real lane.
      ddr.resize(desc.lanes);
      for (int64_t l = 0; l < desc.lanes; ++l) {
        ddr[l].resize(d.regSizes.size());
        for (size_t r = 1; r < d.regSizes.size(); ++r) {
          if (!d.regSizes[r])
            continue;
          ddr[l][r].assign(d.regSizes[r], 0);
          if (auto e = machine->bind(r, l, ddr[l][r].data(), d.regSizes[r]))
            return fail("DPU subgraph '" + d.name + "': " + e->message);
        }
      }
    }
    for (size_t l = 0; l < lanes.size(); ++l)
      for (const DpuIO &io : d.ins) {
        const Value &v = lanes[l][io.node];
        if (v.t.isNull() || !v.fix || *v.fix != *nodes[io.node].fix ||
            v.t.numElements() != io.bytes)
          return fail("DPU subgraph '" + d.name + "': input '" +
                      nodes[io.node].name +
                      "' is not the fixed tensor the "
                      "program expects");
        std::memcpy(ddr[l][io.reg].data() + io.offset, v.t.raw(), io.bytes);
      }
    auto rs = machine->run(d.code.data(), d.code.size());
    if (!rs)
      return fail("DPU subgraph '" + d.name + "': " + rs.error().message);
    if (stats) {
      stats->totalCycles += rs->totalCycles;
      stats->macs += rs->macs;
      stats->latencySeconds += rs->latencySeconds;
    }
    for (size_t l = 0; l < lanes.size(); ++l)
      for (const DpuIO &io : d.outs) {
        const Node &n = nodes[io.node];
        Value v;
        v.fix = n.fix;
        v.t = rt::Tensor(rt::DType::I8, n.shape);
        std::memcpy(v.t.raw(), ddr[l][io.reg].data() + io.offset, io.bytes);
        lanes[l][io.node] = std::move(v);
      }
  }
  return Error::success();
}

Model::Model(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Model::~Model() = default;

Expected<std::unique_ptr<Model>> Model::load(const std::string &path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": " + buffer.getError().message());
  if (Error e = impl->load((*buffer)->getBuffer().str()))
    return std::move(e);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const std::vector<TensorSpec> &Model::inputs() const {
  return impl->inputSpecs;
}
const std::vector<TensorSpec> &Model::outputs() const {
  return impl->outputSpecs;
}
int64_t Model::lanes() const { return impl->desc.lanes; }

Expected<std::vector<rt::Tensor>>
Model::run(const std::vector<rt::Tensor> &inputs, unsigned threads,
           Stats *stats) const {
  const Impl &m = *impl;
  if (inputs.size() != m.inputSpecs.size())
    return makeError(llvm::formatv("the model takes {0} input(s), {1} given",
                                   m.inputSpecs.size(), inputs.size()));
  int64_t images = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const rt::Shape &want = m.inputSpecs[i].shape;
    const rt::Tensor &t = inputs[i];
    rt::Shape expect = want;
    expect[0] = t.rank() ? t.dim(0) : 0;
    bool ok = t.dtype() == rt::DType::F32 && t.shape() == expect &&
              t.dim(0) > 0 && (images < 0 || images == t.dim(0));
    if (!ok)
      return makeError(
          "input '" + m.inputSpecs[i].name + "' expects f32 images of " +
          rt::shapeToString(want) + " stacked along dim 0 (N x " +
          rt::shapeToString(rt::Shape(want.begin() + 1, want.end())) +
          (images > 0 ? ", N = " + std::to_string(images) : std::string()) +
          "), got " + rt::dtypeName(t.dtype()) + " " +
          rt::shapeToString(t.shape()));
    images = t.dim(0);
  }
  int64_t L = m.desc.lanes;
  int64_t batches = (images + L - 1) / L;
  std::vector<rt::Tensor> results;
  for (const TensorSpec &o : m.outputSpecs) {
    rt::Shape s = o.shape;
    s[0] *= images;
    results.emplace_back(rt::DType::F32, s);
  }
  std::mutex mu;
  std::optional<std::string> firstError;
  sim::RunStats batchStats;
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    std::vector<Impl::DpuState> states(m.dpus.size());
    for (int64_t b; (b = next++) < batches;) {
      int64_t first = b * L, count = std::min(L, images - first);
      std::vector<std::vector<Value>> lanes(count,
                                            std::vector<Value>(m.nodes.size()));
      for (int64_t l = 0; l < count; ++l)
        for (size_t i = 0; i < inputs.size(); ++i) {
          const Node &n = m.nodes[m.inputNodes[i]];
          rt::Tensor x(rt::DType::F32, n.shape);
          size_t bytes = x.byteSize();
          std::memcpy(x.raw(),
                      static_cast<const char *>(inputs[i].raw()) +
                          (first + l) * bytes,
                      bytes);
          Value v;
          if (n.type == "data-fix") {
            auto [lo, hi] = fixRange(8, n.round);
            v.t = quantize(x, *n.fix, lo, hi, roundMode(n.round));
            v.fix = n.fix;
          } else {
            v.t = std::move(x);
          }
          lanes[l][m.inputNodes[i]] = std::move(v);
        }
      sim::RunStats rs;
      Error e = m.runBatch(lanes, states, &rs);
      std::lock_guard<std::mutex> lock(mu);
      if (e) {
        std::string msg = llvm::toString(std::move(e));
        if (!firstError)
          firstError = msg;
        next = batches;
        return;
      }
      batchStats = rs;
      for (size_t o = 0; o < m.outputNodes.size(); ++o)
        for (int64_t l = 0; l < count; ++l) {
          Value &v = lanes[l][m.outputNodes[o]];
          rt::Tensor f = v.fix ? dequantize(v.t, *v.fix) : v.t;
          std::memcpy(static_cast<char *>(results[o].raw()) +
                          (first + l) * f.byteSize(),
                      f.raw(), f.byteSize());
        }
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(threads, batches));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; ++i)
    pool.emplace_back(worker);
  worker();
  for (auto &t : pool)
    t.join();
  if (firstError)
    return makeError(*firstError);
  if (stats) {
    stats->dpuSubgraphs = m.dpus.size();
    stats->cpuSubgraphs = m.cpuSubgraphs;
    stats->lanes = L;
    stats->cycles = batchStats.totalCycles;
    stats->macs = batchStats.macs;
    stats->peakMacsPerCycle = m.desc.peakMacsPerCycle();
    stats->clockMHz = m.desc.clockMHz;
    stats->latencySeconds = batchStats.latencySeconds;
    stats->batches = batches;
  }
  return results;
}

} // namespace vai::xrun
