//===- Isa0.h - DPUCADF8H_ISA0's figures for the simulator tests -*- C++ -*-=//
//
// DPUCADF8H_ISA0's description as lib/Target reports it, copied so that the
// simulator tests do not link LLVM; TargetDescTest checks that it equals
// machineDesc(loadTarget("DPUCADF8H_ISA0")).
//
//===----------------------------------------------------------------------===//
#ifndef VAI_UNITTESTS_SIM_ISA0_H
#define VAI_UNITTESTS_SIM_ISA0_H

#include "vai/Sim/Simulator.h"

namespace vai::sim::test {

constexpr int64_t kWb = 16;

inline MachineDesc isa0(int64_t lanes = 4) {
  MachineDesc d;
  for (const char *name : {"VB0", "VB1", "VB2"})
    d.bankGroups.push_back({name, 8, kWb, 8192, false});
  d.bankGroups.push_back({"CONVW", 16, kWb, 8192, true});
  d.lanes = lanes;
  isa::TimingParams &t = d.timing;
  t.convICP = 16;
  t.convOCP = 16;
  t.convPP = 8;
  t.dwCP = 64;
  t.dwPP = 4;
  t.poolCP = 16;
  t.poolPP = 2;
  t.eltwiseCP = 16;
  t.eltwisePP = 2;
  t.loadCP = t.saveCP = 16;
  t.loadBytesPerCycle = t.saveBytesPerCycle = 64;
  t.loadLatency = t.saveLatency = 40;
  t.convLatency = 16;
  t.dwLatency = 12;
  t.poolLatency = 8;
  t.eltwiseLatency = 8;
  d.clockMHz = 300;
  return d;
}

} // namespace vai::sim::test

#endif // VAI_UNITTESTS_SIM_ISA0_H
