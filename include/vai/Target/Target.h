//===- Target.h - The one description of the DPU target ---------*- C++ -*-===//
//
// Everything the compiler, the quantizer and the simulator know about the
// hardware comes from here: the engines, banks and limits are read from
// Debian's target-factory (never hard-coded), and the figures target-factory
// lacks (clock, DDR bandwidth, latencies, our ISA's shift ranges) are added
// in Target.cpp, each with its source or marked as our assumption
// (docs/isa.md repeats them).
//
//===----------------------------------------------------------------------===//
#ifndef VAI_TARGET_TARGET_H
#define VAI_TARGET_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vai::target {

/// A set of integers written like target-factory's limits: "1-16", "1,2,4",
/// "1-3,8".
class IntSet {
public:
  /// Parses `spec`; an error names the malformed part.
  static llvm::Expected<IntSet> parse(llvm::StringRef spec);
  bool contains(int64_t v) const;
  /// Smallest and largest member (0, 0 when empty).
  int64_t min() const;
  int64_t max() const;
  std::string str() const;

private:
  std::vector<std::pair<int64_t, int64_t>> ranges; // inclusive, sorted
};

struct BankGroup {
  std::string name;
  int64_t baseId = 0;
  int64_t banks = 0;
  int64_t widthBytes = 0; ///< bytes per bank word (channels per word)
  int64_t depth = 0;      ///< words per bank
  bool isParam = false;   ///< weights/bias (CONVW) rather than feature maps
  int64_t bytes() const { return banks * widthBytes * depth; }
};

/// Activations an engine applies on the fly.
struct Nonlinear {
  bool relu = false, prelu = false, leakyRelu = false, relu6 = false;
};

struct ConvEngine {
  int64_t inputChannelParallel = 0, outputChannelParallel = 0,
          pixelParallel = 0;
  IntSet kernel, stride;
  Nonlinear nonlinear;
};
struct PoolEngine {
  int64_t channelParallel = 0, pixelParallel = 0;
  bool max = false, avg = false;
  IntSet maxKernel, maxStride, avgKernel, avgStride;
};
struct EltwiseEngine {
  int64_t channelParallel = 0, pixelParallel = 0;
  bool add = false;
  Nonlinear nonlinear;
};
struct DepthwiseEngine {
  bool present = false;
  int64_t channelParallel = 0, pixelParallel = 0;
  IntSet kernel, stride;
  Nonlinear nonlinear;
};

/// Figures for the timing model that target-factory does not give.
struct Timing {
  double clockMHz = 0;
  /// DDR bytes per DPU cycle for the load and for the save engine.
  double loadBytesPerCycle = 0, saveBytesPerCycle = 0;
  /// Fixed cycles before an instruction's first result (pipeline fill,
  /// DDR burst setup).
  int64_t loadLatency = 0, saveLatency = 0, convLatency = 0, poolLatency = 0,
          eltwiseLatency = 0, depthwiseLatency = 0;
};

/// Ranges of the shifts our ISA encodes (docs/quantization.md).
struct QuantLimits {
  int64_t shiftBiasMin = 0, shiftBiasMax = 0;
  int64_t shiftCutMin = 0, shiftCutMax = 0;
  int64_t activationMin = 0, activationMax = 0; ///< feature-map integers
  int64_t weightMin = 0, weightMax = 0;
  int64_t padMax = 0; ///< conv/pool padding per side (PG400)
};

struct Target {
  std::string name, type;
  uint64_t fingerprint = 0;
  int64_t batch = 0;
  std::vector<BankGroup> bankGroups;
  ConvEngine conv;
  PoolEngine pool;
  EltwiseEngine eltwise;
  DepthwiseEngine depthwise;
  int64_t loadChannelParallel = 0, saveChannelParallel = 0;
  Timing timing;
  QuantLimits quant;

  const BankGroup *bankGroup(llvm::StringRef name) const;
  /// Peak multiply-accumulates per cycle of the conv engine over the batch.
  int64_t peakMacsPerCycle() const {
    return conv.inputChannelParallel * conv.outputChannelParallel *
           conv.pixelParallel * batch;
  }
  /// A human-readable summary (vai-compile --print-target).
  std::string summary() const;
};

/// Names of the DPUCADF8H targets this project compiles for.
llvm::ArrayRef<llvm::StringRef> supportedTargets();

/// Reads `name` from target-factory and adds our figures. Unknown or
/// unsupported names are an error listing the supported targets (checked
/// before target-factory is asked, since it aborts on unknown names).
llvm::Expected<Target> loadTarget(llvm::StringRef name);

} // namespace vai::target

#endif // VAI_TARGET_TARGET_H
