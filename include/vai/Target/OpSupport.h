//===- OpSupport.h - Which vai ops the DPU runs, and why not -----*- C++
//-*-===//
//
// One answer, read from the target description, to "can the DPU run this
// op?": the quantizer quantizes exactly the ops the DPU runs (the others stay
// float for the CPU), and the partitioner gives the same reason for every op
// it sends to the CPU.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_TARGET_OPSUPPORT_H
#define VAI_TARGET_OPSUPPORT_H

#include "vai/Target/Target.h"

#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace vai::target {

/// nullopt when `op` (a float or quantized vai op) can run on `target`;
/// otherwise why not, in words a user can act on (e.g. "kernel 17x17 is
/// outside the conv engine's 1-16"). Constants and vai.fix are neither.
std::optional<std::string> dpuUnsupportedReason(mlir::Operation *op,
                                                const Target &target);

/// Ops that carry data between DPU layers without computing (reshape,
/// flatten, squeeze, zero pad, max pooling, concat): their output keeps
/// their input's fix position, as vai_q does.
bool keepsFixPosition(mlir::Operation *op);

} // namespace vai::target

#endif // VAI_TARGET_OPSUPPORT_H
