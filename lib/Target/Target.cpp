//===- Target.cpp - The one description of the DPU target ----------------===//
//
// The hardware structure comes from target-factory. The figures below it
// lacks are collected in addOurFigures(), with their sources.
//
//===----------------------------------------------------------------------===//

#include "vai/Target/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <vitis/ai/target_factory.hpp>

#include <algorithm>

using llvm::StringRef;

namespace vai::target {

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// IntSet
//===----------------------------------------------------------------------===//

llvm::Expected<IntSet> IntSet::parse(StringRef spec) {
  IntSet set;
  llvm::SmallVector<StringRef> parts;
  spec.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    auto [lo, hi] = part.split('-');
    bool isRange = part.contains('-');
    int64_t a = 0, b = 0;
    bool bad = lo.trim().getAsInteger(10, a);
    if (isRange)
      bad |= hi.trim().getAsInteger(10, b);
    else
      b = a;
    if (bad || a > b)
      return makeError("malformed range '" + part + "' in '" + spec + "'");
    set.ranges.emplace_back(a, b);
  }
  llvm::sort(set.ranges);
  return set;
}

bool IntSet::contains(int64_t v) const {
  return llvm::any_of(ranges,
                      [&](auto r) { return r.first <= v && v <= r.second; });
}

int64_t IntSet::min() const {
  return ranges.empty() ? 0 : ranges.front().first;
}

int64_t IntSet::max() const {
  int64_t m = 0;
  for (auto r : ranges)
    m = std::max(m, r.second);
  return m;
}

