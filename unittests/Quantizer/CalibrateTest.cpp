//===- CalibrateTest.cpp - Statistics collection and the calibration table ===//
//
// Checks of include/vai/Quantizer/Calibrate.h: tensor names from locations,
// collectStats against the interpreter run directly, and the calibration
// table's round trip and error messages.
//
//===----------------------------------------------------------------------===//

#include "vai/Quantizer/Calibrate.h"
#include "vai/InitAll.h"
#include "vai/Interpreter/Interpreter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

using namespace mlir;
using namespace vai::quant;
namespace rt = vai::rt;

namespace {

/// Parses `source` and returns its @main.
class ParsedFunction : public ::testing::Test {
protected:
  func::FuncOp parse(const char *source) {
    vai::loadAllDialects(context);
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return nullptr;
    return module->lookupSymbol<func::FuncOp>("main");
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

//===----------------------------------------------------------------------===//
// tensorNames
//===----------------------------------------------------------------------===//

const char *kNamed = R"mlir(
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = vai.relu %x : tensor<1x4xf32> loc("a")
  %b = vai.relu %a : tensor<1x4xf32> loc(fused["conv1", "bn1"])
  %c = vai.relu %b : tensor<1x4xf32> loc("c"("model.py":3:4))
  %d = vai.relu %c : tensor<1x4xf32> loc(unknown)
  %e = vai.relu %d : tensor<1x4xf32> loc("a")
  %f = vai.relu %e : tensor<1x4xf32> loc(fused["x", "a"])
  %g = vai.relu %f : tensor<1x4xf32> loc("model.py":9:1)
  %h = vai.relu %g : tensor<1x4xf32> loc(fused["conv2", "model.py":1:1])
  return %h : tensor<1x4xf32>
}
)mlir";

using TensorNamesTest = ParsedFunction;

TEST_F(TensorNamesTest, FromLocations) {
  func::FuncOp func = parse(kNamed);
  ASSERT_TRUE(func);
  TensorNames names = tensorNames(func);
  std::vector<std::string> inOrder;
  for (Operation &op : func.getBody().front())
    if (op.getNumResults()) {
      ASSERT_TRUE(names.ops.count(&op));
      inOrder.push_back(names.ops[&op]);
    }
  EXPECT_EQ(names.ops.size(), inOrder.size()); // return has no tensor
  EXPECT_EQ(inOrder, (std::vector<std::string>{"a", "bn1", "c", "op3", "a#2",
                                               "a#3", "op6", "conv2"}));
}

// Arguments are named first; constants and fix ops get no name (so a
// quantized function names its layers as the float one did); white space
// becomes '_'.
const char *kQuantizedNames = R"mlir(
func.func @main(%x: tensor<1x4xf32> loc("my input"), %y: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %fx = vai.fix %x {fix_point = 4 : i64} : tensor<1x4xf32> loc("my input")
  %c = vai.constant dense<1.0> : tensor<1x4xf32> loc("k")
  %a = vai.add %fx, %c : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32> loc(unknown)
  %fa = vai.fix %a {fix_point = 4 : i64} : tensor<1x4xf32> loc(unknown)
  %r = vai.relu %fa : tensor<1x4xf32> loc("input1")
  return %r : tensor<1x4xf32>
}
)mlir";

TEST_F(TensorNamesTest, ArgumentsFirstConstantsAndFixesUnnamed) {
  func::FuncOp func = parse(kQuantizedNames);
  ASSERT_TRUE(func);
  TensorNames names = tensorNames(func);
  EXPECT_EQ(names.arguments, (std::vector<std::string>{"my_input", "input1"}));
  std::vector<std::string> inOrder;
  for (Operation &op : func.getBody().front())
    if (names.ops.count(&op))
      inOrder.push_back(names.ops[&op]);
  EXPECT_EQ(inOrder, (std::vector<std::string>{"op0", "input1#2"}));
}

//===----------------------------------------------------------------------===//
// collectStats
//===----------------------------------------------------------------------===//

