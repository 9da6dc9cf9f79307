//===- ProgramInfo.h - What a dpu.program tells the xmodel ------*- C++ -*-===//
//
// -vai-lower-to-dpu leaves on each `dpu.program` the facts the .xmodel
// needs: which partition subgraph it runs, the DDR register sizes, the
// parameter blob, where each input and output tensor lives, and its modeled
// work. They are discardable attributes until the dpu dialect's ODS carries
// them; this file is the only place that reads them.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_XMODEL_PROGRAMINFO_H
#define VAI_XMODEL_PROGRAMINFO_H

#include "vai/Dialect/Dpu/DpuOps.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vai::xmodel {

/// One input or output tensor of a DPU subgraph, for one batch lane.
struct ProgramIO {
  std::string name; ///< the layer (XIR op) name
  bool isInput = false;
  int64_t reg = 0, offset = 0;
  std::vector<int64_t> shape; ///< NHWC
  int64_t fixPoint = 0;
};

struct ProgramInfo {
  std::string symbol; ///< e.g. "subgraph_0"
  std::string target;
  int64_t subgraph = 0;
  /// Bytes of register r: 0 = parameters, 1 = workspace per lane, then
  /// each I/O register per lane.
  std::vector<int64_t> regSizes;
  std::vector<char> params; ///< reg 0's contents
  std::vector<ProgramIO> io;
  int64_t macs = 0, cycles = 0;
};

/// Reads and checks the attributes (their presence, types and ranges); an
/// error names the program and the attribute.
llvm::Expected<ProgramInfo> readProgramInfo(mlir::dpu::ProgramOp program);

} // namespace vai::xmodel

#endif // VAI_XMODEL_PROGRAMINFO_H
