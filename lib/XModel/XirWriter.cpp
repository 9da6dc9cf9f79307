//===- XirWriter.cpp - Checked construction of the xir::Graph -------------===//
//
// libxir reports a bad op type, a missing or mistyped attribute, a wrong
// number of inputs or a duplicate name by aborting the process. Everything
// here is checked against libxir's own op definitions (xir::op_def_factory)
// before the corresponding libxir call.
//
//===----------------------------------------------------------------------===//

#include "Plan.h"

#include "llvm/Support/FormatVariadic.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <xir/attrs/attrs.hpp>
#include <xir/graph/graph.hpp>
#include <xir/graph/subgraph.hpp>
#include <xir/op/op.hpp>
#include <xir/op/op_def.hpp>
#include <xir/tensor/tensor.hpp>

#include <set>
#include <typeindex>

// libxir exports its op definition registry but does not install the header
// declaring it (src/xir/op/op_def_factory_imp.hpp in Vitis AI); these are the
// exported symbols' declarations.
namespace xir {
class OpDefFactoryImp : public OpDefFactory {
public:
  void register_h(const OpDef &def) override;
  const OpDef *create(const std::string &type) const;
  const std::vector<std::string> get_registered_ops() const;
};
const OpDefFactoryImp *op_def_factory();
} // namespace xir

using llvm::Error;
using llvm::Expected;

