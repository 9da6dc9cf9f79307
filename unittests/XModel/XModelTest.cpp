//===- XModelTest.cpp - The xmodel read back through libxir ---------------===//

#include "vai/XModel/XModel.h"
#include "Plan.h"
#include "vai/Dialect/Dpu/DpuToISA.h"
#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>
#include <xir/graph/graph.hpp>
#include <xir/graph/subgraph.hpp>
#include <xir/op/op.hpp>
#include <xir/tensor/tensor.hpp>

#include <cmath>

using namespace vai;

namespace {

struct Emitted {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  target::Target target;
  std::string bytes;
};

std::unique_ptr<Emitted> emitLenet() {
  auto e = std::make_unique<Emitted>();
  loadAllDialects(e->context);
  e->module = mlir::parseSourceFile<mlir::ModuleOp>(
      VAI_XMODEL_INPUTS "/lenet.mlir", &e->context);
  EXPECT_TRUE(e->module);
  auto target = target::loadTarget("DPUCADF8H_ISA0");
  EXPECT_TRUE(static_cast<bool>(target));
  e->target = *target;
  auto func = *e->module->getOps<mlir::func::FuncOp>().begin();
  auto bytes = xmodel::emitXModel(*e->module, func, e->target);
  EXPECT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
  e->bytes = *bytes;
  return e;
}

const xir::Subgraph *child(const xir::Graph &g, const std::string &name) {
  for (const xir::Subgraph *s : g.get_root_subgraph()->get_children())
    if (s->get_name() == name)
      return s;
  return nullptr;
}

TEST(XModel, RoundTripThroughLibxir) {
  auto e = emitLenet();
  std::unique_ptr<xir::Graph> g = xir::Graph::deserialize_from_string(e->bytes);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->get_attr<std::string>("vai_mlir_version"),
            xmodel::toolVersion().str());

  // Layer names and op types.
  const xir::Op *conv = g->get_op("conv1");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->get_type(), "conv2d-fix");
  EXPECT_EQ(conv->get_attr<std::vector<int>>("kernel"),
            (std::vector<int>{3, 3}));
  EXPECT_EQ(conv->get_attr<std::vector<int>>("pad"),
            (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(conv->get_attr<std::string>("nonlinear"), "RELU");
  ASSERT_NE(g->get_op("prob"), nullptr);
  EXPECT_EQ(g->get_op("prob")->get_type(), "softmax");

  // Fix info on the conv's output, from the model's vai.fix.
  auto func = *e->module->getOps<mlir::func::FuncOp>().begin();
  mlir::vai::FixOp convFix;
  func.walk([&](mlir::vai::Conv2DOp c) {
    convFix = mlir::cast<mlir::vai::FixOp>(*c->getUsers().begin());
  });
  const xir::Tensor *t = conv->get_output_tensor();
  EXPECT_EQ(t->get_attr<int>("fix_point"), convFix.getFixPoint());
  EXPECT_EQ(t->get_attr<int>("bit_width"), 8);
  EXPECT_TRUE(t->get_attr<bool>("if_signed"));
  EXPECT_EQ(t->get_attr<std::string>("round_mode"), "DPU_ROUND");
  EXPECT_EQ(t->get_shape(), (std::vector<int>{1, 6, 6, 4}));

  // The weights: int8 values q = w * 2^p of the model's constant.
  mlir::vai::FixOp wFix = convFix.getInput()
                              .getDefiningOp()
                              ->getOperand(1)
                              .getDefiningOp<mlir::vai::FixOp>();
  auto wAttr = mlir::cast<mlir::DenseElementsAttr>(
      wFix.getInput().getDefiningOp<mlir::vai::ConstantOp>().getValue());
  std::vector<char> expected;
  for (float w : wAttr.getValues<float>())
    expected.push_back(static_cast<char>(
        std::lround(std::ldexp(double(w), int(wFix.getFixPoint())))));
  const xir::Op *weights = conv->get_input_op("weights");
  EXPECT_EQ(weights->get_type(), "const-fix");
  EXPECT_EQ(weights->get_attr<std::vector<char>>("data"), expected);
  EXPECT_EQ(weights->get_output_tensor()->get_attr<std::string>("round_mode"),
            "STD_ROUND");

  // The DPU subgraph: device, target, fingerprint, machine code, params.
  const xir::Subgraph *dpu = child(*g, "subgraph_conv1");
  ASSERT_NE(dpu, nullptr);
  EXPECT_EQ(dpu->get_attr<std::string>("device"), "DPU");
  EXPECT_EQ(dpu->get_attr<std::string>("dpu_name"), "DPUCADF8H_ISA0");
  EXPECT_EQ(dpu->get_attr<std::uint64_t>("dpu_fingerprint"),
            e->target.fingerprint);
  auto program = *e->module->getOps<mlir::dpu::ProgramOp>().begin();
  auto code = mlir::dpu::encodeProgram(program);
  ASSERT_TRUE(mlir::succeeded(code));
  EXPECT_EQ(dpu->get_attr<std::vector<char>>("mc_code"),
            std::vector<char>(code->begin(), code->end()));
  auto params = dpu->get_attr<std::map<std::string, std::vector<char>>>(
      "reg_id_to_parameter_value");
  std::vector<char> blob;
  for (int8_t v :
       mlir::cast<mlir::DenseElementsAttr>(program->getAttr("params"))
           .getValues<int8_t>())
    blob.push_back(static_cast<char>(v));
  EXPECT_EQ(params.at("REG_0"), blob);
  auto runner = dpu->get_attr<std::map<std::string, std::string>>("runner");
  EXPECT_EQ(runner.at("run"), "libvart-vai-sim-runner.so");
  EXPECT_EQ(runner.at("xrt"), "libvart-vai-xrt-runner.so");
  using SizeMap = std::map<std::string, int>;
  EXPECT_EQ(dpu->get_attr<SizeMap>("reg_id_to_size").at("REG_1"), 4096);
  EXPECT_TRUE(dpu->has_op("fc_weights"));
  EXPECT_FALSE(dpu->has_op("prob"));

  // The output tensor's DDR placement, from the program's io list.
  const xir::Tensor *out = g->get_op("fc_output_reshape")->get_output_tensor();
  EXPECT_EQ(out->get_attr<int>("reg_id"), 3);
  EXPECT_EQ(out->get_attr<int>("ddr_addr"), 0);

  const xir::Subgraph *cpu = child(*g, "subgraph_prob");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->get_attr<std::string>("device"), "CPU");
  EXPECT_EQ(child(*g, "subgraph_data")->get_attr<std::string>("device"),
            "USER");
}

