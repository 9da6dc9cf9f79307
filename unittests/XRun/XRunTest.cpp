//===- XRunTest.cpp - Loading and running compiled xmodels ----------------===//
//
// The small LeNet of test/XModel/Inputs compiled in-process: its xmodel
// edited through libxir (another DPU's fingerprint, a target that does not
// exist, an attribute of the wrong type) must be refused with a clear error,
// and one Model shared by 8 threads gives the results of one thread.
//
//===----------------------------------------------------------------------===//

#include "vai/XRun/XRun.h"

#include "vai/InitAll.h"
#include "vai/Target/Target.h"
#include "vai/XModel/XModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <xir/graph/graph.hpp>
#include <xir/graph/subgraph.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

using namespace vai;

namespace {

std::string emitLenet() {
  mlir::MLIRContext context;
  loadAllDialects(context);
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(
      VAI_XMODEL_INPUTS "/lenet.mlir", &context);
  EXPECT_TRUE(module);
  auto target = target::loadTarget("DPUCADF8H_ISA0");
  EXPECT_TRUE(static_cast<bool>(target));
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  auto bytes = xmodel::emitXModel(*module, func, *target);
  EXPECT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
  return *bytes;
}

std::string tempPath(const std::string &name) {
  llvm::SmallString<128> dir;
  llvm::sys::path::system_temp_directory(true, dir);
  llvm::sys::path::append(dir, "vai-xrun-test-" + std::to_string(::getpid()) +
                                   "-" + name);
  return std::string(dir);
}

/// Writes the xmodel `bytes` after `edit` changed its DPU subgraph.
std::string writeEdited(const std::string &bytes, const std::string &name,
                        const std::function<void(xir::Subgraph *)> &edit) {
  std::unique_ptr<xir::Graph> g = xir::Graph::deserialize_from_string(bytes);
  for (xir::Subgraph *s : g->get_root_subgraph()->children_topological_sort())
    if (s->has_attr("device") && s->get_attr<std::string>("device") == "DPU")
      edit(s);
  std::string path = tempPath(name);
  g->serialize(path);
  return path;
}

std::string loadError(const std::string &path) {
  auto model = xrun::Model::load(path);
  std::remove(path.c_str());
  if (model)
    return "";
  return llvm::toString(model.takeError());
}

rt::Tensor images(int64_t n) {
  rt::Tensor x(rt::DType::F32, {n, 6, 6, 1});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.data<float>()[i] = float((i * 37) % 101) / 40.0f - 1.2f;
  return x;
}

TEST(XRun, FingerprintMismatchNamesBoth) {
  std::string path =
      writeEdited(emitLenet(), "fp.xmodel", [](xir::Subgraph *s) {
        s->set_attr<std::uint64_t>("dpu_fingerprint", 0x0123456789abcdefull);
      });
  std::string err = loadError(path);
  EXPECT_NE(err.find("0123456789abcdef"), std::string::npos) << err;
  EXPECT_NE(err.find("0700000000000000"), std::string::npos) << err;
  EXPECT_NE(err.find("another DPU"), std::string::npos) << err;
}

TEST(XRun, UnknownTarget) {
  std::string path =
      writeEdited(emitLenet(), "target.xmodel", [](xir::Subgraph *s) {
        s->set_attr<std::string>("dpu_name", "DPUCZDX8G_ISA1");
      });
  std::string err = loadError(path);
  EXPECT_NE(err.find("DPUCZDX8G_ISA1"), std::string::npos) << err;
}

TEST(XRun, AttributeOfWrongTypeIsMissing) {
  std::string path =
      writeEdited(emitLenet(), "mc.xmodel", [](xir::Subgraph *s) {
        s->set_attr<std::string>("mc_code", "not machine code");
      });
  std::string err = loadError(path);
  EXPECT_NE(err.find("missing attribute 'mc_code'"), std::string::npos) << err;
}

TEST(XRun, BadPlacementIsRefused) {
  std::string path =
      writeEdited(emitLenet(), "place.xmodel", [](xir::Subgraph *s) {
        auto place = s->get_attr<std::map<std::string, std::vector<int32_t>>>(
            "vai_output_placement");
        for (auto &entry : place)
          entry.second[1] = 1 << 20;
        s->set_attr("vai_output_placement", place);
      });
  std::string err = loadError(path);
  EXPECT_NE(err.find("outside the register"), std::string::npos) << err;
}

TEST(XRun, EightThreadsGiveIdenticalResults) {
  std::string path = tempPath("ok.xmodel");
  {
    std::string bytes = emitLenet();
    std::ofstream(path, std::ios::binary) << bytes;
  }
  auto model = xrun::Model::load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->lanes(), 4);
  rt::Tensor x = images(9);
  xrun::Stats stats;
  auto want = (*model)->run({x}, 1, &stats);
  ASSERT_TRUE(static_cast<bool>(want)) << llvm::toString(want.takeError());
  EXPECT_EQ(stats.batches, 3);
  EXPECT_GT(stats.cycles, 0);
  ASSERT_EQ(want->size(), 1u);
  EXPECT_EQ((*want)[0].shape(), (rt::Shape{9, 10}));

  std::vector<std::vector<rt::Tensor>> got(8);
  std::vector<std::string> errors(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 3; ++r) {
        auto out = (*model)->run({x}, 1 + t % 3);
        if (!out) {
          errors[t] = llvm::toString(out.takeError());
          return;
        }
        got[t] = std::move(*out);
      }
    });
  for (auto &t : threads)
    t.join();
  for (int t = 0; t < 8; ++t) {
    ASSERT_EQ(errors[t], "");
    ASSERT_EQ(got[t].size(), 1u);
    EXPECT_EQ(
        std::memcmp(got[t][0].raw(), (*want)[0].raw(), (*want)[0].byteSize()),
        0)
        << "thread " << t;
  }

  // Batches spread over two threads give the same results.
  auto single = (*model)->run({images(9)}, 2);
  ASSERT_TRUE(static_cast<bool>(single));
  EXPECT_EQ(
      std::memcmp(single->at(0).raw(), (*want)[0].raw(), (*want)[0].byteSize()),
      0);
}

} // namespace
