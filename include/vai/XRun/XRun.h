//===- XRun.h - Run a compiled .xmodel on the simulator ---------*- C++ -*-===//
//
// Loads an xmodel written by vai-compile into a runnable plan and runs it:
// CPU subgraphs op by op with the runtime kernels (fixed-point ops in the
// integer semantics of docs/quantization.md), DPU subgraphs on the bit-exact
// DPUCADF8H simulator (vai/Sim/Simulator.h), one image per batch lane.
//
// Loading validates everything the run needs (file integrity, each DPU
// subgraph's fingerprint against the target it names, the subgraph
// attributes, the op attributes) and reports problems as errors: libxir
// aborts on bad input, so nothing reaches it unchecked.
//
// Thread safety: a loaded Model is immutable; run() is const and keeps its
// machines and buffers per call, so any number of threads may call it.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_XRUN_XRUN_H
#define VAI_XRUN_XRUN_H

#include "vai/Runtime/Tensor.h"
#include "vai/Sim/Simulator.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace vai::xrun {

/// A model input or output: its op name and shape for one image (batch 1).
struct TensorSpec {
  std::string name;
  rt::Shape shape;
};

/// Modeled DPU timing of one batch of `lanes` images, summed over the DPU
/// subgraphs.
struct Stats {
  int64_t dpuSubgraphs = 0, cpuSubgraphs = 0;
  int64_t lanes = 1;
  int64_t cycles = 0, macs = 0, peakMacsPerCycle = 0;
  double clockMHz = 0, latencySeconds = 0;
  /// Batches run by the last run() (ceil(images / lanes)).
  int64_t batches = 0;
  double fps() const { return latencySeconds > 0 ? lanes / latencySeconds : 0; }
  double macUtilisation() const {
    return cycles && peakMacsPerCycle
               ? double(macs) / (double(cycles) * peakMacsPerCycle)
               : 0;
  }
};

class Model {
public:
  /// Reads and validates `path`. Errors name the file and what is wrong.
  static llvm::Expected<std::unique_ptr<Model>> load(const std::string &path);
  ~Model();

  /// The graph's inputs (its data / data-fix ops) and outputs (ops nothing
  /// reads), in the graph's topological order.
  const std::vector<TensorSpec> &inputs() const;
  const std::vector<TensorSpec> &outputs() const;
  /// The DPU's lanes (the target's batch).
  int64_t lanes() const;

  /// Runs N images: inputs[i] is float32 [N, inputs()[i].shape[1:]...];
  /// results are float32 [N, ...] (fixed outputs dequantized). The images
  /// are run in batches of lanes() (the last one padded), spread over
  /// `threads` threads. `stats` (optional) receives the modeled timing.
  llvm::Expected<std::vector<rt::Tensor>>
  run(const std::vector<rt::Tensor> &inputs, unsigned threads = 1,
      Stats *stats = nullptr) const;

  struct Impl;

private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace vai::xrun

#endif // VAI_XRUN_XRUN_H
