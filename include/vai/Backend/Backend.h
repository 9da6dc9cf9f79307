//===- Backend.h - DPUCADF8H partitioning and lowering ----------*- C++ -*-===//
//
// The compiler proper (issue 5): which layers run on the DPU (partitioning,
// with a reason for every CPU layer) and the lowering of each DPU subgraph to
// a dpu.program (tiling, DDR planning, batch lanes, scheduling).
// The design is in the comment at the top of lib/Backend/LowerToDpu.cpp.
//
// Partition annotations (discardable attributes on every layer op, i.e.
// every op of the function except vai.constant, vai.fix and the return):
//   vai.device     = "DPU" | "CPU"
//   vai.subgraph   = i64, maximal connected groups of same-device layers,
//                    numbered in program order
//   vai.cpu_reason = string, on CPU layers only
//
//===----------------------------------------------------------------------===//
#ifndef VAI_BACKEND_BACKEND_H
#define VAI_BACKEND_BACKEND_H

#include "vai/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

namespace vai::backend {

constexpr llvm::StringLiteral kDeviceAttr = "vai.device";
constexpr llvm::StringLiteral kSubgraphAttr = "vai.subgraph";
constexpr llvm::StringLiteral kCpuReasonAttr = "vai.cpu_reason";

/// True for the ops the partition annotates (not constants, fix ops or the
/// terminator).
bool isLayer(mlir::Operation *op);

/// Why `op` (a layer) must run on the CPU for `target`, or nullopt when the
/// DPU runs it: not quantized, dpuUnsupportedReason, or a tiling failure.
std::optional<std::string> cpuReason(mlir::Operation *op,
                                     const vai::target::Target &target);

/// Why a quantized op the DPU engines support cannot be tiled into the
/// target's banks ("fits no bank even when tiled: ..."), or nullopt.
std::optional<std::string> tilingFailure(mlir::Operation *op,
                                         const vai::target::Target &target);

/// Annotates every layer of `func` (see above).
void partition(mlir::func::FuncOp func, const vai::target::Target &target);

/// A per-layer table of a partitioned function, like Vitis AI's inspector:
/// layer name, op, device, subgraph, reason.
std::string inspect(mlir::func::FuncOp func);

/// Lowers every DPU subgraph of every partitioned function of `module` to a
/// `dpu.program @subgraph_N`, appended to the module. Errors go to the ops.
mlir::LogicalResult lowerToDpu(mlir::ModuleOp module,
                               const vai::target::Target &target);

} // namespace vai::backend

#endif // VAI_BACKEND_BACKEND_H