std::string IntSet::str() const {
  std::string s;
  for (auto [a, b] : ranges) {
    if (!s.empty())
      s += ',';
    s += a == b ? std::to_string(a)
                : std::to_string(a) + "-" + std::to_string(b);
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Reading target-factory
//===----------------------------------------------------------------------===//

namespace {

using Proto = vitis::ai::Target;

template <typename NonlinearProto>
Nonlinear readNonlinear(const NonlinearProto &n) {
  Nonlinear out;
  for (int i = 0; i < n.nonlinear_type_size(); ++i) {
    switch (n.nonlinear_type(i)) {
    case vitis::ai::Target_Nonlinear_NonlinearType_relu:
      out.relu = true;
      break;
    case vitis::ai::Target_Nonlinear_NonlinearType_prelu:
      out.prelu = true;
      break;
    case vitis::ai::Target_Nonlinear_NonlinearType_leaky_relu:
      out.leakyRelu = true;
      break;
    case vitis::ai::Target_Nonlinear_NonlinearType_relu_six:
      out.relu6 = true;
      break;
    default:
      break;
    }
  }
  return out;
}

/// Parses a kernel/stride limit pair; an empty limit means "any".
llvm::Error readLimit(StringRef what, const std::string &kernel,
                      const std::string &stride, IntSet &k, IntSet &s) {
  auto pk = IntSet::parse(kernel.empty() ? "1-16" : kernel);
  if (!pk)
    return makeError(what + " kernel limit: " + toString(pk.takeError()));
  auto ps = IntSet::parse(stride.empty() ? "1-8" : stride);
  if (!ps)
    return makeError(what + " stride limit: " + toString(ps.takeError()));
  k = *pk;
  s = *ps;
  return llvm::Error::success();
}

llvm::Expected<Target> fromProto(const Proto &p) {
  Target t;
  t.name = p.name();
  t.type = p.type();
  t.batch = p.batch();
  for (const auto &g : p.bank_group())
    t.bankGroups.push_back({g.name(), g.base_id(), g.bank_num(), g.bank_width(),
                            g.bank_depth(), g.type() == "Param"});
  t.loadChannelParallel = p.load_engine().channel_parallel();
  t.saveChannelParallel = p.save_engine().channel_parallel();

  const auto &conv = p.conv_engine();
  t.conv.inputChannelParallel = conv.input_channel_parallel();
  t.conv.outputChannelParallel = conv.output_channel_parallel();
  t.conv.pixelParallel = conv.pixel_parallel();
  t.conv.nonlinear = readNonlinear(conv.nonlinear());
  if (auto e =
          readLimit("conv", conv.conv_limit().kernel_size(),
                    conv.conv_limit().stride(), t.conv.kernel, t.conv.stride))
    return std::move(e);

  const auto &pool = p.pool_engine();
  t.pool.channelParallel = pool.channel_parallel();
  t.pool.pixelParallel = pool.pixel_parallel();
  for (int i = 0; i < pool.pool_type_size(); ++i) {
    t.pool.max |= pool.pool_type(i) == vitis::ai::Target_Pool_PoolType_max;
    t.pool.avg |= pool.pool_type(i) == vitis::ai::Target_Pool_PoolType_avg;
  }
  if (auto e = readLimit("max pool", pool.max_limit().kernel_size(),
                         pool.max_limit().stride(), t.pool.maxKernel,
                         t.pool.maxStride))
    return std::move(e);
  if (auto e = readLimit("avg pool", pool.avg_limit().kernel_size(),
                         pool.avg_limit().stride(), t.pool.avgKernel,
                         t.pool.avgStride))
    return std::move(e);

  const auto &elt = p.eltwise_engine();
  t.eltwise.channelParallel = elt.channel_parallel();
  t.eltwise.pixelParallel = elt.pixel_parallel();
  t.eltwise.nonlinear = readNonlinear(elt.nonlinear());
  for (int i = 0; i < elt.elew_type_size(); ++i)
    t.eltwise.add |= elt.elew_type(i) == vitis::ai::Target_Eltwise_ElewType_add;

  if (p.has_dwconv_engine()) {
    const auto &dw = p.dwconv_engine();
    t.depthwise.present = true;
    t.depthwise.channelParallel = dw.channel_parallel();
    t.depthwise.pixelParallel = dw.pixel_parallel();
    t.depthwise.nonlinear = readNonlinear(dw.nonlinear());
    if (auto e = readLimit("depthwise", dw.dwconv_limit().kernel_size(),
                           dw.dwconv_limit().stride(), t.depthwise.kernel,
                           t.depthwise.stride))
      return std::move(e);
  }
  return t;
}

/// The figures target-factory does not carry. Sources:
/// - clock: 300 MHz, the DPUCADF8H kernel clock on the U200 (PG400 and the
///   Vitis AI 1.4.1 model zoo's U200 figures).
/// - DDR: our assumption. One 512-bit AXI port each for the load and the save
///   engine at the DPU clock (64 bytes/cycle = 19.2 GB/s, one DDR4-2400
///   channel's peak).
/// - latencies: our assumptions for the pipeline fill of each engine and the
///   setup of a DDR burst; they are the timing model's knobs, not
///   measurements.
/// - shift ranges: our ISA's field widths (4-bit shift_bias, 5-bit
///   shift_cut, docs/isa.md), activation/weight ranges from vai_q for
///   DPUCADF8H, padding 0-15 from PG400.
void addOurFigures(Target &t) {
  t.timing.clockMHz = 300.0;
  t.timing.loadBytesPerCycle = 64.0;
  t.timing.saveBytesPerCycle = 64.0;
  t.timing.loadLatency = 40;
  t.timing.saveLatency = 40;
  t.timing.convLatency = 16;
  t.timing.poolLatency = 8;
  t.timing.eltwiseLatency = 8;
  t.timing.depthwiseLatency = 12;
  t.quant = {0, 15, 0, 31, -127, 127, -128, 127, 15};
}

} // namespace

//===----------------------------------------------------------------------===//
// Target
//===----------------------------------------------------------------------===//

const BankGroup *Target::bankGroup(StringRef n) const {
  for (const BankGroup &g : bankGroups)
    if (g.name == n)
      return &g;
  return nullptr;
}

std::string Target::summary() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0} ({1}), fingerprint 0x{2:x-16}, batch {3}\n", name,
                      type, fingerprint, batch);
  for (const BankGroup &g : bankGroups)
    os << llvm::formatv("  bank group {0}: {1} banks x {2} bytes x {3} "
                        "({4} KiB){5}\n",
                        g.name, g.banks, g.widthBytes, g.depth,
                        g.bytes() / 1024, g.isParam ? ", weights" : "");
  os << llvm::formatv("  conv: {0} ICP x {1} OCP x {2} pixels, kernel {3}, "
                      "stride {4}\n",
                      conv.inputChannelParallel, conv.outputChannelParallel,
                      conv.pixelParallel, conv.kernel.str(), conv.stride.str());
  os << llvm::formatv("  pool: {0} ch x {1} px, max kernel {2}, avg kernel "
                      "{3}\n",
                      pool.channelParallel, pool.pixelParallel,
                      pool.maxKernel.str(), pool.avgKernel.str());
  os << llvm::formatv("  eltwise: {0} ch x {1} px{2}\n",
                      eltwise.channelParallel, eltwise.pixelParallel,
                      eltwise.add ? ", add" : "");
  if (depthwise.present)
    os << llvm::formatv("  depthwise: {0} ch x {1} px, kernel {2}\n",
                        depthwise.channelParallel, depthwise.pixelParallel,
                        depthwise.kernel.str());
  os << llvm::formatv("  clock {0} MHz, peak {1} MAC/cycle ({2:f1} TOPS)\n",
                      timing.clockMHz, peakMacsPerCycle(),
                      2.0 * peakMacsPerCycle() * timing.clockMHz * 1e-6);
  return s;
}

llvm::ArrayRef<StringRef> supportedTargets() {
  static const StringRef names[] = {"DPUCADF8H_ISA0"};
  return names;
}

llvm::Expected<Target> loadTarget(StringRef name) {
  // target-factory aborts on names it does not know: check first.
  if (!llvm::is_contained(supportedTargets(), name))
    return makeError("unknown target '" + name + "'; supported targets: " +
                     llvm::join(supportedTargets(), ", "));
  const auto *factory = vitis::ai::target_factory();
  if (!factory->is_registered_target(name.str()))
    return makeError("target '" + name +
                     "' is not registered in this target-factory");
  Proto proto = factory->create(name.str());
  auto target = fromProto(proto);
  if (!target)
    return target.takeError();
  target->fingerprint = factory->get_fingerprint(name.str());
  addOurFigures(*target);
  return target;
}

} // namespace vai::target
