//===- vai-quantize.cpp - Post-training INT8 quantization -----------------===//
//
//   vai-quantize MODEL [import flags as vai-translate's: --weights W,
//                --input-shape NAME:D0,..., --inputs/--outputs, ...]
//                --calib-images DIR|FILE.npy [--calib-count 100]
//                [--method mse|diffs|maxmin|percentile|entropy|auto|0|1]
//                [--preprocess resize=HxW,crop=S,mean=..,scale=..,bgr,gray]
//                [--config FILE] [--calib-table TABLE]
//                [--test-images DIR|FILE.npy] [--test-count 50]
//                [--output-dir quantize_result] [--target DPUCADF8H_ISA0]
//
// Like vai_q: imports any model the importers read (or a vai .mlir),
// preprocesses it for inference, calibrates on unlabeled inputs with the
// float reference interpreter, quantizes to power-of-two INT8 for the target
// and writes into the output folder:
//   quantized.mlir    the quantized model (run it with vai-run --reference)
//   calib_table.txt   tensor, method, range, fix position (editable; give it
//                     back with --calib-table to skip calibration)
//   quant_report.txt  float vs int8 per layer (cosine, SQNR) on held inputs
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/InitAll.h"
#include "vai/Quantizer/Calibrate.h"
#include "vai/Quantizer/Dataset.h"
#include "vai/Quantizer/Quantize.h"
#include "vai/Quantizer/Report.h"
#include "vai/Target/Target.h"
#include "vai/Tools/ToolSupport.h"
#include "vai/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>

using namespace llvm;
namespace quant = vai::quant;
namespace rt = vai::rt;

static cl::OptionCategory category("vai-quantize options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model>"),
                                      cl::Required, cl::cat(category));
static vai::tools::ImportFlags importFlags(category);
static cl::opt<std::string>
    calibImages("calib-images",
                cl::desc("Calibration inputs: a folder of JPEG/PNG images or "
                         ".npy samples, or one .npy of stacked samples"),
                cl::cat(category));
static cl::opt<int64_t> calibCount("calib-count",
                                   cl::desc("Calibration samples to use "
                                            "(default 100)"),
                                   cl::init(100), cl::cat(category));
static cl::opt<std::string>
    methodName("method",
               cl::desc("Position method: mse (default), diffs (vai_q's "
                        "default, its 1), maxmin (vai_q's 0), percentile, "
                        "entropy, auto"),
               cl::init("mse"), cl::cat(category));
static cl::opt<double> percentile("percentile",
                                  cl::desc("Percentile for --method "
                                           "percentile (default 99.99)"),
                                  cl::init(99.99), cl::cat(category));
static cl::opt<std::string>
    preprocessSpec("preprocess",
                   cl::desc("Image preprocessing: resize=HxW, shorter-side=S, "
                            "crop=HxW, mean=a:b:c, scale=a:b:c, std=a:b:c, "
                            "bgr, gray (comma-separated)"),
                   cl::cat(category));
static cl::opt<std::string>
    configPath("config",
               cl::desc("File of 'option = value' lines (any option above "
                        "without its dashes); the command line wins"),
               cl::cat(category));
static cl::opt<std::string>
    calibTablePath("calib-table",
                   cl::desc("Use this calibration table instead of "
                            "calibrating"),
                   cl::cat(category));
static cl::opt<std::string>
    testImages("test-images",
               cl::desc("Held-out inputs for the report (default: the "
                        "calibration folder's samples after the ones used)"),
               cl::cat(category));
static cl::opt<int64_t> testCount("test-count",
                                  cl::desc("Held-out samples (default 50)"),
                                  cl::init(50), cl::cat(category));
static cl::opt<std::string> outputDir("output-dir",
                                      cl::desc("Output folder (default "
                                               "quantize_result)"),
                                      cl::init("quantize_result"),
                                      cl::cat(category));
static cl::opt<bool>
    equalize("equalize",
             cl::desc("Cross-layer equalization before calibration (default "
                      "on; --equalize=false to skip)"),
             cl::init(true), cl::cat(category));
