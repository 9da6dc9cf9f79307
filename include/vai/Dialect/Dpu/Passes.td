//===- Passes.td - dpu passes ------------------------------*- tablegen -*-===//
#ifndef VAI_DIALECT_DPU_PASSES_TD
#define VAI_DIALECT_DPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def DpuVerifyTarget : Pass<"dpu-verify-target", "::mlir::ModuleOp"> {
  let summary = "Check every dpu.program against its target's limits";
  let description = [{
    Loads the target named by each `dpu.program` (or the `target` option)
    with `vai::target::loadTarget` and checks what the encoding allows but
    the DPU may not (docs/isa.md, "Checks by target"): bank groups exist and
    have the right kind, tiles fit their group, compute outputs do not
    overlap their inputs, kernels and strides are in the engine's sets,
    padding and shifts within the target's quantization limits, activations
    and pool kinds supported, the depthwise engine present. Each error names
    the instruction (its location is the layer).
  }];
  let options = [
    Option<"targetName", "target", "std::string", /*default=*/"\"\"",
           "Check against this target instead of each program's own">
  ];
}

def DpuMcRoundTrip : Pass<"dpu-mc-roundtrip", "::mlir::ModuleOp"> {
  let summary = "Encode every dpu.program to machine code and decode it back";
  let description = [{
    Converts each program to `vai::isa` instructions, encodes them, decodes
    the bytes and rebuilds the program's ops from the decoded instructions
    (keeping each op's location). The output must equal the input; a
    difference between an instruction and its decoded form is an error.
  }];
}

def DpuDisassemble : Pass<"dpu-disassemble", "::mlir::ModuleOp"> {
  let summary = "Print the machine code of every dpu.program with its timing";
  let description = [{
    Prints, for each program, its size in bytes and one line per instruction:
    byte offset, modeled start and end cycle (docs/isa.md, "Timing model",
    with the program's target), the disassembly and the instruction's layer
    (its location). Then the total cycles, the modeled latency at the
    target's clock and the MAC utilisation.
  }];
  let options = [
    Option<"outputFile", "o", "std::string", /*default=*/"\"-\"",
           "Write the listing to this file (default: stdout)">
  ];
}

#endif // VAI_DIALECT_DPU_PASSES_TD