namespace vai::xmodel::detail {

namespace {

Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string where(const PlanOp &op) {
  return llvm::formatv("layer '{0}': XIR op '{1}' ({2})", op.layer, op.name,
                       op.type)
      .str();
}

std::type_index typeOf(const AttrValue &v) {
  return std::visit([](const auto &x) { return std::type_index(typeid(x)); },
                    v);
}

const char *typeName(const AttrValue &v) {
  static const char *names[] = {"int",
                                "bool",
                                "string",
                                "vector<int>",
                                "bytes",
                                "vector<float>",
                                "int64",
                                "uint64",
                                "map<string, string>",
                                "map<string, int>",
                                "map<string, bytes>",
                                "map<string, vector<int>>"};
  return names[v.index()];
}

/// Values libxir's op definitions spell out in their annotations.
const std::map<std::string, std::set<std::string>> &enumValues() {
  static const std::map<std::string, std::set<std::string>> values = {
      {"nonlinear",
       {"NONE", "RELU", "PRELU", "LEAKYRELU", "RELU6", "HSIGMOID", "HSWISH"}},
      {"round_mode", {"STD_ROUND", "DPU_ROUND", "PY3_ROUND"}},
      {"data_type", {"XINT8", "FLOAT32"}},
      {"mode", {"CONSTANT", "REFLECT", "SYMMETRIC", "NEAREST", "BILINEAR"}},
  };
  return values;
}

Error checkValue(const PlanOp &op, const std::string &key,
                 const AttrValue &value) {
  auto bad = [&](const llvm::Twine &what) {
    return makeError(where(op) + ": attribute '" + key + "': " + what);
  };
  if (auto *s = std::get_if<std::string>(&value)) {
    auto it = enumValues().find(key);
    if (it != enumValues().end() && !it->second.count(*s))
      return bad("\"" + *s + "\" is not one of the values libxir accepts");
    if (key == "type" && op.type == "pool-fix" && *s != "MAX" && *s != "AVG")
      return bad("\"" + *s + "\" is not MAX or AVG");
    if (key == "type" && op.type == "eltwise-fix" && *s != "ADD" && *s != "MUL")
      return bad("\"" + *s + "\" is not ADD or MUL");
  }
  if (auto *v = std::get_if<std::vector<int32_t>>(&value)) {
    int32_t min = key == "pad" || key == "paddings" ? 0
                  : key == "kernel" || key == "stride" || key == "dilation" ||
                          key == "shape"
                      ? 1
                      : INT32_MIN;
    if (key == "shape" && op.type.rfind("reshape", 0) == 0)
      min = 1;
    for (int32_t x : *v)
      if (x < min)
        return bad(llvm::formatv("value {0} below {1}", x, min));
  }
  return Error::success();
}

Error checkOp(const PlanOp &op, const std::vector<PlanOp> &ops, size_t index,
              const std::set<std::string> &registered) {
  if (!registered.count(op.type))
    return makeError(where(op) + ": libxir has no op type '" + op.type + "'");
  const xir::OpDef *def = xir::op_def_factory()->create(op.type);
  // Attributes: each one defined, of the defined type and list length;
  // every required one present.
  for (const auto &[key, value] : op.attrs) {
    auto it =
        std::find_if(def->attrs().begin(), def->attrs().end(),
                     [&](const xir::AttrDef &d) { return d.name == key; });
    if (it == def->attrs().end())
      return makeError(where(op) + ": attribute '" + key +
                       "' is not defined for this op type");
    if (it->data_type != typeOf(value))
      return makeError(where(op) + ": attribute '" + key + "' has type " +
                       typeName(value) + ", libxir expects another type");
    if (it->list_length > 1) {
      size_t n = std::visit(
          [](const auto &x) -> size_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::vector<int32_t>> ||
                          std::is_same_v<T, std::vector<float>> ||
                          std::is_same_v<T, std::vector<char>>)
              return x.size();
            return 1;
          },
          value);
      if (n != it->list_length)
        return makeError(llvm::formatv(
            "{0}: attribute '{1}' has {2} values, libxir expects {3}",
            where(op), key, n, it->list_length));
    }
    if (Error e = checkValue(op, key, value))
      return e;
  }
  for (const xir::AttrDef &d : def->attrs())
    if (d.occur_type == xir::AttrDef::REQUIRED && !op.attrs.count(d.name))
      return makeError(where(op) + ": required attribute '" + d.name +
                       "' is missing");
  // Inputs: defined argument names, occurrence counts, producers that come
  // earlier, and fixed/float data types as the definition asks.
  for (const auto &[arg, producers] : op.inputs) {
    auto it = std::find_if(
        def->input_args().begin(), def->input_args().end(),
        [&, &arg = arg](const xir::OpArgDef &d) { return d.name == arg; });
    if (it == def->input_args().end())
      return makeError(where(op) + ": no input argument '" + arg + "'");
    for (int p : producers) {
      if (p < 0 || static_cast<size_t>(p) >= index)
        return makeError(where(op) + ": input '" + arg +
                         "' is not an earlier op");
      bool fixed = ops[p].fix.has_value();
      if (it->data_type == xir::DataType::XINT && !fixed)
        return makeError(where(op) + ": input '" + arg + "' ('" + ops[p].name +
                         "') must be fixed-point");
      if (it->data_type == xir::DataType::FLOAT && fixed)
        return makeError(where(op) + ": input '" + arg + "' ('" + ops[p].name +
                         "') must be float");
    }
  }
  for (const xir::OpArgDef &d : def->input_args()) {
    size_t n = 0;
    for (const auto &[arg, producers] : op.inputs)
      if (arg == d.name)
        n += producers.size();
    bool ok = d.occur_type == xir::OpArgDef::REQUIRED                ? n == 1
              : d.occur_type == xir::OpArgDef::OPTIONAL              ? n <= 1
              : d.occur_type == xir::OpArgDef::REQUIRED_AND_REPEATED ? n >= 1
                                                                     : true;
    if (!ok)
      return makeError(llvm::formatv("{0}: {1} inputs for argument '{2}'",
                                     where(op), n, d.name));
  }
  if (op.shape.empty() && op.type != "const" && op.type != "const-fix")
    return makeError(where(op) + ": no output shape");
  for (int64_t d : op.shape)
    if (d < 1 || d > INT32_MAX)
      return makeError(llvm::formatv(
          "{0}: output dimension {1} does not fit libxir's int32 shapes",
          where(op), d));
  if (op.fix) {
    if (op.fix->bitWidth != 8)
      return makeError(llvm::formatv("{0}: bit width {1}: the DPU holds "
                                     "8-bit tensors",
                                     where(op), op.fix->bitWidth));
    if (op.fix->fixPoint < INT32_MIN || op.fix->fixPoint > INT32_MAX)
      return makeError(where(op) + ": fix_point out of range");
    if (!enumValues().at("round_mode").count(op.fix->roundMode))
      return makeError(where(op) + ": unknown round mode '" +
                       op.fix->roundMode + "'");
  }
  if (op.subgraph < 0)
    return makeError(where(op) + ": belongs to no subgraph");
  return Error::success();
}

std::unique_ptr<xir::Attrs> toAttrs(const AttrMap &map) {
  auto attrs = xir::Attrs::create();
  for (const auto &[key, value] : map)
    std::visit([&, &key = key](const auto &v) { attrs->set_attr(key, v); },
               value);
  return attrs;
}

template <typename T> void setAll(T *object, const AttrMap &map) {
  for (const auto &[key, value] : map)
    std::visit([&, &key = key](const auto &v) { object->set_attr(key, v); },
               value);
}