static cl::opt<bool> replaceRelu6(
    "replace-relu6",
    cl::desc("Let equalization turn a fused relu6 into relu, as vai_q's "
             "replace_relu6 (default on)"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> targetName("target",
                                       cl::desc("DPU target (default "
                                                "DPUCADF8H_ISA0)"),
                                       cl::init("DPUCADF8H_ISA0"),
                                       cl::cat(category));

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-quantize") << msg << "\n";
  return 1;
}

/// Applies the config file's entries to options not given on the command
/// line.
static Error applyConfig(StringRef path) {
  auto entries = quant::readConfig(path);
  if (!entries)
    return entries.takeError();
  auto &all = cl::getRegisteredOptions();
  for (auto &[key, value] : *entries) {
    cl::Option *opt = all.lookup(key);
    if (!opt || key == "config" ||
        !llvm::is_contained(opt->Categories, &category))
      return createStringError(inconvertibleErrorCode(),
                               path + ": unknown option '" + key + "'");
    if (opt->getNumOccurrences())
      continue; // the command line wins
    if (opt->addOccurrence(0, key, value))
      return createStringError(inconvertibleErrorCode(),
                               path + ": bad value '" + value + "' for '" +
                                   key + "'");
  }
  return Error::success();
}

/// A one-line progress bar on stderr (redrawn on a terminal, else printed
/// every 10%).
class Progress {
public:
  Progress(StringRef what, int64_t total)
      : what(what.str()), total(std::max<int64_t>(total, 1)),
        tty(sys::Process::StandardErrIsDisplayed()) {}
  void update(int64_t done) {
    int pct = static_cast<int>(100 * done / total);
    if (!tty && pct / 10 == lastPct / 10 && done != total)
      return;
    lastPct = pct;
    int bar = 30 * done / total;
    errs() << (tty ? "\r" : "") << formatv("{0,-12} [", what)
           << std::string(bar, '#') << std::string(30 - bar, '.')
           << formatv("] {0}/{1}", done, total) << (tty ? "" : "\n");
    if (tty && done == total)
      errs() << "\n";
  }

private:
  std::string what;
  int64_t total;
  bool tty;
  int lastPct = -100;
};

/// Input sets of `batch` samples [first, first + count) of `data`.
struct Batches {
  const quant::Dataset *data = nullptr;
  rt::Shape inputShape; ///< the model's argument, batch first
  quant::Preprocess pre;
  int64_t first = 0, count = 0, next = 0;
  std::string error;

  int64_t batch() const { return inputShape[0]; }
  int64_t sets() const { return count / batch(); }
  bool operator()(std::vector<rt::Tensor> &out) {
    if (!error.empty() || next + batch() > count)
      return false;
    rt::Shape entry(inputShape.begin() + 1, inputShape.end());
    rt::Tensor t(rt::DType::F32, inputShape);
    size_t bytes = t.byteSize() / batch();
    for (int64_t b = 0; b < batch(); ++b) {
      auto s = data->sample(first + next + b, entry, pre);
      if (!s) {
        error = toString(s.takeError());
        return false;
      }
      std::memcpy(static_cast<char *>(t.raw()) + b * bytes, s->raw(), bytes);
    }
    next += batch();
    out.push_back(std::move(t));
    return true;
  }
};

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "vai-mlir post-training INT8 quantizer\n");
  if (!configPath.empty())
    if (Error e = applyConfig(configPath))
      return fail(toString(std::move(e)));

  quant::Preprocess pre;
  if (Error e = quant::parsePreprocess(preprocessSpec, pre))
    return fail(toString(std::move(e)));
  std::optional<quant::Method> method;
  bool autoMethod = methodName == "auto";
  if (methodName == "0")
    method = quant::Method::MaxMin;
  else if (methodName == "1")
    method = quant::Method::Diffs;
  else if (!autoMethod)
    method = quant::parseMethod(methodName);
  if (!method && !autoMethod)
    return fail("--method " + methodName +
                ": expected diffs, maxmin, percentile, entropy, mse, auto, "
                "0 or 1");
  if (calibTablePath.empty() && calibImages.empty())
    return fail("give calibration inputs with --calib-images (or a "
                "calibration table with --calib-table)");
  if (calibCount < 1 || testCount < 0)
    return fail("--calib-count must be positive and --test-count >= 0");
  auto target = vai::target::loadTarget(targetName);
  if (!target)
    return fail(toString(target.takeError()));

  mlir::MLIRContext context;
  vai::loadAllDialects(context);
  mlir::ScopedDiagnosticHandler handler(&context,
                                        vai::tools::printLayerDiagnostic);
  std::string loadError;
  mlir::func::FuncOp func;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importFlags.loadFunction(context, modelPath, func, loadError);
  if (!module)
    return fail(loadError);

  // Preprocessing for inference, then cross-layer equalization.
  if (Error e = quant::preprocessForQuantization(*module))
    return fail(modelPath + ": " + toString(std::move(e)));
  // The float model before equalization: when equalization changes the
  // function (relu6 turned into relu), the report also compares the outputs
  // with it.
  mlir::OwningOpRef<mlir::ModuleOp> original;
  if (equalize && replaceRelu6)
    original = module->clone();
  Expected<int64_t> replacedRelu6 =
      equalize ? quant::equalizeForQuantization(*module, replaceRelu6)
               : Expected<int64_t>(0);
  if (!replacedRelu6)
    return fail(modelPath + ": " + toString(replacedRelu6.takeError()));

  auto argType =
      func.getNumArguments() == 1
          ? dyn_cast<mlir::RankedTensorType>(func.getArgument(0).getType())
          : mlir::RankedTensorType();
  if (!argType || !argType.hasStaticShape() ||
      !argType.getElementType().isF32() || argType.getRank() < 1)
    return fail(modelPath +
                ": vai-quantize calibrates models with one "
                "statically shaped f32 input; this one has " +
                Twine(func.getNumArguments()) + " input(s)");
  rt::Shape inputShape(argType.getShape().begin(), argType.getShape().end());
  // Images go in the model's layout: NCHW when the channel axis is second.
  pre.nchw = inputShape.size() == 4 && inputShape[1] <= 4 && inputShape[3] > 4;

  if (std::error_code ec = sys::fs::create_directories(outputDir))
    return fail(outputDir + ": " + ec.message());
  auto outPath = [](StringRef name) {
    SmallString<256> p(outputDir);
    sys::path::append(p, name);
    return std::string(p);
  };
  auto start = std::chrono::steady_clock::now();

  // Calibration, or a given table.
  std::optional<quant::Dataset> calibData;
  int64_t calibUsed = 0;
  std::vector<quant::CalibEntry> table;
  if (!calibTablePath.empty()) {
    auto read = quant::readCalibTable(calibTablePath);
    if (!read)
      return fail(toString(read.takeError()));
    if (read->empty())
      return fail(calibTablePath + ": the calibration table has no entries");
    table = std::move(*read);
  } else {
    auto data = quant::Dataset::open(calibImages);
    if (!data)
      return fail(toString(data.takeError()));
    calibData = std::move(*data);
    Batches calib{&*calibData, inputShape, pre};
    calib.count = std::min(calibCount.getValue(), calibData->size());
    if (calib.sets() == 0)
      return fail(formatv("{0}: {1} sample(s); the model's batch is {2} "
                          "(set it with --input-shape)",
                          calibImages, calibData->size(), calib.batch()));
    calibUsed = calib.sets() * calib.batch();
    Progress bar("calibrating", calib.sets());
    std::vector<std::vector<rt::Tensor>> kept; // for the auto method
    auto stats = quant::collectStats(
        func,
        [&](std::vector<rt::Tensor> &in) {
          if (!calib(in))
            return false;
          if (autoMethod && kept.size() < 8)
            kept.push_back(in);
          return true;
        },
        [&](int64_t done) { bar.update(done); });
    if (!calib.error.empty())
      return fail(calib.error);
    if (!stats)
      return fail(toString(stats.takeError()));
    quant::PositionChoice choice;
    if (autoMethod) {
      Progress autoBar("auto method", stats->order.size());
      auto c = quant::chooseAutoPositions(
          func, *stats, kept, percentile,
          [&](int64_t done, int64_t) { autoBar.update(done); });
      if (!c)
        return fail(toString(c.takeError()));
      choice = std::move(*c);
    } else {
      choice = quant::choosePositions(*stats, *method, percentile);
    }
    if (!choice.problems.empty()) {
      for (const std::string &p : choice.problems)
        errs() << "  tensor " << p << "\n";
      return fail(Twine(choice.problems.size()) +
                  " tensor(s) cannot be quantized (listed above): check the "
                  "calibration inputs and their preprocessing");
    }
    table = std::move(choice.entries);
    if (Error e = quant::writeCalibTable(outPath("calib_table.txt"), table))
      return fail(toString(std::move(e)));
  }

  // Quantization of a copy; the float model stays for the report.
  mlir::OwningOpRef<mlir::ModuleOp> quantModule = module->clone();
  mlir::func::FuncOp quantFunc = vai::tools::pickFunction(*quantModule, "");
  std::map<std::string, int> positions;
  for (const quant::CalibEntry &e : table)
    positions[e.tensor] = e.fixPoint;
  auto summary = quant::quantizeFunction(quantFunc, positions, *target);
  if (!summary)
    return fail((calibTablePath.empty() ? modelPath : calibTablePath) + ": " +
                toString(summary.takeError()));
  if (Error e = vai::tools::writeFileAtomically(
          outPath("quantized.mlir"),
          vai::tools::printWithLocations(*quantModule)))
    return fail(toString(std::move(e)));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  outs() << formatv("quantized for {0}: {1} layer(s) int8 on the DPU, {2} "
                    "left float for the CPU\n",
                    target->name, summary->quantized.size(),
                    summary->leftFloat.size());
  if (*replacedRelu6)
    outs() << formatv("  equalization turned {0} relu6 into relu (the float "
                      "model changes where those activations exceed 6)\n",
                      *replacedRelu6);
  for (const auto &[layer, reason] : summary->leftFloat)
    outs() << "  float: " << layer << ": " << reason << "\n";
  for (const std::string &a : summary->adjustments)
    outs() << "  adjusted: " << a << "\n";

  // The report on held-out inputs.
  std::optional<quant::Dataset> testData;
  int64_t testFirst = 0;
  if (!testImages.empty()) {
    auto data = quant::Dataset::open(testImages);
    if (!data)
      return fail(toString(data.takeError()));
    testData = std::move(*data);
  } else if (calibData && calibData->size() - calibUsed >= inputShape[0]) {
    testData = calibData;
    testFirst = calibUsed;
  }
  if (testData && testCount > 0) {
    Batches test{&*testData, inputShape, pre, testFirst};
    test.count = std::min(testCount.getValue(), testData->size() - testFirst);
    Progress bar("reporting", test.sets());
    // The float model before equalization, when that changed the function.
    mlir::func::FuncOp originalFunc =
        *replacedRelu6 ? vai::tools::pickFunction(*original, "")
                       : mlir::func::FuncOp();
    auto report = quant::compareModels(
        func, quantFunc, test, [&](int64_t done) { bar.update(done); },
        originalFunc);
    if (!test.error.empty())
      return fail(test.error);
    if (!report)
      return fail(toString(report.takeError()));
    std::string text = quant::formatReport(*report);
    if (Error e =
            vai::tools::writeFileAtomically(outPath("quant_report.txt"), text))
      return fail(toString(std::move(e)));
    // The worst layers and the outputs on stdout.
    std::vector<const quant::TensorComparison *> worst;
    for (const auto &c : report->tensors)
      worst.push_back(&c);
    llvm::sort(worst,
               [](auto *a, auto *b) { return a->cosine() < b->cosine(); });
    outs() << formatv("report on {0} held-out input set(s) -> {1}\n",
                      report->samples, outPath("quant_report.txt"));
    for (size_t i = 0; i < std::min<size_t>(3, worst.size()); ++i)
      outs() << formatv("  lowest cosine: {0} {1:F6}\n", worst[i]->name,
                        worst[i]->cosine());
    auto printOutputs = [](const quant::OutputComparison &r, StringRef vs) {
      for (size_t i = 0; i < r.outputs.size(); ++i) {
        outs() << formatv("  output {0}{1}: cosine {2:F6}, SQNR {3:F2} dB", i,
                          vs, r.outputs[i].cosine(), r.outputs[i].sqnrDb());
        if (r.top1Rows[i])
          outs() << formatv(", top-1 agreement {0:F2}% ({1}/{2})",
                            100.0 * r.top1Agree[i] / r.top1Rows[i],
                            r.top1Agree[i], r.top1Rows[i]);
        outs() << "\n";
      }
    };
    printOutputs(report->outputs, "");
    printOutputs(report->outputsVsOriginal,
                 " vs the float model before equalization");
  } else {
    outs() << "report: no held-out inputs (give --test-images)\n";
  }
  outs() << formatv("quantization took {0:F1} s; wrote {1}\n", seconds,
                    outPath("quantized.mlir"));
  return 0;
}
