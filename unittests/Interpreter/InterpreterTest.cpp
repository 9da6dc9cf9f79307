//===- InterpreterTest.cpp - The reference interpreter's C++ API ----------===//

#include "vai/Interpreter/Interpreter.h"
#include "vai/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

using namespace mlir;
namespace rt = vai::rt;

namespace {

// conv (3x3, stride 1, pad 1, relu) -> global average pool -> flatten -> fc.
const char *kModel = R"mlir(
func.func @main(%x: tensor<2x5x6x3xf32>) -> (tensor<2x4xf32>, tensor<2x5x6x8xf32>) {
  %w = vai.constant dense<0.1> : tensor<8x3x3x3xf32>
  %b = vai.constant dense<[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]> : tensor<8xf32>
  %c = vai.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>, act = #vai<act relu>} : (tensor<2x5x6x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<2x5x6x8xf32> loc("conv")
  %p = vai.global_avg_pool2d %c : (tensor<2x5x6x8xf32>) -> tensor<2x1x1x8xf32> loc("pool")
  %f = vai.flatten %p : (tensor<2x1x1x8xf32>) -> tensor<2x8xf32> loc("flatten")
  %fw = vai.constant dense<0.25> : tensor<4x8xf32>
  %y = vai.inner_product %f, %fw : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32> loc("fc")
  return %y, %c : tensor<2x4xf32>, tensor<2x5x6x8xf32>
}
)mlir";

class InterpreterTest : public ::testing::Test {
protected:
  void SetUp() override {
    vai::loadAllDialects(context);
    module = parseSourceString<ModuleOp>(kModel, &context);
    ASSERT_TRUE(module);
    auto func = module->lookupSymbol<func::FuncOp>("main");
    interp = vai::Interpreter::create(func);
    ASSERT_TRUE(interp);
  }

  rt::Tensor input(float scale = 1.0f) {
    rt::Tensor x(rt::DType::F32, {2, 5, 6, 3});
    float *p = x.data<float>();
    for (int64_t i = 0; i < x.numElements(); ++i)
      p[i] = scale * std::sin(0.37f * i);
    return x;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<vai::Interpreter> interp;
};

TEST_F(InterpreterTest, Specs) {
  ASSERT_EQ(interp->inputSpecs().size(), 1u);
  EXPECT_EQ(interp->inputSpecs()[0].shape, (rt::Shape{2, 5, 6, 3}));
  ASSERT_EQ(interp->outputSpecs().size(), 2u);
  EXPECT_EQ(interp->outputSpecs()[0].shape, (rt::Shape{2, 4}));
  EXPECT_EQ(interp->outputSpecs()[1].shape, (rt::Shape{2, 5, 6, 8}));
}

TEST_F(InterpreterTest, MatchesHandComputation) {
  rt::Tensor x = input();
  auto results = interp->run({x});
  ASSERT_TRUE(static_cast<bool>(results))
      << llvm::toString(results.takeError());
  const rt::Tensor &conv = (*results)[1];
  const float *xp = x.data<float>(), *cp = conv.data<float>();
  // Naive conv + relu, then the pool and the fc on top of it.
  for (int n = 0; n < 2; ++n) {
    double pooled[8] = {};
    for (int y = 0; y < 5; ++y)
      for (int xx = 0; xx < 6; ++xx)
        for (int o = 0; o < 8; ++o) {
          double acc = 0.1 * o;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              int iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6)
                continue;
              for (int c = 0; c < 3; ++c)
                acc += 0.1 * xp[((n * 5 + iy) * 6 + ix) * 3 + c];
            }
          acc = std::max(acc, 0.0);
          EXPECT_NEAR(cp[((n * 5 + y) * 6 + xx) * 8 + o], acc, 1e-5);
          pooled[o] += acc / 30.0;
        }
    double fc = 0;
    for (double v : pooled)
      fc += 0.25 * v;
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR((*results)[0].data<float>()[n * 4 + j], fc, 1e-5);
  }
}

TEST_F(InterpreterTest, ObserverSeesEveryOpInOrder) {
  std::vector<std::string> seen;
  auto results =
      interp->run({input()}, [&](Operation *op, const rt::Tensor &t) {
        auto loc = dyn_cast<NameLoc>(op->getLoc());
        seen.push_back(loc ? loc.getName().str() : "?");
        EXPECT_FALSE(t.isNull());
      });
  ASSERT_TRUE(static_cast<bool>(results));
  EXPECT_EQ(seen, (std::vector<std::string>{"conv", "pool", "flatten", "fc"}));
}

TEST_F(InterpreterTest, RejectsWrongInputs) {
  auto noInputs = interp->run({});
  ASSERT_FALSE(static_cast<bool>(noInputs));
  EXPECT_NE(
      llvm::toString(noInputs.takeError()).find("takes 1 input(s), got 0"),
      std::string::npos);
  rt::Tensor wrong(rt::DType::F32, {2, 5, 6, 4});
  auto bad = interp->run({wrong});
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError())
                .find("input 0: expected f32 2x5x6x3, got f32 2x5x6x4"),
            std::string::npos);
  rt::Tensor ints(rt::DType::I32, {2, 5, 6, 3});
  auto badType = interp->run({ints});
  ASSERT_FALSE(static_cast<bool>(badType));
  llvm::consumeError(badType.takeError());
}

TEST_F(InterpreterTest, ConcurrentRunsAreBitIdentical) {
  constexpr int kThreads = 8;
  std::vector<rt::Tensor> inputs;
  for (int t = 0; t < kThreads; ++t)
    inputs.push_back(input(1.0f + 0.5f * t));
  // Reference results, one thread at a time.
  std::vector<std::vector<rt::Tensor>> expected;
  for (int t = 0; t < kThreads; ++t)
    expected.push_back(std::move(*interp->run({inputs[t]})));
  std::vector<std::vector<rt::Tensor>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r)
        got[t] = std::move(*interp->run({inputs[t]}));
    });
  for (auto &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t)
    for (size_t i = 0; i < expected[t].size(); ++i)
      EXPECT_EQ(0, std::memcmp(expected[t][i].raw(), got[t][i].raw(),
                               expected[t][i].byteSize()))
          << "thread " << t << " result " << i;
}

TEST(InterpreterCreate, ReportsUnsupportedOps) {
  MLIRContext context;
  vai::loadAllDialects(context);
  const char *src = R"mlir(
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<1.0> : tensor<4xf32>
  %y = arith.addf %x, %c : tensor<4xf32> loc("odd")
  return %y : tensor<4xf32>
})mlir";
  auto module = parseSourceString<ModuleOp>(src, &context);
  ASSERT_TRUE(module);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  auto interp =
      vai::Interpreter::create(module->lookupSymbol<func::FuncOp>("main"));
  EXPECT_FALSE(interp);
  EXPECT_EQ(message,
            "'arith.addf' op is not supported by the reference interpreter");
}

} // namespace
