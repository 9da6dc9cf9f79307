// A quantized LeNet-like function as -vai-partition and -vai-lower-to-dpu
// leave it: conv, pool, flatten and fc on the DPU (subgraph 0), softmax on
// the CPU (subgraph 1), and subgraph 0's dpu.program with its attributes.
func.func @main(%x: tensor<1x6x6x1xf32> loc("data")) -> tensor<1x10xf32> {
  %xf = vai.fix %x {fix_point = 6 : i64, symmetric = true} : tensor<1x6x6x1xf32> loc("data")
  %w = vai.constant dense<[[[[0.25], [0.5], [-0.25]], [[0.125], [1.0], [-0.5]], [[0.0], [0.375], [0.25]]], [[[0.25], [0.5], [-0.25]], [[0.125], [1.0], [-0.5]], [[0.0], [0.375], [0.25]]], [[[0.25], [0.5], [-0.25]], [[0.125], [1.0], [-0.5]], [[0.0], [0.375], [0.25]]], [[[-0.25], [0.5], [-0.25]], [[0.125], [-1.0], [-0.5]], [[0.0], [0.375], [0.25]]]]> : tensor<4x3x3x1xf32> loc("conv1_weights")
  %wf = vai.fix %w {fix_point = 6 : i64, round_mode = #vai<round std_round>} : tensor<4x3x3x1xf32> loc("conv1_weights")
  %b = vai.constant dense<[0.5, -0.25, 0.125, 1.0]> : tensor<4xf32> loc("conv1_bias")
  %bf = vai.fix %b {fix_point = 3 : i64, round_mode = #vai<round std_round>} : tensor<4xf32> loc("conv1_bias")
  %c = vai.conv2d %xf, %wf, %bf {pad = array<i64: 1, 1, 1, 1>, act = #vai<act relu>, vai.device = "DPU", vai.subgraph = 0 : i64} : (tensor<1x6x6x1xf32>, tensor<4x3x3x1xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32> loc("conv1")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x6x6x4xf32> loc("conv1")
  %p = vai.max_pool2d %cf {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, vai.device = "DPU", vai.subgraph = 0 : i64} : (tensor<1x6x6x4xf32>) -> tensor<1x3x3x4xf32> loc("pool1")
  %pf = vai.fix %p {fix_point = 5 : i64, symmetric = true} : tensor<1x3x3x4xf32> loc("pool1")
  %f = vai.flatten %pf {axis = 1 : i64, vai.device = "DPU", vai.subgraph = 0 : i64} : (tensor<1x3x3x4xf32>) -> tensor<1x36xf32> loc("pool1")
  %ff = vai.fix %f {fix_point = 5 : i64, symmetric = true} : tensor<1x36xf32> loc("pool1")
  %fw = vai.constant dense<0.0625> : tensor<10x36xf32> loc("fc_weights")
  %fwf = vai.fix %fw {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<10x36xf32> loc("fc_weights")
  %fc = vai.inner_product %ff, %fwf {vai.device = "DPU", vai.subgraph = 0 : i64} : (tensor<1x36xf32>, tensor<10x36xf32>) -> tensor<1x10xf32> loc("fc")
  %fcf = vai.fix %fc {fix_point = 4 : i64, symmetric = true} : tensor<1x10xf32> loc("fc")
  %s = vai.softmax %fcf {axis = 1 : i64, vai.device = "CPU", vai.subgraph = 1 : i64, vai.cpu_reason = "no DPU engine runs vai.softmax"} : (tensor<1x10xf32>) -> tensor<1x10xf32> loc("prob")
  return %s : tensor<1x10xf32>
}

dpu.program @subgraph_0 target "DPUCADF8H_ISA0" attributes {subgraph = 0 : i64, reg_sizes = array<i64: 48, 4096, 36, 10>, params = dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48]> : tensor<48xi8>, io = [{name = "data", direction = "in", reg = 2 : i64, offset = 0 : i64, shape = [1, 6, 6, 1], fix_point = 6 : i64}, {name = "fc", direction = "out", reg = 3 : i64, offset = 0 : i64, shape = [1, 10], fix_point = 4 : i64}], macs = 1224 : i64, cycles = 321 : i64} {
  dpu.load ddr <2, 0> -> bank <0, 0> shape [6, 6, 1] strides [6, 1] notify conv
  dpu.load ddr <0, 0> -> bank <3, 0> shape [1, 1, 16] strides [0, 0] notify conv
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 3 shift_cut 7 act relu
  dpu.conv in <0, 0> [6, 6, 1] -> out <1, 0> [6, 6, 4] weights <3, 0> bias <3, 36> edge top|bottom|left|right wait load notify save
  dpu.save bank <1, 0> -> ddr <3, 0> shape [1, 1, 10] strides [10, 10] wait conv loc("fc")
  dpu.end
}
