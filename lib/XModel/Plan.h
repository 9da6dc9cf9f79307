//===- Plan.h - The xir graph to build, in plain C++ ------------*- C++ -*-===//
//
// BuildPlan.cpp turns the MLIR function into a Plan; XirWriter.cpp checks the
// Plan against libxir's op definitions and only then builds and serializes
// the xir::Graph. Keeping the two apart keeps libxir's headers (and its
// aborts) behind one checked interface.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_XMODEL_PLAN_H
#define VAI_LIB_XMODEL_PLAN_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vai::xmodel::detail {

/// The attribute value types we write (all of them types libxir serializes).
using AttrValue = std::variant<
    int32_t, bool, std::string, std::vector<int32_t>, std::vector<char>,
    std::vector<float>, int64_t, uint64_t, std::map<std::string, std::string>,
    std::map<std::string, int32_t>, std::map<std::string, std::vector<char>>,
    std::map<std::string, std::vector<int32_t>>>;
using AttrMap = std::map<std::string, AttrValue>;

/// XIR's fix info of a fixed-point tensor.
struct FixInfo {
  int64_t fixPoint = 0;
  int64_t bitWidth = 8;
  bool isSigned = true;
  std::string roundMode = "DPU_ROUND";
};

struct PlanOp {
  std::string name;  ///< unique XIR op name
  std::string type;  ///< XIR op type
  std::string layer; ///< the framework layer it comes from (for errors)
  AttrMap attrs;
  /// Input argument name -> producing ops (indices into Plan::ops), in order.
  std::vector<std::pair<std::string, std::vector<int>>> inputs;
  std::vector<int64_t> shape; ///< the output shape we expect
  std::optional<FixInfo> fix; ///< set: XINT output with this fix info
  AttrMap tensorAttrs;        ///< extra output tensor attributes
  int subgraph = -1;          ///< index into Plan::subgraphs
};

struct PlanSubgraph {
  std::string name;
  AttrMap attrs; ///< "device" and the rest
};

struct Plan {
  std::string name;
  AttrMap attrs;
  std::vector<PlanOp> ops; ///< in topological order
  std::vector<PlanSubgraph> subgraphs;
};

/// Checks every op, attribute and input of `plan` against libxir's
/// registered op definitions, then builds the graph and returns its
/// canonical (deterministic) serialization. Errors name the layer, the op
/// and the attribute; libxir is never called with a value it would reject.
llvm::Expected<std::string> writeXir(const Plan &plan);

/// Checks `plan` only (what writeXir does before calling libxir's builders).
llvm::Error validatePlan(const Plan &plan);

} // namespace vai::xmodel::detail

#endif // VAI_LIB_XMODEL_PLAN_H
