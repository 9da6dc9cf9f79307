//===- DpuToISA.h - dpu ops <-> vai::isa instructions -----------*- C++ -*-===//
//
// Every dpu instruction op is one vai::isa::Instruction (docs/isa.md). These
// functions convert between the two and, through lib/ISA, to and from
// machine code.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_DIALECT_DPU_DPUTOISA_H
#define VAI_DIALECT_DPU_DPUTOISA_H

#include "vai/Dialect/Dpu/DpuOps.h"
#include "vai/ISA/ISA.h"

#include "mlir/IR/Builders.h"

namespace mlir::dpu {

/// The instruction an op stands for; values are copied unchecked (use
/// isa::validate). Fails, with an error on `op`, when `op` is not a dpu
/// instruction op or an array attribute has the wrong length.
FailureOr<vai::isa::Instruction> toInstruction(Operation *op);

/// The instructions of a program, in order. Each op must convert; with
/// `validate`, the sequence must also be a valid program
/// (isa::validateProgram), the error reported on the offending op.
FailureOr<std::vector<vai::isa::Instruction>>
toInstructions(ProgramOp program, bool validate = true);

/// Creates the op for `inst` at the builder's insertion point.
Operation *buildInstruction(OpBuilder &builder, Location loc,
                            const vai::isa::Instruction &inst);

/// A new dpu.program holding `insts`; `locs` gives each instruction's
/// location (default: `loc`).
ProgramOp buildProgram(OpBuilder &builder, Location loc, StringRef name,
                       StringRef target, ArrayRef<vai::isa::Instruction> insts,
                       ArrayRef<Location> locs = {});

/// The machine code of a program (validated); errors go to the program or
/// the offending op.
FailureOr<std::vector<uint8_t>> encodeProgram(ProgramOp program);

/// Decodes machine code into a new dpu.program; a decode error is reported
/// at `loc` with its instruction index and byte offset.
FailureOr<ProgramOp> decodeProgram(OpBuilder &builder, Location loc,
                                   StringRef name, StringRef target,
                                   ArrayRef<uint8_t> code,
                                   ArrayRef<Location> locs = {});

} // namespace mlir::dpu

#endif // VAI_DIALECT_DPU_DPUTOISA_H
