//===- vai-run.cpp - Run a vai model
//---------------------------------------===//
//
// vai-run --reference model.mlir --input x.npy [--input y.npy]
//         --output out.npy [--output out2.npy] [--function name]
//
// Runs a vai-dialect function on the float32 reference interpreter. The
// report always names the backend that ran.
//
//===----------------------------------------------------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/InitAll.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/Runtime/Npy.h"
#include "vai/Tools/ToolSupport.h"

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

using namespace llvm;

static cl::OptionCategory category("vai-run options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
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

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-run") << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "vai-mlir model runner\n");

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
  if (inputPaths.size() != specs.size())
    return fail(Twine("the model takes ") + Twine(specs.size()) +
                " input(s); " + Twine(inputPaths.size()) + " --input given");
  if (!outputPaths.empty() &&
      outputPaths.size() != interp->outputSpecs().size())
    return fail(Twine("the model has ") + Twine(interp->outputSpecs().size()) +
                " result(s); " + Twine(outputPaths.size()) + " --output given");

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

  Expected<std::vector<vai::rt::Tensor>> results =
      std::vector<vai::rt::Tensor>();
  auto start = std::chrono::steady_clock::now();
  for (unsigned r = 0; r < std::max(1u, repeat.getValue()); ++r) {
    results = interp->run(inputs);
    if (!results)
      return fail(toString(results.takeError()));
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count() /
              std::max(1u, repeat.getValue());

  // Say what ran: quantized ops use the DPU's integer semantics, but this
  // is the host interpreter, not a DPU or its simulator.
  bool quantized = false;
  func.walk([&](mlir::vai::FixOp) { quantized = true; });
  outs() << (quantized ? "backend: reference interpreter (quantized ops in "
                         "the DPU's integer semantics, run on the host CPU)\n"
                       : "backend: reference interpreter (float32 on the host "
                         "CPU)\n");
  try {
    for (auto [i, t] : llvm::enumerate(*results)) {
      outs() << "output " << i << ": " << vai::rt::dtypeName(t.dtype()) << " "
             << vai::rt::shapeToString(t.shape());
      if (i < outputPaths.size()) {
        vai::rt::writeNpy(outputPaths[i], t);
        outs() << " -> " << outputPaths[i];
      }
      outs() << "\n";
    }
  } catch (const vai::rt::NpyError &e) {
    return fail(e.what());
  }
  outs() << format("time: %.3f ms per run\n", ms);
  return 0;
}
