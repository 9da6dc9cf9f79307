//===- DpuOps.cpp - dpu dialect, attributes and ops -----------------------===//
//
// The verifiers convert each op to its vai::isa instruction and apply the
// ISA's own checks (isa::validate, isa::validateProgram), so the dialect and
// the encoder accept exactly the same programs.
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Dpu/DpuOps.h"
#include "vai/Dialect/Dpu/DpuToISA.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::dpu;

#include "vai/Dialect/Dpu/DpuEnums.cpp.inc"
#include "vai/Dialect/Dpu/DpuOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "vai/Dialect/Dpu/DpuAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "vai/Dialect/Dpu/DpuOps.cpp.inc"

void DpuDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "vai/Dialect/Dpu/DpuAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "vai/Dialect/Dpu/DpuOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// ProgramOp
//===----------------------------------------------------------------------===//

void ProgramOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                      StringRef target) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getTargetAttrName(state.name),
                     builder.getStringAttr(target));
  state.addRegion()->emplaceBlock();
}

LogicalResult ProgramOp::verifyRegions() {
  for (Operation &op : getBody().front())
    if (!isa<LoadOp, SaveOp, ConvInitOp, ConvOp, DwConvInitOp, DwConvOp,
             PoolInitOp, PoolOp, EltwiseOp, EndOp>(op))
      return op.emitOpError("is not a dpu instruction; a dpu.program holds "
                            "only dpu instruction ops");
  return toInstructions(*this, /*validate=*/true);
}

//===----------------------------------------------------------------------===//
// Instruction verifiers
//===----------------------------------------------------------------------===//

/// An instruction op is valid when it converts and isa::validate accepts
/// it. The ISA's message starts with the opcode ("CONVINIT: ..."), which the
/// op name already says.
static LogicalResult verifyInstruction(Operation *op) {
  FailureOr<vai::isa::Instruction> inst = toInstruction(op);
  if (failed(inst))
    return failure();
  if (auto e = vai::isa::validate(*inst)) {
    StringRef msg = e->message;
    std::string prefix =
        std::string(vai::isa::opcodeName(vai::isa::opcodeOf(*inst))) + ": ";
    msg.consume_front(prefix);
    return op->emitOpError(msg);
  }
  return success();
}

LogicalResult LoadOp::verify() { return verifyInstruction(*this); }
LogicalResult SaveOp::verify() { return verifyInstruction(*this); }
LogicalResult ConvInitOp::verify() { return verifyInstruction(*this); }
LogicalResult ConvOp::verify() { return verifyInstruction(*this); }
LogicalResult DwConvInitOp::verify() { return verifyInstruction(*this); }
LogicalResult DwConvOp::verify() { return verifyInstruction(*this); }
LogicalResult PoolInitOp::verify() { return verifyInstruction(*this); }
LogicalResult PoolOp::verify() { return verifyInstruction(*this); }
LogicalResult EltwiseOp::verify() { return verifyInstruction(*this); }
LogicalResult EndOp::verify() { return verifyInstruction(*this); }
