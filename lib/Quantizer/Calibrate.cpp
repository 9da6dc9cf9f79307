//===- Calibrate.cpp - Collecting statistics and the calibration table ----===//
//
// Implements include/vai/Quantizer/Calibrate.h: tensor names from locations,
// statistics collection with the reference interpreter, and the text
// calibration table. Numbers are written with std::to_chars (the shortest
// text that reads back as the same double) and read with std::from_chars, so
// the table is locale-independent and round-trips every double bit-exactly.
//
//===----------------------------------------------------------------------===//

#include "vai/Quantizer/Calibrate.h"
#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/Runtime/File.h"
#include "vai/Runtime/Kernels.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using llvm::Expected;
using namespace ::vai::quant;

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The framework layer name carried by `loc`, or "" when it has none. For a
/// fused location the last name wins (see tensorNames).
StringRef layerName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (!name.getName().empty())
      return name.getName().strref();
    return layerName(name.getChildLoc());
  }
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location l : llvm::reverse(fused.getLocations()))
      if (StringRef s = layerName(l); !s.empty())
        return s;
    return {};
  }
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return layerName(call.getCallee());
  if (auto opaque = dyn_cast<OpaqueLoc>(loc))
    return layerName(opaque.getFallbackLocation());
  return {};
}

/// Hands out names, suffixing repeats with "#2", "#3", ... in order.
class NameUniquer {
public:
  /// Marks `name` as used without returning it.
  void reserve(StringRef name) { taken_.insert(name); }

  std::string get(StringRef base) {
    if (taken_.insert(base).second)
      return base.str();
    int &k = next_[base];
    k = std::max(k, 2);
    std::string name;
    do
      name = (base + "#" + llvm::Twine(k++)).str();
    while (!taken_.insert(name).second);
    return name;
  }

private:
  llvm::StringSet<> taken_;
  llvm::StringMap<int> next_;
};

/// The ops whose f32 result calibration observes: vai ops except constants.
bool isObserved(Operation &op) {
  if (!isa_and_nonnull<mlir::vai::VaiDialect>(op.getDialect()) ||
      isa<mlir::vai::ConstantOp, mlir::vai::FixOp>(op) ||
      op.getNumResults() != 1)
    return false;
  auto type = dyn_cast<ShapedType>(op.getResult(0).getType());
  return type && type.getElementType().isF32();
}

//===----------------------------------------------------------------------===//
// Table fields
//===----------------------------------------------------------------------===//

constexpr Method kAllMethods[] = {Method::MaxMin, Method::Percentile,
                                  Method::Entropy, Method::MSE, Method::Diffs};
constexpr const char *kFieldsHelp = "<tensor> <method> <min> <max> <fix_point>";

/// The shortest text that reads back as exactly `v`.
std::string formatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  assert(ec == std::errc() && "64 characters hold any double");
  (void)ec;
  return std::string(buf, end);
}

std::optional<double> parseNumber(StringRef s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+')
    s = s.drop_front();
  double v;
  auto [end, ec] = std::from_chars(s.begin(), s.end(), v);
  if (ec != std::errc() || end != s.end())
    return std::nullopt;
  return v;
}

/// Splits a table line into fields at white space; a field starting with
/// '#' starts a comment. (A '#' inside a field belongs to it, so names made
/// unique by tensorNames, "conv#2", round-trip.)
SmallVector<StringRef, 5> splitFields(StringRef line) {
  SmallVector<StringRef, 5> fields;
  for (;;) {
    line = line.ltrim();
    if (line.empty() || line.front() == '#')
      return fields;
    size_t end = line.find_if(llvm::isSpace);
    fields.push_back(line.take_front(end));
    line = line.drop_front(std::min(end, line.size()));
  }
}