TEST(XModel, Deterministic) {
  auto a = emitLenet();
  auto b = emitLenet();
  EXPECT_EQ(a->bytes, b->bytes);
}

// Plans libxir would abort on are rejected with our message first.
xmodel::detail::Plan validPlan() {
  using namespace xmodel::detail;
  Plan plan;
  plan.name = "g";
  plan.subgraphs.push_back(
      {"subgraph_data", {{"device", std::string("USER")}}});
  plan.subgraphs.push_back({"subgraph_pool", {{"device", std::string("DPU")}}});
  PlanOp data;
  data.name = data.layer = "data";
  data.type = "data-fix";
  data.shape = {1, 4, 4, 8};
  data.attrs = {{"shape", std::vector<int32_t>{1, 4, 4, 8}},
                {"data_type", std::string("XINT8")}};
  data.fix = FixInfo{};
  data.subgraph = 0;
  PlanOp pool;
  pool.name = pool.layer = "pool";
  pool.type = "pool-fix";
  pool.shape = {1, 2, 2, 8};
  pool.attrs = {{"kernel", std::vector<int32_t>{2, 2}},
                {"stride", std::vector<int32_t>{2, 2}},
                {"type", std::string("MAX")}};
  pool.inputs = {{"input", {0}}};
  pool.fix = FixInfo{};
  pool.subgraph = 1;
  plan.ops = {data, pool};
  return plan;
}

std::string errorOf(const xmodel::detail::Plan &plan) {
  auto bytes = xmodel::detail::writeXir(plan);
  if (bytes)
    return "";
  return llvm::toString(bytes.takeError());
}

TEST(XModel, ValidPlanWrites) { EXPECT_EQ(errorOf(validPlan()), ""); }

TEST(XModel, InvalidPlansAreCaughtBeforeLibxir) {
  using namespace xmodel::detail;
  auto check = [](auto edit, const std::string &message) {
    Plan plan = validPlan();
    edit(plan.ops[1]);
    std::string err = errorOf(plan);
    EXPECT_NE(err.find(message), std::string::npos) << err;
  };
  check([](PlanOp &op) { op.attrs.erase("kernel"); },
        "required attribute 'kernel' is missing");
  check([](PlanOp &op) { op.attrs["kernel"] = std::vector<int32_t>{2}; },
        "attribute 'kernel' has 1 values, libxir expects 2");
  check([](PlanOp &op) { op.attrs["kernel"] = int32_t(2); },
        "attribute 'kernel' has type int");
  check([](PlanOp &op) { op.attrs["type"] = std::string("MIN"); },
        "\"MIN\" is not MAX or AVG");
  check([](PlanOp &op) { op.attrs["nonlinear"] = std::string("RELU"); },
        "attribute 'nonlinear' is not defined");
  check([](PlanOp &op) { op.type = "pool-fixx"; }, "no op type 'pool-fixx'");
  check([](PlanOp &op) { op.name = "data"; }, "the op name is used twice");
  check([](PlanOp &op) { op.inputs = {}; }, "0 inputs for argument 'input'");
  check(
      [](PlanOp &op) {
        op.inputs = {{"input", {1}}};
      },
      "is not an earlier op");
  check(
      [](PlanOp &op) {
        op.attrs["stride"] = std::vector<int32_t>{0, 2};
      },
      "value 0 below 1");
  check([](PlanOp &op) { op.fix->bitWidth = 16; }, "bit width 16");
  check(
      [](PlanOp &op) {
        op.shape = {1, 3000000000LL, 2, 8};
      },
      "does not fit libxir's int32 shapes");
  check(
      [](PlanOp &op) {
        op.shape = {1, 3, 3, 8};
      },
      "libxir infers the output shape 1x2x2x8, the model has 1x3x3x8");
  // A float input where the op definition asks for a fixed one.
  Plan plan = validPlan();
  plan.ops[0].fix.reset();
  plan.ops[0].type = "data";
  plan.ops[0].attrs["data_type"] = std::string("FLOAT32");
  EXPECT_NE(errorOf(plan).find("must be fixed-point"), std::string::npos);
}

} // namespace
