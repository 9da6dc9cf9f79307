//===- Passes.td - DPUCADF8H backend passes ----------------*- tablegen -*-===//
#ifndef VAI_BACKEND_PASSES_TD
#define VAI_BACKEND_PASSES_TD

include "mlir/Pass/PassBase.td"

def VaiPartition : Pass<"vai-partition", "::mlir::func::FuncOp"> {
  let summary = "Assign every layer to the DPU or the CPU, in subgraphs";
  let description = [{
    Annotates every layer op of a quantized function (not constants, not
    vai.fix) with `vai.device` ("DPU" or "CPU"), `vai.subgraph` (maximal
    connected groups of same-device layers, numbered in program order) and,
    on CPU layers, `vai.cpu_reason`: "not quantized", the target's
    unsupported-op reason (vai::target::dpuUnsupportedReason), or a tiling
    failure ("fits no bank even when tiled: ..."). With `inspect`, prints
    the per-layer table (vai::backend::inspect) to stdout.
  }];
  let options = [
    Option<"targetName", "target", "std::string", "\"DPUCADF8H_ISA0\"",
           "DPU target (vai::target::loadTarget)">,
    Option<"printInspect", "inspect", "bool", "false",
           "Print the per-layer partition table">
  ];
}

def VaiLowerToDpu : Pass<"vai-lower-to-dpu", "::mlir::ModuleOp"> {
  let summary = "Lower each DPU subgraph to a dpu.program";
  let description = [{
    After -vai-partition: for each DPU subgraph N of each function, appends
    `dpu.program @subgraph_N` with the tiled, scheduled instructions and the
    attributes the xmodel emitter reads (subgraph, reg_sizes, params, io,
    macs, cycles). The vai ops stay in the function. The design (tiling,
    DDR planning, scheduling) is described atop lib/Backend/LowerToDpu.cpp.
  }];
  let options = [
    Option<"targetName", "target", "std::string", "\"DPUCADF8H_ISA0\"",
           "DPU target (vai::target::loadTarget)">
  ];
  let dependentDialects = ["::mlir::dpu::DpuDialect"];
}

#endif // VAI_BACKEND_PASSES_TD
