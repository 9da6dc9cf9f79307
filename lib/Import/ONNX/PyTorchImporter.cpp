//===- PyTorchImporter.cpp - PyTorch models through ONNX ------------------===//
//
// Runs `/usr/bin/python3 -m vai_mlir.export` (Debian's torch 1.13) to export
// a TorchScript file to a temporary ONNX file, imports that, and removes it.
// The package is found through VAI_PYTHONPATH, or the source tree's python/
// directory baked in at configure time.
//
//===----------------------------------------------------------------------===//

#include "ONNXImport.h"
#include "vai/Import/Import.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"

#include <unistd.h>

extern char **environ;

#ifndef VAI_PYTHON_DIR
#define VAI_PYTHON_DIR ""
#endif

using namespace mlir;

namespace vai::import {

/// The last `maxLines` lines of `text`.
static std::string tail(StringRef text, size_t maxLines) {
  SmallVector<StringRef> lines;
  text.rtrim().split(lines, '\n');
  size_t from = lines.size() > maxLines ? lines.size() - maxLines : 0;
  return llvm::join(ArrayRef<StringRef>(lines).drop_front(from), "\n");
}

OwningOpRef<ModuleOp> importPyTorch(MLIRContext &context, StringRef path,
                                    const ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  if (!llvm::sys::fs::exists(path)) {
    emitError(fileLoc) << path << ": no such file";
    return nullptr;
  }
  StringRef ext = llvm::sys::path::extension(path);
  if (ext != ".pt" && options.pytorchArch.empty()) {
    emitError(fileLoc)
        << path << ": a state dict (" << ext
        << ") does not hold the model's code; rebuild it with "
           "`python3 -m vai_mlir.export "
        << path
        << " --arch module:callable --input-shape ... -o model.onnx` and "
           "import the ONNX file, or pass --arch module:callable here";
    return nullptr;
  }
  if (options.inputShapes.empty()) {
    emitError(fileLoc) << path
                       << ": TorchScript files do not record input shapes; "
                          "give them with --input-shape NAME:D0,D1,... "
                          "(e.g. --input-shape input:1,3,224,224)";
    return nullptr;
  }

  SmallString<128> onnxPath, logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("vai-pytorch", "onnx", onnxPath)) {
    emitError(fileLoc) << path
                       << ": cannot create a temporary file: " << ec.message();
    return nullptr;
  }
  llvm::FileRemover removeOnnx(onnxPath);
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("vai-pytorch", "log", logPath)) {
    emitError(fileLoc) << path
                       << ": cannot create a temporary file: " << ec.message();
    return nullptr;
  }
  llvm::FileRemover removeLog(logPath);

  std::string python = "/usr/bin/python3";
  std::vector<std::string> args = {python,     "-m", "vai_mlir.export",
                                   path.str(), "-o", onnxPath.str().str()};
  if (!options.pytorchArch.empty()) {
    args.push_back("--arch");
    args.push_back(options.pytorchArch);
  }
  for (const auto &[name, dims] : options.inputShapes) {
    args.push_back("--input-shape");
    args.push_back(
        name + ":" +
        llvm::join(
            llvm::map_range(dims, [](int64_t d) { return std::to_string(d); }),
            ","));
  }
  std::optional<std::string> envPath =
      llvm::sys::Process::GetEnv("VAI_PYTHONPATH");
  std::string pythonDir = envPath ? *envPath : std::string(VAI_PYTHON_DIR);
  std::vector<std::string> env;
  std::optional<std::string> oldPath = llvm::sys::Process::GetEnv("PYTHONPATH");
  for (char **e = environ; e && *e; ++e)
    if (!StringRef(*e).starts_with("PYTHONPATH="))
      env.push_back(*e);
  env.push_back("PYTHONPATH=" + pythonDir +
                (oldPath && !oldPath->empty() ? ":" + *oldPath : ""));

  std::vector<StringRef> argRefs(args.begin(), args.end());
  std::vector<StringRef> envRefs(env.begin(), env.end());
  std::optional<StringRef> redirects[3] = {StringRef(""), logPath.str(),
                                           logPath.str()};
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(python, argRefs, envRefs, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &errMsg);
  if (rc != 0) {
    std::string log;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      log = tail((*buf)->getBuffer(), 20);
    emitError(fileLoc) << path << ": exporting to ONNX with " << python
                       << " -m vai_mlir.export (PYTHONPATH=" << pythonDir
                       << ") failed" << (errMsg.empty() ? "" : ": " + errMsg)
                       << (log.empty() ? "" : ":\n" + log);
    return nullptr;
  }
  return importONNXFile(context, onnxPath, path, options);
}

} // namespace vai::import
