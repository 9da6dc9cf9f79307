//===- TargetDesc.h - A simulator description from a Target -----*- C++ -*-===//
//
// Fills a vai::sim::MachineDesc from a vai::target::Target. Header-only so
// that lib/Sim stays free of LLVM: only callers that already have a Target
// (vai-run, the compiler's tests) include it. The timing figures are passed
// in as lib/ISA's TimingParams, which mlir::dpu::timingParams
// (vai/Dialect/Dpu/DpuTarget.h) computes from the same Target.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_SIM_TARGETDESC_H
#define VAI_SIM_TARGETDESC_H

#include "vai/Sim/Simulator.h"
#include "vai/Target/Target.h"

namespace vai::sim {

inline MachineDesc machineDesc(const vai::target::Target &target,
                               const isa::TimingParams &timing) {
  MachineDesc d;
  for (const vai::target::BankGroup &g : target.bankGroups)
    d.bankGroups.push_back({g.name, g.banks, g.widthBytes, g.depth, g.isParam});
  d.lanes = target.batch;
  d.timing = timing;
  d.clockMHz = target.timing.clockMHz;
  d.activationMin = target.quant.activationMin;
  d.activationMax = target.quant.activationMax;
  return d;
}

} // namespace vai::sim

#endif // VAI_SIM_TARGETDESC_H