/// Checks an entry's values; returns the problem, or "" when it is valid.
std::string checkEntry(const CalibEntry &e) {
  StringRef name = e.tensor;
  if (name.empty() || name.front() == '#' || llvm::any_of(name, llvm::isSpace))
    return "tensor name '" + e.tensor +
           "' is empty, starts with '#' or contains white space";
  if (!std::isfinite(e.min) || !std::isfinite(e.max))
    return "min and max must be finite";
  if (e.min > e.max)
    return "min " + formatNumber(e.min) + " > max " + formatNumber(e.max);
  if (e.fixPoint < kMinPosition || e.fixPoint > kMaxPosition)
    return llvm::formatv("fix_point {0} outside [{1}, {2}]", e.fixPoint,
                         kMinPosition, kMaxPosition)
        .str();
  return {};
}

} // namespace

namespace vai::quant {

//===----------------------------------------------------------------------===//
// Names and statistics
//===----------------------------------------------------------------------===//

TensorNames tensorNames(func::FuncOp func) {
  TensorNames names;
  NameUniquer uniquer;
  auto name = [&](Location loc, const llvm::Twine &fallback) {
    std::string base = layerName(loc).str();
    if (base.empty())
      base = fallback.str();
    std::replace_if(base.begin(), base.end(), llvm::isSpace, '_');
    return uniquer.get(base);
  };
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    names.arguments.push_back(name(arg.getLoc(), "input" + llvm::Twine(i)));
  int64_t position = 0;
  for (Block &block : func.getBody())
    for (Operation &op : block) {
      if (op.getNumResults() == 0 ||
          isa<mlir::vai::FixOp, mlir::vai::ConstantOp>(op) ||
          op.hasTrait<OpTrait::ConstantLike>())
        continue;
      names.ops[&op] = name(op.getLoc(), "op" + llvm::Twine(position++));
    }
  return names;
}

llvm::Expected<CollectedStats>
collectStats(func::FuncOp func,
             const std::function<bool(std::vector<rt::Tensor> &)> &next,
             const std::function<void(int64_t)> &progress) {
  std::unique_ptr<Interpreter> interp = Interpreter::create(func);
  if (!interp)
    return makeError("cannot prepare @" + func.getSymName() +
                     " for calibration (see the diagnostics above)");

  TensorNames names = tensorNames(func);
  CollectedStats out;
  auto addEntry = [&](const std::string &name) {
    out.order.push_back(name);
    return &out.stats.try_emplace(name).first->second;
  };
  // Arguments first; ones that are not f32 have no float statistics.
  std::vector<TensorStats *> argStats;
  for (auto [i, name] : llvm::enumerate(names.arguments))
    argStats.push_back(interp->inputSpecs()[i].dtype == rt::DType::F32
                           ? addEntry(name)
                           : nullptr);
  llvm::DenseMap<Operation *, TensorStats *> opStats;
  for (Block &block : func.getBody())
    for (Operation &op : block)
      if (isObserved(op))
        opStats[&op] = addEntry(names.ops.at(&op));

  auto observe = [&](Operation *op, const rt::Tensor &t) {
    auto it = opStats.find(op);
    if (it != opStats.end() && t.dtype() == rt::DType::F32)
      it->second->add(t.data<float>(), t.numElements());
  };
  std::vector<rt::Tensor> inputs;
  for (int64_t done = 0;;) {
    inputs.clear();
    if (!next(inputs))
      break;
    auto results = interp->run(inputs, observe);
    if (!results)
      return makeError("calibration input set " + llvm::Twine(done + 1) + ": " +
                       llvm::toString(results.takeError()));
    for (auto [stats, t] : llvm::zip(argStats, inputs))
      if (stats)
        stats->add(t.data<float>(), t.numElements());
    ++done;
    if (progress)
      progress(done);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

PositionChoice choosePositions(const CollectedStats &stats, Method method,
                               double percentile) {
  PositionChoice out;
  for (const std::string &name : stats.order) {
    const TensorStats &t = stats.stats.at(name);
    Expected<int> p = choosePosition(t, method, QuantSpec(), percentile);
    if (!p) {
      out.problems.push_back(name + ": " + llvm::toString(p.takeError()));
      continue;
    }
    out.entries.push_back({name, method, t.min(), t.max(), *p});
  }
  return out;
}

Expected<PositionChoice>
chooseAutoPositions(func::FuncOp func, const CollectedStats &stats,
                    const std::vector<std::vector<rt::Tensor>> &evalSets,
                    double percentile,
                    const std::function<void(int64_t, int64_t)> &progress) {
  std::unique_ptr<Interpreter> interp = Interpreter::create(func);
  if (!interp)
    return makeError("cannot prepare @" + func.getSymName() +
                     " (see the diagnostics above)");
  if (evalSets.empty())
    return makeError("the automatic method needs at least one input set");
  TensorNames names = tensorNames(func);
  llvm::StringMap<Operation *> opOf;
  for (auto &[op, name] : names.ops)
    opOf[name] = op;
  llvm::StringMap<size_t> argOf;
  for (auto [i, name] : llvm::enumerate(names.arguments))
    argOf[name] = i;

  std::vector<std::vector<rt::Tensor>> reference;
  for (const auto &set : evalSets) {
    auto out = interp->run(set);
    if (!out)
      return out.takeError();
    reference.push_back(std::move(*out));
  }
  auto fakeQuant = [](const rt::Tensor &t, int p) {
    rt::Tensor q(rt::DType::F32, t.shape());
    rt::fixQuantize(t.data<float>(), q.data<float>(), t.numElements(), p, -127,
                    127, rt::RoundMode::Dpu);
    return q;
  };
  // Output error with one tensor quantized at position p.
  auto outputError = [&](const std::string &name, int p) -> Expected<double> {
    double err = 0;
    Operation *target = opOf.lookup(name);
    for (auto [set, ref] : llvm::zip(evalSets, reference)) {
      std::vector<rt::Tensor> inputs = set;
      if (auto it = argOf.find(name); it != argOf.end())
        inputs[it->second] = fakeQuant(inputs[it->second], p);
      auto out = interp->run(
          inputs, nullptr,
          [&](Operation *op, const rt::Tensor &t) -> std::optional<rt::Tensor> {
            if (op != target)
              return std::nullopt;
            return fakeQuant(t, p);
          });
      if (!out)
        return out.takeError();
      for (auto [a, b] : llvm::zip(*out, ref)) {
        if (a.dtype() != rt::DType::F32)
          continue;
        const float *x = a.data<float>(), *y = b.data<float>();
        for (int64_t i = 0; i < a.numElements(); ++i)
          err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      }
    }
    return err;
  };

  PositionChoice out;
  int64_t done = 0;
  for (const std::string &name : stats.order) {
    const TensorStats &t = stats.stats.at(name);
    // Candidates in method order; the first method naming a position owns it.
    std::vector<std::pair<int, Method>> candidates;
    std::string problem;
    for (Method m : kAllMethods) {
      Expected<int> p = choosePosition(t, m, QuantSpec(), percentile);
      if (!p) {
        problem = llvm::toString(p.takeError());
        break;
      }
      if (llvm::none_of(candidates, [&](auto &c) { return c.first == *p; }))
        candidates.emplace_back(*p, m);
    }
    if (!problem.empty()) {
      out.problems.push_back(name + ": " + problem);
    } else {
      std::pair<int, Method> best = candidates.front();
      if (candidates.size() > 1) {
        double bestErr = std::numeric_limits<double>::infinity();
        for (auto [p, m] : candidates) {
          Expected<double> err = outputError(name, p);
          if (!err)
            return err.takeError();
          if (*err < bestErr || (*err == bestErr && p > best.first)) {
            bestErr = *err;
            best = {p, m};
          }
        }
      }
      out.entries.push_back({name, best.second, t.min(), t.max(), best.first});
    }
    if (progress)
      progress(++done, static_cast<int64_t>(stats.order.size()));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The calibration table
//===----------------------------------------------------------------------===//

llvm::Expected<std::vector<CalibEntry>> readCalibTable(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("cannot read calibration table '" + path +
                     "': " + buffer.getError().message());

  std::vector<CalibEntry> entries;
  llvm::StringMap<unsigned> firstLine;
  StringRef rest = (*buffer)->getBuffer();
  for (unsigned lineNo = 1; !rest.empty(); ++lineNo) {
    auto [line, tail] = rest.split('\n');
    rest = tail;
    auto fail = [&](const llvm::Twine &msg) {
      return makeError(path + ":" + llvm::Twine(lineNo) + ": " + msg);
    };
    SmallVector<StringRef, 5> fields = splitFields(line);
    if (fields.empty())
      continue;
    if (fields.size() != 5)
      return fail(llvm::formatv("expected 5 fields ({0}), got {1}", kFieldsHelp,
                                fields.size()));

    CalibEntry e;
    e.tensor = fields[0].str();
    std::optional<Method> method = parseMethod(fields[1]);
    if (!method) {
      std::string known;
      for (Method m : kAllMethods)
        known += (known.empty() ? "" : ", ") + methodName(m).str();
      return fail("unknown method '" + fields[1] + "' (expected one of " +
                  known + ")");
    }
    e.method = *method;
    std::optional<double> min = parseNumber(fields[2]);
    if (!min)
      return fail("bad min '" + fields[2] + "'");
    std::optional<double> max = parseNumber(fields[3]);
    if (!max)
      return fail("bad max '" + fields[3] + "'");
    e.min = *min;
    e.max = *max;
    if (fields[4].getAsInteger(10, e.fixPoint))
      return fail("bad fix_point '" + fields[4] + "'");
    if (std::string problem = checkEntry(e); !problem.empty())
      return fail(problem);
    auto [it, inserted] = firstLine.try_emplace(e.tensor, lineNo);
    if (!inserted)
      return fail("duplicate tensor '" + e.tensor + "' (first on line " +
                  llvm::Twine(it->second) + ")");
    entries.push_back(std::move(e));
  }
  return entries;
}

llvm::Error writeCalibTable(StringRef path,
                            llvm::ArrayRef<CalibEntry> entries) {
  auto fail = [&](const llvm::Twine &msg) {
    return makeError("cannot write calibration table '" + path + "': " + msg);
  };

  // Validate everything first, and render the rows.
  llvm::StringMap<size_t> firstEntry;
  std::vector<std::array<std::string, 5>> rows;
  std::array<size_t, 5> width{};
  for (auto [i, e] : llvm::enumerate(entries)) {
    if (std::string problem = checkEntry(e); !problem.empty())
      return fail(llvm::formatv("entry {0} (tensor '{1}'): {2}", i + 1,
                                e.tensor, problem));
    auto [it, inserted] = firstEntry.try_emplace(e.tensor, i + 1);
    if (!inserted)
      return fail(llvm::formatv("duplicate tensor '{0}' (entries {1} and {2})",
                                e.tensor, it->second, i + 1));
    rows.push_back({e.tensor, methodName(e.method).str(), formatNumber(e.min),
                    formatNumber(e.max), std::to_string(e.fixPoint)});
    for (size_t f = 0; f < 5; ++f)
      width[f] = std::max(width[f], rows.back()[f].size());
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "# vai-mlir calibration table: one tensor per line; a '#' starting "
        "a field\n"
     << "# starts a comment.\n"
     << "# Edit it and give it back with --calib-table.\n"
     << "# " << kFieldsHelp << "\n";
  for (const auto &row : rows) {
    for (size_t f = 0; f < 4; ++f)
      os << llvm::left_justify(row[f], width[f]) << ' ';
    os << row[4] << '\n';
  }

  try {
    rt::writeFileAtomically(path.str(), text);
  } catch (const std::runtime_error &e) {
    return fail(e.what());
  }
  return llvm::Error::success();
}

} // namespace vai::quant
