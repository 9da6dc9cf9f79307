//===- Passes.td - vai graph passes ------------------------*- tablegen -*-===//
#ifndef VAI_TRANSFORMS_PASSES_TD
#define VAI_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RemoveInferenceNoops : Pass<"vai-remove-inference-noops"> {
  let summary = "Remove nodes that do nothing at inference";
  let description = [{
    Replaces by their input: `vai.dropout`, `vai.identity`, a `vai.reshape`
    whose result type equals its input type, a `vai.transpose` with the
    identity permutation, a `vai.squeeze` of no axes and a `vai.concat` of a
    single input. Then erases every vai op whose results are unused (dead
    values), so branches that feed nothing disappear.
  }];
  let dependentDialects = ["::mlir::vai::VaiDialect"];
  let statistics = [
    Statistic<"numRemoved", "num-removed", "Number of no-op nodes removed">,
    Statistic<"numDead", "num-dead", "Number of dead nodes erased">
  ];
}

#endif // VAI_TRANSFORMS_PASSES_TD
