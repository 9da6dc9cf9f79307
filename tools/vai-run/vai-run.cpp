//===- vai-run.cpp - Run a vai model
//---------------------------------------===//
//
// vai-run --reference model.mlir --input x.npy [--input y.npy]
//         --output out.npy [--output out2.npy] [--function name]
//
// vai-run model.xmodel --input x.npy --output out.npy [--backend sim|xrt]
//         [--threads N]
//
// Runs a vai-dialect function on the float32 reference interpreter, or a
// compiled .xmodel on the DPUCADF8H simulator (vai/XRun/XRun.h). The report
// always names the backend that ran.
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/InitAll.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/Runtime/Npy.h"
#include "vai/Tools/ToolSupport.h"
#include "vai/XRun/XRun.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <glob.h>

using namespace llvm;

static cl::OptionCategory category("vai-run options");
static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model.mlir | model.xmodel>"),
                                      cl::Required, cl::cat(category));
static cl::opt<bool>
    reference("reference",
              cl::desc("Run the float32 reference interpreter (the only "
                       "backend for .mlir models)"),
              cl::cat(category));
static cl::list<std::string> inputPaths("input",
                                        cl::desc("Input .npy, one per model "
                                                 "argument, in order"),
                                        cl::cat(category));
static cl::list<std::string> outputPaths("output",
                                         cl::desc("Output .npy, one per "
                                                  "model result, in order"),
                                         cl::cat(category));
static cl::opt<std::string>
    functionName("function",
                 cl::desc("Function to run (default: 'main', or the only "
                          "function)"),
                 cl::cat(category));
static cl::opt<unsigned> repeat("repeat",
                                cl::desc("Run this many times and report "
                                         "the mean time"),
                                cl::init(1), cl::cat(category));

static cl::opt<std::string>
    backend("backend",
            cl::desc("Backend for .xmodel models: sim (the DPUCADF8H "
                     "simulator, default) or xrt (an attached FPGA)"),
            cl::init("sim"), cl::cat(category));
/// --threads N: threads running batches of an .xmodel. LLVM already
/// registers a global "threads" option, so main() takes this one out of
/// argv before parsing.
static unsigned threads = 1;

/// Removes --threads N / --threads=N from argv; false on a bad value.
static bool takeThreads(std::vector<char *> &args) {
  for (size_t i = 1; i < args.size(); ++i) {
    StringRef a(args[i]);
    if (!a.consume_front("--threads") && !a.consume_front("-threads"))
      continue;
    StringRef value;
    size_t n = 1;
    if (a.consume_front("="))
      value = a;
    else if (a.empty() && i + 1 < args.size())
      value = args[i + 1], n = 2;
    else
      continue;
    if (value.getAsInteger(10, threads) || threads == 0)
      return false;
    args.erase(args.begin() + i, args.begin() + i + n);
    --i;
  }
  return true;
}

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-run") << msg << "\n";
  return 1;
}

/// Whether the --input/--output counts fit a model with `inputs` arguments
/// and `outputs` results (`outputWord`: what the model calls them); prints
/// the mismatch.
static bool countsFit(size_t inputs, size_t outputs, const char *outputWord) {
  if (inputPaths.size() != inputs) {
    fail(Twine("the model takes ") + Twine(inputs) + " input(s); " +
         Twine(inputPaths.size()) + " --input given");
    return false;
  }
  if (!outputPaths.empty() && outputPaths.size() != outputs) {
    fail(Twine("the model has ") + Twine(outputs) + " " + outputWord + "(s); " +
         Twine(outputPaths.size()) + " --output given");
    return false;
  }
  return true;
}

