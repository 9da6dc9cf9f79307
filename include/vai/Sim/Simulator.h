//===- Simulator.h - Instruction-level DPUCADF8H simulator ------*- C++ -*-===//
//
// Runs programs of our DPUCADF8H instruction set (docs/isa.md) on modeled
// bank memories and caller-provided DDR buffers, bit for bit as the ISA's
// semantics say, and reports the modeled timing of vai::isa::schedule.
//
// Functional execution is program order (docs/isa.md's correctness
// contract); the timing is the parallel-engine schedule. Plain C++17: links
// VAIISA and VAIRuntime only (no LLVM), so runner plugins can use it.
//
// Errors never abort: every out-of-range bank or DDR access, illegal operand
// group or malformed program is returned as an isa::Error naming the
// instruction, what was accessed and the bound it broke.
//
// Thread safety: a MachineDesc is plain data; a Machine owns its memories and
// is used by one thread at a time. Any number of Machines (e.g. one per
// thread, built from the same MachineDesc) run concurrently.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_SIM_SIMULATOR_H
#define VAI_SIM_SIMULATOR_H

#include "vai/ISA/ISA.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vai::sim {

using isa::Error;
template <typename T> using Result = isa::Result<T>;

/// One on-chip bank group (vai::target::BankGroup): `banks` banks of
/// `depth` words of `widthBytes` bytes, addressed as one linear word space
/// (word w is bank w % banks, depth address w / banks).
struct BankGroupDesc {
  std::string name;
  int64_t banks = 0, widthBytes = 0, depth = 0;
  bool isParam = false; ///< weights/biases (one shared copy), not feature maps
  int64_t words() const { return banks * depth; }
  int64_t bytes() const { return words() * widthBytes; }
};

/// What the simulator needs to know about the DPU, filled by the caller from
/// a vai::target::Target: bankGroups from Target::bankGroups, lanes from
/// Target::batch, timing as mlir::dpu::timingParams (vai/Dialect/Dpu/
/// DpuTarget.h) gives it, clockMHz from Target::timing, the activation range
/// from Target::quant.
struct MachineDesc {
  std::vector<BankGroupDesc> bankGroups;
  int64_t lanes = 1; ///< batch lanes run in lockstep
  /// Engine parallelism, DDR bandwidth and latencies (timing.batch is
  /// ignored: the schedule uses `lanes`).
  isa::TimingParams timing;
  double clockMHz = 300;
  int64_t activationMin = -127, activationMax = 127;

  /// Conv engine MACs per cycle over all lanes (Target::peakMacsPerCycle).
  int64_t peakMacsPerCycle() const {
    return timing.convICP * timing.convOCP * timing.convPP * lanes;
  }
  /// Nullopt when the description is usable, else what is wrong.
  std::optional<std::string> check() const;
};

/// The modeled timing of one run (docs/isa.md, "Timing model").
struct RunStats {
  /// Per instruction: cycles, start and end in the parallel schedule.
  std::vector<int64_t> cycles, start, end;
  int64_t totalCycles = 0;
  /// Busy cycles and instruction counts per engine (isa::Engine index).
  int64_t engineBusy[isa::kNumEngines] = {};
  int64_t engineInstructions[isa::kNumEngines] = {};
  /// Multiply-accumulates over all lanes (CONV and DWCONV).
  int64_t macs = 0;
  /// Bytes moved between DDR and the banks over all lanes (reg-0 reads
  /// count once, as the timing model does).
  int64_t ddrBytesLoaded = 0, ddrBytesSaved = 0;
  int64_t lanes = 1;
  double clockMHz = 0;
  double latencySeconds = 0; ///< totalCycles at the clock
  double fps = 0;            ///< lanes images per latency
  double macUtilisation = 0; ///< macs / (totalCycles * peakMacsPerCycle)
};

/// Prepared convolutions (weights repacked for the CPU), keyed by geometry
/// and weight bytes, so that running a program again (the next batch) or on
/// another Machine does not prepare them again. Thread-safe: Machines on
/// several threads may share one cache. Holds at most about `maxBytes` of
/// keys (weights) and is emptied when full.
class ConvCache {
public:
  explicit ConvCache(size_t maxBytes = size_t(256) << 20);
  ~ConvCache();
  ConvCache(const ConvCache &) = delete;
  ConvCache &operator=(const ConvCache &) = delete;
  /// Prepared convolutions held.
  size_t size() const;
  /// How many lookups found a prepared convolution / prepared a new one.
  size_t hits() const;
  size_t misses() const;

private:
  friend class Machine;
  struct Impl;
  std::unique_ptr<Impl> impl;
};

class Machine {
public:
  /// The description must pass MachineDesc::check() (create() checks it).
  /// Without a `cache` the machine makes its own.
  static Result<std::unique_ptr<Machine>>
  create(const MachineDesc &desc, std::shared_ptr<ConvCache> cache = nullptr);
  ~Machine();
  Machine(const Machine &) = delete;
  Machine &operator=(const Machine &) = delete;

  const MachineDesc &desc() const;

  /// Binds DDR register 0 (parameters, read-only, shared by every lane).
  void bindParams(const void *data, size_t size);
  /// Binds register `reg` (1-7) of lane `lane` to `size` writable bytes.
  /// Fails on a bad register or lane.
  std::optional<Error> bind(int64_t reg, int64_t lane, void *data, size_t size);
  /// Forgets every binding.
  void unbindAll();

  /// Runs a program (it must pass isa::validateProgram) in program order.
  /// Memories keep their contents between runs (all zero at creation). On
  /// an error the banks and DDR hold the effects of the instructions before
  /// the failing one; a program whose schedule deadlocks does not run.
  Result<RunStats> run(const std::vector<isa::Instruction> &program);
  /// Decodes machine code (isa::decode) and runs it.
  Result<RunStats> run(const uint8_t *code, size_t size);

  /// The linear byte contents of bank group `group` for `lane` (parameter
  /// groups have one copy: lane is ignored); empty on a bad group or lane.
  /// Byte `w * widthBytes + k` is byte k of linear word w.
  std::vector<int8_t> bankBytes(int64_t group, int64_t lane) const;
  /// Fills the whole memory of every group and lane with `value`.
  void fillBanks(int8_t value);

  /// The cache of prepared convolutions this machine uses.
  ConvCache &convCache() const;

private:
  Machine(const MachineDesc &desc, std::shared_ptr<ConvCache> cache);
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// The modeled timing of a program without executing it (the same figures
/// as Machine::run reports).
Result<RunStats> modelTiming(const std::vector<isa::Instruction> &program,
                             const MachineDesc &desc);

} // namespace vai::sim

#endif // VAI_SIM_SIMULATOR_H
