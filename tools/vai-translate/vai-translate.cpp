//===- vai-translate.cpp - Import framework models into the vai dialect ---===//
//
//   vai-translate [--import-caffe|--import-onnx|--import-pytorch|
//                  --import-keras] MODEL
//                 [--weights W] [-o out.mlir] [--input-shape name:1,3,224,224]
//                 [--nhwc-io]
//
// The importer is chosen by the flag or, when none is given, by the model's
// extension (.prototxt: Caffe, .onnx: ONNX, .pt/.pth/.th: PyTorch,
// .h5/.hdf5/.keras/.json: Keras). The
// output keeps the layer names as locations and is written atomically
// (temporary file, then rename).
//
//===----------------------------------------------------------------------===//

#include "vai/Import/Import.h"
#include "vai/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("vai-translate options");

enum class Format { Auto, Caffe, ONNX, PyTorch, Keras };
static cl::opt<Format> formatOpt(
    cl::desc("Importer (default: chosen by the model's extension)"),
    cl::values(clEnumValN(Format::Caffe, "import-caffe",
                          "Caffe prototxt + caffemodel"),
               clEnumValN(Format::ONNX, "import-onnx", "ONNX model"),
               clEnumValN(Format::PyTorch, "import-pytorch",
                          "PyTorch TorchScript .pt (exported through ONNX "
                          "with Debian's torch)"),
               clEnumValN(Format::Keras, "import-keras",
                          "Keras .h5, or model.json + --weights .h5")),
    cl::init(Format::Auto), cl::cat(category));
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    weightsPath("weights",
                cl::desc("Caffe weights (.caffemodel or .caffemodel.h5); "
                         "default: the prototxt's name with .caffemodel. "
                         "Keras: the weights .h5 of a model.json"),
                cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output .mlir"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Shape of an input, NAME:D0,D1,... (framework "
                         "layout); overrides the file's"),
                cl::cat(category));
static cl::opt<bool>
    nhwcIO("nhwc-io",
           cl::desc("Give the function NHWC 4-D inputs and outputs instead of "
                    "the framework's layout"),
           cl::cat(category));
static cl::opt<std::string>
    pytorchArch("arch",
                cl::desc("For a PyTorch state dict (.pth/.th): module:callable "
                         "that builds the nn.Module (found on PYTHONPATH)"),
                cl::cat(category));
static cl::opt<std::string> functionName("function",
                                         cl::desc("Name of the function"),
                                         cl::init("main"), cl::cat(category));

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-translate") << msg << "\n";
  return 1;
}

static Format detect(StringRef path) {
  StringRef ext = sys::path::extension(path);
  if (ext == ".prototxt")
    return Format::Caffe;
  if (ext == ".onnx")
    return Format::ONNX;
  if (ext == ".pt" || ext == ".pth" || ext == ".th")
    return Format::PyTorch;
  if (ext == ".h5" || ext == ".hdf5" || ext == ".keras" || ext == ".json")
    return Format::Keras;
  return Format::Auto;
}

/// Prints an importer diagnostic as "FILE: layer 'NAME': error: MESSAGE"
/// (or "FILE:LINE:COL: error: MESSAGE" where the importer knows a position).
/// Importer locations are the layer's name inside the model file (which has
/// no line numbers), so MLIR's default "file:0:0" form would lose the name.
static mlir::LogicalResult printImportDiagnostic(mlir::Diagnostic &diag) {
  auto print = [](mlir::Location loc, mlir::DiagnosticSeverity severity,
                  const Twine &message) {
    std::string where;
    if (auto file = loc->findInstanceOf<mlir::FileLineColLoc>()) {
      where = file.getFilename().str();
      if (file.getLine() > 0) // a real position (e.g. a prototxt syntax error)
        where += ":" + std::to_string(file.getLine()) + ":" +
                 std::to_string(file.getColumn());
      where += ": ";
    }
    if (auto name = loc->findInstanceOf<mlir::NameLoc>())
      where += "layer '" + name.getName().str() + "': ";
    const char *kind = severity == mlir::DiagnosticSeverity::Error ? "error"
                       : severity == mlir::DiagnosticSeverity::Warning
                           ? "warning"
                       : severity == mlir::DiagnosticSeverity::Remark ? "remark"
                                                                      : "note";
    errs() << where << kind << ": " << message << "\n";
  };
  print(diag.getLocation(), diag.getSeverity(), diag.str());
  for (const mlir::Diagnostic &note : diag.getNotes())
    print(note.getLocation(), note.getSeverity(), note.str());
  return mlir::success();
}