/// Runs `run` --repeat times; its last results and the mean milliseconds.
static Expected<std::pair<std::vector<vai::rt::Tensor>, double>>
timed(llvm::function_ref<Expected<std::vector<vai::rt::Tensor>>()> run) {
  Expected<std::vector<vai::rt::Tensor>> results =
      std::vector<vai::rt::Tensor>();
  unsigned runs = std::max(1u, repeat.getValue());
  auto start = std::chrono::steady_clock::now();
  for (unsigned r = 0; r < runs; ++r) {
    results = run();
    if (!results)
      return results.takeError();
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count() /
              runs;
  return std::make_pair(std::move(*results), ms);
}

/// Prints each result (with its name, when known) and writes the --output
/// files; false after printing an error.
static bool writeOutputs(const std::vector<vai::rt::Tensor> &results,
                         llvm::function_ref<std::string(size_t)> name) {
  try {
    for (auto [i, t] : llvm::enumerate(results)) {
      std::string n = name(i);
      outs() << "output " << i << (n.empty() ? "" : " '" + n + "'") << ": "
             << vai::rt::dtypeName(t.dtype()) << " "
             << vai::rt::shapeToString(t.shape());
      if (i < outputPaths.size()) {
        vai::rt::writeNpy(outputPaths[i], t);
        outs() << " -> " << outputPaths[i];
      }
      outs() << "\n";
    }
  } catch (const vai::rt::NpyError &e) {
    fail(e.what());
    return false;
  }
  return true;
}

/// Whether any path matches `pattern`.
static bool anyPath(const char *pattern) {
  glob_t g;
  bool found = glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0;
  globfree(&g);
  return found;
}

/// Runs a compiled .xmodel on the simulator.
static int runXModel() {
  if (backend == "xrt") {
    // No XRT library is linked. An XRT device is an FPGA bound to the xocl
    // (user) or xclmgmt (management) driver; a plain GPU's /dev/dri render
    // node is not one.
    if (!anyPath("/dev/xclmgmt*") &&
        !anyPath("/sys/bus/pci/drivers/xocl/0000:*") &&
        !anyPath("/sys/bus/pci/drivers/xclmgmt/0000:*"))
      return fail("no XRT device found; use --backend sim");
    return fail("an XRT device node exists, but this vai-run has no XRT "
                "backend yet; use --backend sim");
  }
  if (backend != "sim")
    return fail("unknown backend '" + backend + "' (sim or xrt)");
  if (reference)
    return fail("--reference runs .mlir models; an .xmodel runs on --backend "
                "sim");
  Expected<std::unique_ptr<vai::xrun::Model>> model =
      vai::xrun::Model::load(modelPath);
  if (!model)
    return fail(toString(model.takeError()));
  if (!countsFit((*model)->inputs().size(), (*model)->outputs().size(),
                 "output"))
    return 1;
  std::vector<vai::rt::Tensor> inputs;
  try {
    for (const std::string &path : inputPaths)
      inputs.push_back(vai::rt::readNpy(path));
  } catch (const vai::rt::NpyError &e) {
    return fail(e.what());
  }
  vai::xrun::Stats stats;
  auto results = timed([&] { return (*model)->run(inputs, threads, &stats); });
  if (!results)
    return fail(modelPath + ": " + toString(results.takeError()));
  double ms = results->second;
  outs() << "backend: vai-mlir DPUCADF8H simulator (bit-exact model of our "
            "ISA; no FPGA)\n";
  outs() << format("modeled: %lld DPU subgraph(s), %lld CPU subgraph(s); "
                   "%lld cycles per batch of %lld at %.0f MHz = %.3f ms, "
                   "%.1f fps, MAC utilisation %.1f%%\n",
                   (long long)stats.dpuSubgraphs, (long long)stats.cpuSubgraphs,
                   (long long)stats.cycles, (long long)stats.lanes,
                   stats.clockMHz, stats.latencySeconds * 1e3, stats.fps(),
                   stats.macUtilisation() * 100);
  if (!writeOutputs(results->first,
                    [&](size_t i) { return (*model)->outputs()[i].name; }))
    return 1;
  outs() << format("time: %.3f ms per run (%lld image(s) in %lld batch(es), "
                   "%u thread(s))\n",
                   ms, (long long)inputs[0].dim(0), (long long)stats.batches,
                   threads);
  return 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  std::vector<char *> args(argv, argv + argc);
  if (!takeThreads(args))
    return fail("--threads needs a positive integer");
  cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                              "vai-mlir model runner\n  --threads=<uint> "
                              "- Threads running batches of an .xmodel "
                              "(default 1)\n");
  if (StringRef(modelPath).ends_with(".xmodel"))
    return runXModel();

  mlir::MLIRContext context;
  vai::loadAllDialects(context);
  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);

  std::string errorMessage;
  auto file = mlir::openInputFile(modelPath, &errorMessage);
  if (!file)
    return fail(modelPath + ": " + errorMessage);
  sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail(modelPath + ": not a valid MLIR model (see the diagnostics "
                            "above)");

  mlir::func::FuncOp func = vai::tools::pickFunction(*module, functionName);
  if (!func)
    return fail(modelPath + ": " +
                (functionName.empty()
                     ? Twine("no function 'main' and not exactly one "
                             "function; choose one with --function")
                     : Twine("no function named '") + functionName + "'"));

  std::unique_ptr<vai::Interpreter> interp = vai::Interpreter::create(func);
  if (!interp)
    return fail(modelPath + ": the model cannot run on the reference "
                            "interpreter (see the diagnostics above)");

  const auto &specs = interp->inputSpecs();
  if (!countsFit(specs.size(), interp->outputSpecs().size(), "result"))
    return 1;

  std::vector<vai::rt::Tensor> inputs;
  try {
    for (auto [i, path] : llvm::enumerate(inputPaths)) {
      vai::rt::Tensor t = vai::rt::readNpy(path);
      if (t.dtype() != specs[i].dtype || t.shape() != specs[i].shape)
        return fail(path + ": argument " + Twine(i) + " of '" + func.getName() +
                    "' expects " + vai::rt::dtypeName(specs[i].dtype) + " " +
                    vai::rt::shapeToString(specs[i].shape) +
                    ", the file holds " + vai::rt::dtypeName(t.dtype()) + " " +
                    vai::rt::shapeToString(t.shape()));
      inputs.push_back(std::move(t));
    }
  } catch (const vai::rt::NpyError &e) {
    return fail(e.what());
  }

  auto results = timed([&] { return interp->run(inputs); });
  if (!results)
    return fail(toString(results.takeError()));
  double ms = results->second;

  // Say what ran: quantized ops use the DPU's integer semantics, but this
  // is the host interpreter, not a DPU or its simulator.
  bool quantized = false;
  func.walk([&](mlir::vai::FixOp) { quantized = true; });
  outs() << (quantized ? "backend: reference interpreter (quantized ops in "
                         "the DPU's integer semantics, run on the host CPU)\n"
                       : "backend: reference interpreter (float32 on the host "
                         "CPU)\n");
  if (!writeOutputs(results->first, [](size_t) { return std::string(); }))
    return 1;
  outs() << format("time: %.3f ms per run\n", ms);
  return 0;
}