// conv (with a constant weight and bias) -> relu -> add of the second input.
const char *kModel = R"mlir(
func.func @main(%x: tensor<1x4x4x2xf32> loc("data"), %y: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  %w = vai.constant dense<0.3> : tensor<3x3x3x2xf32> loc("conv_w")
  %b = vai.constant dense<[0.1, -0.2, 0.3]> : tensor<3xf32>
  %c = vai.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32> loc("conv")
  %r = vai.relu %c : tensor<1x4x4x3xf32> loc("relu")
  %s = vai.add %r, %y : (tensor<1x4x4x3xf32>, tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> loc("add")
  return %s : tensor<1x4x4x3xf32>
}
)mlir";

rt::Tensor wave(rt::Shape shape, float phase) {
  rt::Tensor t(rt::DType::F32, std::move(shape));
  float *p = t.data<float>();
  for (int64_t i = 0; i < t.numElements(); ++i)
    p[i] = std::sin(0.37f * i + phase) * (1.0f + phase);
  return t;
}

std::vector<rt::Tensor> inputSet(int k) {
  return {wave({1, 4, 4, 2}, 0.5f * k), wave({1, 4, 4, 3}, 1.3f * k)};
}

/// Min and max of a tensor's values, accumulated.
struct Extent {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  void add(const rt::Tensor &t) {
    const float *p = t.data<float>();
    for (int64_t i = 0; i < t.numElements(); ++i) {
      min = std::min(min, p[i]);
      max = std::max(max, p[i]);
    }
  }
};

using CollectStatsTest = ParsedFunction;

TEST_F(CollectStatsTest, MatchesInterpreter) {
  func::FuncOp func = parse(kModel);
  ASSERT_TRUE(func);

  // The expected extents, from the interpreter run directly.
  auto interp = vai::Interpreter::create(func);
  ASSERT_TRUE(interp);
  std::map<std::string, Extent> expected;
  for (int k = 0; k < 3; ++k) {
    std::vector<rt::Tensor> inputs = inputSet(k);
    expected["data"].add(inputs[0]);
    expected["input1"].add(inputs[1]);
    auto results = interp->run(inputs, [&](Operation *op, const rt::Tensor &t) {
      expected[cast<NameLoc>(op->getLoc()).getName().str()].add(t);
    });
    ASSERT_TRUE(static_cast<bool>(results))
        << llvm::toString(results.takeError());
  }

  int sets = 0;
  std::vector<int64_t> progress;
  auto stats = collectStats(
      func,
      [&](std::vector<rt::Tensor> &inputs) {
        if (sets == 3)
          return false;
        inputs = inputSet(sets++);
        return true;
      },
      [&](int64_t done) { progress.push_back(done); });
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());

  EXPECT_EQ(progress, (std::vector<int64_t>{1, 2, 3}));
  // Arguments first, then the ops in program order; constants excluded.
  EXPECT_EQ(stats->order, (std::vector<std::string>{"data", "input1", "conv",
                                                    "relu", "add"}));
  ASSERT_EQ(stats->stats.size(), 5u);
  const std::map<std::string, int64_t> elements = {
      {"data", 32}, {"input1", 48}, {"conv", 48}, {"relu", 48}, {"add", 48}};
  for (const auto &[name, n] : elements) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(stats->stats.count(name));
    const TensorStats &s = stats->stats.at(name);
    EXPECT_EQ(s.count(), 3 * n);
    EXPECT_EQ(s.min(), expected[name].min);
    EXPECT_EQ(s.max(), expected[name].max);
  }
  EXPECT_EQ(stats->stats.at("relu").min(), 0.0); // the data reach relu's knee
  EXPECT_LT(stats->stats.at("conv").min(), 0.0);
}

TEST_F(CollectStatsTest, WrongShapeIsAnError) {
  func::FuncOp func = parse(kModel);
  ASSERT_TRUE(func);
  int sets = 0;
  auto stats = collectStats(func, [&](std::vector<rt::Tensor> &inputs) {
    inputs = inputSet(sets);
    if (++sets == 2)
      inputs[0] = wave({1, 4, 4, 3}, 0.0f);
    return sets <= 3;
  });
  ASSERT_FALSE(static_cast<bool>(stats));
  std::string msg = llvm::toString(stats.takeError());
  EXPECT_NE(msg.find("input set 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1x4x4x2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1x4x4x3"), std::string::npos) << msg;
}

