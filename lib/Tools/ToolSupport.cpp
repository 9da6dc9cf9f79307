//===- ToolSupport.cpp - What the vai-* command-line tools share ----------===//

#include "vai/Tools/ToolSupport.h"

#include "vai/Runtime/File.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vai::tools {

Error writeFileAtomically(StringRef path, StringRef text) {
  if (path == "-") {
    outs() << text;
    outs().flush();
    return Error::success();
  }
  try {
    rt::writeFileAtomically(path.str(), text.str());
  } catch (const std::runtime_error &e) {
    return createStringError(inconvertibleErrorCode(), e.what());
  }
  return Error::success();
}

mlir::LogicalResult printLayerDiagnostic(mlir::Diagnostic &diag) {
  auto print = [](mlir::Location loc, mlir::DiagnosticSeverity severity,
                  const Twine &message) {
    std::string where;
    if (auto file = loc->findInstanceOf<mlir::FileLineColLoc>()) {
      where = file.getFilename().str();
      if (file.getLine() > 0) // a real position (e.g. a syntax error)
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

ModelFormat detectFormat(StringRef path) {
  StringRef ext = sys::path::extension(path);
  if (ext == ".mlir")
    return ModelFormat::MLIR;
  if (ext == ".prototxt")
    return ModelFormat::Caffe;
  if (ext == ".onnx")
    return ModelFormat::ONNX;
  if (ext == ".pt" || ext == ".pth" || ext == ".th")
    return ModelFormat::PyTorch;
  if (ext == ".pb" || ext == ".pbtxt")
    return ModelFormat::TensorFlow;
  if (ext == ".h5" || ext == ".hdf5" || ext == ".keras" || ext == ".json")
    return ModelFormat::Keras;
  return ModelFormat::Auto;
}

mlir::OwningOpRef<mlir::ModuleOp>
loadModel(mlir::MLIRContext &context, StringRef path, ModelFormat format,
          StringRef weights, const import::ImportOptions &options,
          std::string &error) {
  if (format == ModelFormat::Auto)
    format = detectFormat(path);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  switch (format) {
  case ModelFormat::Auto:
    error = (path + ": cannot tell the model's framework from its extension "
                    "(.mlir, .prototxt, .onnx, .pt, .pth, .th, .pb, .pbtxt, "
                    ".h5, .hdf5, .json); use --import-caffe, --import-onnx, "
                    "--import-pytorch, --import-tensorflow or --import-keras")
                .str();
    return nullptr;
  case ModelFormat::MLIR: {
    if (!sys::fs::exists(path)) {
      error = (path + ": no such file").str();
      return nullptr;
    }
    module = mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
    if (!module)
      error = (path + ": not a valid MLIR model (see the errors above)").str();
    return module;
  }
  case ModelFormat::Caffe: {
    std::string w = weights.str();
    if (w.empty()) {
      SmallString<256> guess(path);
      sys::path::replace_extension(guess, ".caffemodel");
      w = std::string(guess);
    }
    module = import::importCaffe(context, path, w, options);
    break;
  }
  case ModelFormat::ONNX:
    module = import::importONNX(context, path, options);
    break;
  case ModelFormat::PyTorch:
    module = import::importPyTorch(context, path, options);
    break;
  case ModelFormat::TensorFlow:
    module = import::importTensorFlow(context, path, options);
    break;
  case ModelFormat::Keras:
    module = import::importKeras(context, path, weights, options);
    break;
  }
  if (!module)
    error = (path + ": import failed (see the errors above)").str();
  return module;
}

mlir::func::FuncOp pickFunction(mlir::ModuleOp module, StringRef name) {
  mlir::func::FuncOp only, named;
  unsigned count = 0;
  module.walk([&](mlir::func::FuncOp f) {
    if (f.isExternal())
      return;
    ++count;
    only = f;
    if (f.getName() == (name.empty() ? "main" : name))
      named = f;
  });
  if (named || !name.empty())
    return named;
  return count == 1 ? only : mlir::func::FuncOp();
}

ImportFlags::ImportFlags(cl::OptionCategory &category)
    : format(
          cl::desc("Importer (default: chosen by the model's extension)"),
          cl::values(
              clEnumValN(ModelFormat::MLIR, "import-mlir", "vai-dialect .mlir"),
              clEnumValN(ModelFormat::Caffe, "import-caffe",
                         "Caffe prototxt + caffemodel"),
              clEnumValN(ModelFormat::ONNX, "import-onnx", "ONNX model"),
              clEnumValN(ModelFormat::PyTorch, "import-pytorch",
                         "PyTorch TorchScript .pt (exported through ONNX "
                         "with Debian's torch)"),
              clEnumValN(ModelFormat::TensorFlow, "import-tensorflow",
                         "TensorFlow 1 frozen GraphDef (.pb, or text "
                         ".pbtxt)"),
              clEnumValN(ModelFormat::Keras, "import-keras",
                         "Keras .h5, or model.json + --weights .h5")),
          cl::init(ModelFormat::Auto), cl::cat(category)),
      weights("weights",
              cl::desc("Caffe weights (.caffemodel or .caffemodel.h5; "
                       "default: the prototxt's name with .caffemodel), or "
                       "Keras weights (.h5) for a model.json"),
              cl::cat(category)),
      inputShapes("input-shape",
                  cl::desc("Shape of an input, NAME:D0,D1,... (framework "
                           "layout); overrides the file's"),
                  cl::cat(category)),
      nhwcIO("nhwc-io",
             cl::desc("Give the function NHWC 4-D inputs and outputs instead "
                      "of the framework's layout"),
             cl::cat(category)),
      arch("arch",
           cl::desc("For a PyTorch state dict (.pth/.th): module:callable "
                    "that builds the nn.Module (found on PYTHONPATH)"),
           cl::cat(category)),
      inputNodes("inputs",
                 cl::desc("TensorFlow: nodes that become the inputs (cuts "
                          "the graph; default: its Placeholders)"),
                 cl::value_desc("name[,name]"), cl::CommaSeparated,
                 cl::cat(category)),
      outputNodes("outputs",
                  cl::desc("TensorFlow: nodes whose values are returned "
                           "(default: the nodes nothing reads)"),
                  cl::value_desc("name[,name]"), cl::CommaSeparated,
                  cl::cat(category)) {}

Expected<import::ImportOptions> ImportFlags::options() const {
  import::ImportOptions options;
  options.frameworkLayoutIO = !nhwcIO;
  options.pytorchArch = arch;
  options.inputNodes.assign(inputNodes.begin(), inputNodes.end());
  options.outputNodes.assign(outputNodes.begin(), outputNodes.end());
  for (StringRef spec : inputShapes) {
    auto [name, dims] = spec.rsplit(':');
    std::vector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, ',');
    for (StringRef d : parts) {
      int64_t v;
      if (d.trim().getAsInteger(10, v) || v < 1)
        return createStringError(inconvertibleErrorCode(),
                                 "--input-shape " + spec +
                                     ": expected NAME:D0,D1,... with positive "
                                     "dimensions");
      shape.push_back(v);
    }
    if (name.empty() || shape.empty())
      return createStringError(inconvertibleErrorCode(),
                               "--input-shape " + spec +
                                   ": expected NAME:D0,D1,...");
    options.inputShapes.emplace_back(name.str(), std::move(shape));
  }
  return options;
}

mlir::OwningOpRef<mlir::ModuleOp> ImportFlags::load(mlir::MLIRContext &context,
                                                    StringRef path,
                                                    std::string &error) const {
  Expected<import::ImportOptions> opts = options();
  if (!opts) {
    error = toString(opts.takeError());
    return nullptr;
  }
  return loadModel(context, path, format, weights, *opts, error);
}

mlir::OwningOpRef<mlir::ModuleOp>
ImportFlags::loadFunction(mlir::MLIRContext &context, StringRef path,
                          mlir::func::FuncOp &func, std::string &error) const {
  mlir::OwningOpRef<mlir::ModuleOp> module = load(context, path, error);
  if (!module)
    return nullptr;
  func = pickFunction(*module, "");
  if (!func) {
    error = (path + ": no function 'main' and not exactly one").str();
    return nullptr;
  }
  return module;
}

std::string printWithLocations(mlir::ModuleOp module) {
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  std::string text;
  raw_string_ostream os(text);
  module->print(os, flags);
  return text;
}

} // namespace vai::tools