/// Writes `text` to `path` atomically; "-" is stdout.
static Error writeAtomically(StringRef path, StringRef text) {
  if (path == "-") {
    outs() << text;
    return Error::success();
  }
  SmallString<256> tmp;
  int fd;
  if (std::error_code ec =
          sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, tmp))
    return createStringError(ec, "%s: cannot create a temporary file: %s",
                             path.str().c_str(), ec.message().c_str());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    os.close();
    if (os.has_error()) {
      sys::fs::remove(tmp);
      return createStringError(os.error(), "%s: write failed: %s",
                               path.str().c_str(),
                               os.error().message().c_str());
    }
  }
  if (std::error_code ec = sys::fs::rename(tmp, path)) {
    sys::fs::remove(tmp);
    return createStringError(ec, "%s: %s", path.str().c_str(),
                             ec.message().c_str());
  }
  return Error::success();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "vai-mlir model importer\n");

  vai::import::ImportOptions options;
  options.functionName = functionName;
  options.frameworkLayoutIO = !nhwcIO;
  options.pytorchArch = pytorchArch;
  for (StringRef spec : inputShapes) {
    auto [name, dims] = spec.rsplit(':');
    std::vector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, ',');
    for (StringRef d : parts) {
      int64_t v;
      if (d.trim().getAsInteger(10, v) || v < 1)
        return fail("--input-shape " + spec +
                    ": expected NAME:D0,D1,... with positive dimensions");
      shape.push_back(v);
    }
    if (name.empty() || shape.empty())
      return fail("--input-shape " + spec + ": expected NAME:D0,D1,...");
    options.inputShapes.emplace_back(name.str(), std::move(shape));
  }

  Format fmt =
      formatOpt == Format::Auto ? detect(modelPath) : formatOpt.getValue();
  if (fmt == Format::Auto)
    return fail(modelPath + ": cannot tell the framework from the extension; "
                            "use --import-caffe, --import-onnx, "
                            "--import-pytorch or --import-keras");

  mlir::MLIRContext context;
  vai::loadAllDialects(context);
  mlir::ScopedDiagnosticHandler diagHandler(&context, printImportDiagnostic);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  switch (fmt) {
  case Format::Caffe: {
    std::string weights = weightsPath;
    if (weights.empty()) {
      SmallString<256> guess(modelPath);
      sys::path::replace_extension(guess, ".caffemodel");
      weights = std::string(guess);
    }
    module = vai::import::importCaffe(context, modelPath, weights, options);
    break;
  }
  case Format::ONNX:
    module = vai::import::importONNX(context, modelPath, options);
    break;
  case Format::PyTorch:
    module = vai::import::importPyTorch(context, modelPath, options);
    break;
  case Format::Keras:
    module = vai::import::importKeras(context, modelPath, weightsPath, options);
    break;
  case Format::Auto:
    break;
  }
  if (!module)
    return fail(modelPath + ": import failed (see the errors above)");

  // Locations carry the framework's layer names through every later stage,
  // so they are always written.
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  std::string text;
  raw_string_ostream os(text);
  module->print(os, flags);
  if (Error e = writeAtomically(outputPath, text))
    return fail(toString(std::move(e)));
  return 0;
}