TEST_F(CollectStatsTest, UnpreparableFunctionIsAnError) {
  // The interpreter needs constant weights.
  func::FuncOp func = parse(R"mlir(
func.func @main(%x: tensor<1x4x4x2xf32>, %w: tensor<3x1x1x2xf32>) -> tensor<1x4x4x3xf32> {
  %c = vai.conv2d %x, %w : (tensor<1x4x4x2xf32>, tensor<3x1x1x2xf32>) -> tensor<1x4x4x3xf32> loc("conv")
  return %c : tensor<1x4x4x3xf32>
}
)mlir");
  ASSERT_TRUE(func);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostics += d.str();
    return success();
  });
  bool called = false;
  auto stats = collectStats(func, [&](std::vector<rt::Tensor> &) {
    called = true;
    return false;
  });
  ASSERT_FALSE(static_cast<bool>(stats));
  std::string msg = llvm::toString(stats.takeError());
  EXPECT_NE(msg.find("@main"), std::string::npos) << msg;
  EXPECT_NE(diagnostics.find("weight"), std::string::npos) << diagnostics;
  EXPECT_FALSE(called);
}

//===----------------------------------------------------------------------===//
// The calibration table
//===----------------------------------------------------------------------===//

class CalibTableTest : public ::testing::Test {
protected:
  void SetUp() override {
    llvm::SmallString<128> model;
    llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, model);
    llvm::sys::path::append(model, "calib-table-%%%%%%");
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory(model, dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string file(llvm::StringRef name) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }

  std::string writeText(llvm::StringRef name, llvm::StringRef text) {
    std::string path = file(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    EXPECT_FALSE(ec) << ec.message();
    os << text;
    return path;
  }

  /// The names of the files in `folder`.
  static std::vector<std::string> listing(llvm::StringRef folder) {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(folder, ec), end;
         it != end && !ec; it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }

  /// The error message of reading a table with this text.
  std::string readError(llvm::StringRef text) {
    auto entries = readCalibTable(writeText("bad.txt", text));
    if (entries)
      return "(no error)";
    return llvm::toString(entries.takeError());
  }

  llvm::SmallString<128> dir;
};

bool sameBits(double a, double b) { return std::memcmp(&a, &b, 8) == 0; }

TEST_F(CalibTableTest, RoundTripIsBitExact) {
  std::vector<CalibEntry> entries = {
      {"data", Method::MaxMin, -1.0f, 1.0f, 7},
      {"conv", Method::Diffs, -0.1f, 3.1415927f, 5},
      {"conv#2", Method::Entropy, 0.0, std::nextafter(1.0f, 2.0f), -3},
      {"tiny", Method::MSE, -FLT_MIN, FLT_TRUE_MIN, kMaxPosition},
      {"huge/layer.1", Method::Percentile, -FLT_MAX, FLT_MAX, kMinPosition},
      {"double", Method::Diffs, 0.1, 1.0 / 3.0, 0},
      {"neg0", Method::MaxMin, -0.0, 0.0, 1},
  };
  std::string path = file("table.txt");
  ASSERT_FALSE(static_cast<bool>(writeCalibTable(path, entries)));
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"table.txt"}));

  auto back = readCalibTable(path);
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  ASSERT_EQ(back->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(entries[i].tensor);
    const CalibEntry &a = entries[i], &b = (*back)[i];
    EXPECT_EQ(a.tensor, b.tensor);
    EXPECT_EQ(a.method, b.method);
    EXPECT_TRUE(sameBits(a.min, b.min)) << a.min << " vs " << b.min;
    EXPECT_TRUE(sameBits(a.max, b.max)) << a.max << " vs " << b.max;
    EXPECT_EQ(a.fixPoint, b.fixPoint);
  }

  // Overwriting an existing table works and leaves no temporary.
  ASSERT_FALSE(static_cast<bool>(writeCalibTable(path, {entries[0]})));
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"table.txt"}));
  auto one = readCalibTable(path);
  ASSERT_TRUE(static_cast<bool>(one)) << llvm::toString(one.takeError());
  EXPECT_EQ(one->size(), 1u);
}

