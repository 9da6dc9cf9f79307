//===- DpuTarget.h - dpu programs against a vai::target::Target -*- C++ -*-===//
#ifndef VAI_DIALECT_DPU_DPUTARGET_H
#define VAI_DIALECT_DPU_DPUTARGET_H

#include "vai/Dialect/Dpu/DpuOps.h"
#include "vai/ISA/ISA.h"
#include "vai/Target/Target.h"

namespace mlir::dpu {

/// The timing figures of `target` for lib/ISA's timing model.
vai::isa::TimingParams timingParams(const vai::target::Target &target);

/// Checks what the ISA encodes but `target` may not accept (docs/isa.md,
/// "Checks by target"); errors go to the offending ops.
LogicalResult verifyProgramForTarget(ProgramOp program,
                                     const vai::target::Target &target);

} // namespace mlir::dpu

#endif // VAI_DIALECT_DPU_DPUTARGET_H