/// Re-serializes libxir's protobuf with deterministic (key-sorted) map
/// order: libxir's own output orders attribute maps by hash, which differs
/// between runs.
Expected<std::string> canonicalize(const std::string &bytes) {
  using namespace google::protobuf;
  const Descriptor *desc =
      DescriptorPool::generated_pool()->FindMessageTypeByName(
          "serial_v2.Graph");
  if (!desc)
    return makeError("libxir's graph message (serial_v2.Graph) is not "
                     "registered with protobuf");
  const Message *proto =
      MessageFactory::generated_factory()->GetPrototype(desc);
  std::unique_ptr<Message> msg(proto->New());
  if (!msg->ParseFromString(bytes))
    return makeError("cannot re-read libxir's serialized graph");
  std::string out;
  {
    io::StringOutputStream stream(&out);
    io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!msg->SerializeToCodedStream(&coded))
      return makeError("cannot serialize the graph");
  }
  return out;
}

} // namespace

Error validatePlan(const Plan &plan) {
  std::vector<std::string> registeredList =
      xir::op_def_factory()->get_registered_ops();
  std::set<std::string> registered(registeredList.begin(),
                                   registeredList.end());
  std::set<std::string> names;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlanOp &op = plan.ops[i];
    if (op.name.empty())
      return makeError("layer '" + op.layer + "': empty XIR op name");
    if (!names.insert(op.name).second)
      return makeError(where(op) + ": the op name is used twice");
    if (op.subgraph >= static_cast<int>(plan.subgraphs.size()))
      return makeError(where(op) + ": unknown subgraph");
    if (Error e = checkOp(op, plan.ops, i, registered))
      return e;
  }
  std::set<std::string> subgraphNames;
  std::vector<int> used(plan.subgraphs.size());
  for (const PlanOp &op : plan.ops)
    ++used[op.subgraph];
  for (size_t i = 0; i < plan.subgraphs.size(); ++i) {
    const PlanSubgraph &sg = plan.subgraphs[i];
    if (!subgraphNames.insert(sg.name).second)
      return makeError("subgraph name '" + sg.name + "' is used twice");
    if (!used[i])
      return makeError("subgraph '" + sg.name + "' holds no op");
    auto device = sg.attrs.find("device");
    if (device == sg.attrs.end() ||
        !std::holds_alternative<std::string>(device->second))
      return makeError("subgraph '" + sg.name + "' has no device");
  }
  if (plan.ops.empty())
    return makeError("the graph has no op");
  return Error::success();
}

Expected<std::string> writeXir(const Plan &plan) {
  if (Error e = validatePlan(plan))
    return std::move(e);
  std::unique_ptr<xir::Graph> graph = xir::Graph::create(plan.name);
  std::vector<xir::Op *> xops;
  for (const PlanOp &op : plan.ops) {
    std::map<std::string, std::vector<xir::Op *>> inputs;
    for (const auto &[arg, producers] : op.inputs)
      for (int p : producers)
        inputs[arg].push_back(xops[p]);
    xir::DataType type = op.fix ? xir::DataType{xir::DataType::XINT, 8}
                                : xir::DataType{xir::DataType::FLOAT, 32};
    xir::Op *xop =
        graph->add_op(op.name, op.type, toAttrs(op.attrs), inputs, type);
    xir::Tensor *tensor = xop->get_output_tensor();
    std::vector<int32_t> shape = tensor->get_shape();
    if (!op.shape.empty() &&
        std::vector<int64_t>(shape.begin(), shape.end()) != op.shape) {
      std::string got, want;
      for (int32_t d : shape)
        got += (got.empty() ? "" : "x") + std::to_string(d);
      for (int64_t d : op.shape)
        want += (want.empty() ? "" : "x") + std::to_string(d);
      return makeError(where(op) + ": libxir infers the output shape " + got +
                       ", the model has " + want);
    }
    if (op.fix) {
      tensor->set_attr<int>("fix_point", static_cast<int>(op.fix->fixPoint));
      tensor->set_attr<int>("bit_width", static_cast<int>(op.fix->bitWidth));
      tensor->set_attr<bool>("if_signed", op.fix->isSigned);
      tensor->set_attr<std::string>("round_mode", op.fix->roundMode);
    }
    setAll(tensor, op.tensorAttrs);
    xops.push_back(xop);
  }

  xir::Subgraph *root = graph->get_root_subgraph();
  root->set_name("root");
  root->create_children();
  for (size_t s = 0; s < plan.subgraphs.size(); ++s) {
    std::set<xir::Subgraph *> children;
    for (size_t i = 0; i < plan.ops.size(); ++i)
      if (plan.ops[i].subgraph == static_cast<int>(s))
        children.insert(root->find_op(xops[i]));
    xir::Subgraph *sg = children.size() == 1 ? *children.begin()
                                             : root->merge_children(children);
    sg->set_name(plan.subgraphs[s].name);
    setAll(sg, plan.subgraphs[s].attrs);
  }
  setAll(graph.get(), plan.attrs);

  std::string bytes;
  graph->serialize_to_string(&bytes);
  return canonicalize(bytes);
}

} // namespace vai::xmodel::detail