TEST_F(CalibTableTest, CommentsAndBlankLinesAreIgnored) {
  auto entries =
      readCalibTable(writeText("t.txt", "# a hand-edited table\n"
                                        "\n"
                                        "   \t\n"
                                        "conv  diffs -1.5 2.25 6 # ok\n"
                                        "\trelu#2 maxmin 0 +3 -5\r\n"
                                        "# the end"));
  ASSERT_TRUE(static_cast<bool>(entries))
      << llvm::toString(entries.takeError());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].tensor, "conv");
  EXPECT_EQ((*entries)[0].method, Method::Diffs);
  EXPECT_EQ((*entries)[0].min, -1.5);
  EXPECT_EQ((*entries)[0].max, 2.25);
  EXPECT_EQ((*entries)[0].fixPoint, 6);
  EXPECT_EQ((*entries)[1].tensor, "relu#2");
  EXPECT_EQ((*entries)[1].method, Method::MaxMin);
  EXPECT_EQ((*entries)[1].max, 3.0);
  EXPECT_EQ((*entries)[1].fixPoint, -5);
}

TEST_F(CalibTableTest, ErrorsNameFileAndLine) {
  struct Case {
    const char *text, *message;
  } cases[] = {
      {"# header\na bogus 0 1 2\n", "unknown method 'bogus'"},
      {"# header\na diffs 0x1 1 2\n", "bad min '0x1'"},
      {"# header\na diffs 0 1.5.2 2\n", "bad max '1.5.2'"},
      {"# header\na diffs 0 1e999 2\n", "bad max '1e999'"},
      {"# header\na diffs 0 nan 2\n", "must be finite"},
      {"# header\na diffs 0 1 2.5\n", "bad fix_point '2.5'"},
      {"# header\na diffs 2 1 2\n", "min 2 > max 1"},
      {"# header\na diffs 0 1 33\n", "fix_point 33 outside [-32, 32]"},
      {"# header\na diffs 0 1 -33\n", "fix_point -33 outside [-32, 32]"},
      {"a diffs 0 1 2\na maxmin 0 1 2\n", "duplicate tensor 'a' (first on "
                                          "line 1)"},
      {"# header\na diffs 0 1\n", "expected 5 fields"},
      {"# header\na diffs 0 1 2 3\n", "expected 5 fields"},
  };
  std::string path = file("bad.txt");
  for (const Case &c : cases) {
    SCOPED_TRACE(c.text);
    std::string msg = readError(c.text);
    EXPECT_EQ(msg.rfind(path + ":2: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
  }
}

TEST_F(CalibTableTest, MissingFile) {
  std::string path = file("missing.txt");
  auto entries = readCalibTable(path);
  ASSERT_FALSE(static_cast<bool>(entries));
  std::string msg = llvm::toString(entries.takeError());
  EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
}

TEST_F(CalibTableTest, WriteToMissingFolderFails) {
  std::string path = file("nowhere/table.txt");
  llvm::Error err = writeCalibTable(path, {{"a", Method::Diffs, 0, 1, 2}});
  ASSERT_TRUE(static_cast<bool>(err));
  std::string msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
  EXPECT_TRUE(listing(dir).empty());
}

TEST_F(CalibTableTest, FailedRenameLeavesNoTemporary) {
  // Renaming a file over a directory fails after the temporary is written.
  std::string path = file("folder");
  ASSERT_FALSE(llvm::sys::fs::create_directory(path));
  llvm::Error err = writeCalibTable(path, {{"a", Method::Diffs, 0, 1, 2}});
  ASSERT_TRUE(static_cast<bool>(err));
  std::string msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"folder"}));
}

TEST_F(CalibTableTest, WriteRejectsInvalidEntries) {
  const std::vector<CalibEntry> bad[] = {
      {{"a", Method::Diffs, 2, 1, 0}},
      {{"a", Method::Diffs, 0, 1, kMaxPosition + 1}},
      {{"a b", Method::Diffs, 0, 1, 0}},
      {{"#a", Method::Diffs, 0, 1, 0}},
      {{"", Method::Diffs, 0, 1, 0}},
      {{"a", Method::Diffs, 0, INFINITY, 0}},
      {{"a", Method::Diffs, 0, 1, 0}, {"a", Method::MSE, 0, 1, 0}},
  };
  std::string path = file("table.txt");
  for (const auto &entries : bad) {
    SCOPED_TRACE(entries[0].tensor);
    llvm::Error err = writeCalibTable(path, entries);
    ASSERT_TRUE(static_cast<bool>(err));
    std::string msg = llvm::toString(std::move(err));
    EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
  }
  EXPECT_TRUE(listing(dir).empty());
}

} // namespace
