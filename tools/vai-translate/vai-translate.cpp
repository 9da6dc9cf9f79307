//===- vai-translate.cpp - Import framework models into the vai dialect ---===//
//
//   vai-translate [--import-caffe|--import-onnx|--import-pytorch|
//                  --import-tensorflow|--import-keras] MODEL
//                 [--weights W] [-o out.mlir] [--input-shape name:1,3,224,224]
//                 [--nhwc-io] [--inputs a,b] [--outputs c,d] [--arch m:f]
//
// The importer is chosen by the flag or, when none is given, by the model's
// extension (.prototxt: Caffe, .onnx: ONNX, .pt/.pth/.th: PyTorch,
// .pb/.pbtxt: TensorFlow, .h5/.hdf5/.keras/.json: Keras). The output keeps
// the layer names as locations and is written atomically (temporary file,
// then rename).
//
//===----------------------------------------------------------------------===//

#include "vai/InitAll.h"
#include "vai/Tools/ToolSupport.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("vai-translate options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model>"),
                                      cl::Required, cl::cat(category));
static vai::tools::ImportFlags importFlags(category);
static cl::opt<std::string> outputPath("o", cl::desc("Output .mlir"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::opt<std::string> functionName("function",
                                         cl::desc("Name of the function"),
                                         cl::init("main"), cl::cat(category));

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-translate") << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "vai-mlir model importer\n");

  mlir::MLIRContext context;
  vai::loadAllDialects(context);
  mlir::ScopedDiagnosticHandler diagHandler(&context,
                                            vai::tools::printLayerDiagnostic);
  std::string error;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importFlags.load(context, modelPath, error);
  if (!module)
    return fail(error);
  if (functionName != "main")
    if (mlir::func::FuncOp f = vai::tools::pickFunction(*module, "main"))
      f.setSymName(functionName);
  // Locations carry the framework's layer names through every later stage,
  // so they are always written.
  if (Error e = vai::tools::writeFileAtomically(
          outputPath, vai::tools::printWithLocations(*module)))
    return fail(toString(std::move(e)));
  return 0;
}
