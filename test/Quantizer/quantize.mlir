// RUN: vai-opt %s -split-input-file --mlir-print-debuginfo --mlir-print-local-scope --mlir-print-op-on-diagnostic=false -vai-quantize=calib-table=%S/Inputs/quantize-table.txt 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks

// LeNet-like: conv (relu) -> max pool -> flatten -> inner product -> softmax.
// The DPU ops get fix ops at the table's positions; max pool and flatten
// keep their input's position (the smaller of the two: 5); softmax stays
// float; weights and biases become grid constants with a std_round fix.
// CHECK-LABEL: func @lenet
// CHECK: %[[X:.*]] = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} {{.*}} loc("data")
// CHECK: %[[W:.*]] = vai.fix %{{.*}} {fix_point = 8 : i64, round_mode = #vai<round std_round>} : tensor<4x3x3x1xf32>
// CHECK: %[[B:.*]] = vai.fix %{{.*}} {fix_point = {{[0-9]+}} : i64, round_mode = #vai<round std_round>} : tensor<4xf32>
// CHECK: %[[C:.*]] = vai.conv2d %[[X]], %[[W]], %[[B]] {{.*}} loc("conv1")
// CHECK: %[[CF:.*]] = vai.fix %[[C]] {fix_point = 5 : i64, {{.*}}} {{.*}} loc("conv1")
// CHECK: %[[P:.*]] = vai.max_pool2d %[[CF]]
// CHECK: %[[PF:.*]] = vai.fix %[[P]] {fix_point = 5 : i64
// CHECK: %[[F:.*]] = vai.flatten %[[PF]]
// CHECK: %[[FF:.*]] = vai.fix %[[F]] {fix_point = 5 : i64
// CHECK: %[[IP:.*]] = vai.inner_product %[[FF]]
// CHECK: %[[IPF:.*]] = vai.fix %[[IP]] {fix_point = 4 : i64
// CHECK: %[[S:.*]] = vai.softmax %[[IPF]]
// CHECK-NOT: vai.fix
// CHECK: return %[[S]]
// REMARK: layer 'prob' stays float: no DPU engine runs vai.softmax
// REMARK: pool1: activation position 6 -> 5 so that it agrees with the tensors it is copied to
func.func @lenet(%x: tensor<1x6x6x1xf32> loc("data")) -> tensor<1x10xf32> {
  %w = vai.constant dense<0.3> : tensor<4x3x3x1xf32>
  %b = vai.constant dense<[0.5, -0.25, 0.125, 1.0]> : tensor<4xf32>
  %c = vai.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>, act = #vai<act relu>} : (tensor<1x6x6x1xf32>, tensor<4x3x3x1xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32> loc("conv1")
  %p = vai.max_pool2d %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x6x6x4xf32>) -> tensor<1x3x3x4xf32> loc("pool1")
  %f = vai.flatten %p {axis = 1 : i64} : (tensor<1x3x3x4xf32>) -> tensor<1x36xf32> loc("pool1")
  %fw = vai.constant dense<0.01> : tensor<10x36xf32>
  %fc = vai.inner_product %f, %fw : (tensor<1x36xf32>, tensor<10x36xf32>) -> tensor<1x10xf32> loc("fc")
  %s = vai.softmax %fc {axis = 1 : i64} : (tensor<1x10xf32>) -> tensor<1x10xf32> loc("prob")
  return %s : tensor<1x10xf32>
}

// -----

// The add alone: its output position 7 is lowered to the larger input's, 5.
// CHECK-LABEL: func @add_only
// CHECK: vai.add
// CHECK: vai.fix %{{.*}} {fix_point = 5 : i64
// REMARK: sum: activation position 7 -> 5 so that eltwise 'sum' shifts its aligned sum right
func.func @add_only(%a: tensor<1x2x2x3xf32> loc("branch_a"), %b: tensor<1x2x2x3xf32> loc("branch_b")) -> tensor<1x2x2x3xf32> {
  %s = vai.add %a, %b : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32> loc("sum")
  return %s : tensor<1x2x2x3xf32>
}

// -----

// Concat: inputs and output share the smallest position (the add's 7, the
// concat's 6 and x's 4 -> 4 for all), which also satisfies the eltwise
// add's limit (output position <= the larger input position, 5).
// CHECK-LABEL: func @add_concat
// CHECK-DAG: %[[X:.*]] = vai.fix %arg0 {fix_point = 4 : i64
// CHECK-DAG: %[[A:.*]] = vai.fix %arg1 {fix_point = 5 : i64
// CHECK-DAG: %[[B:.*]] = vai.fix %arg2 {fix_point = 3 : i64
// CHECK: %[[S:.*]] = vai.add %[[A]], %[[B]]
// CHECK: %[[SF:.*]] = vai.fix %[[S]] {fix_point = 4 : i64
// CHECK: %[[C:.*]] = vai.concat %[[X]], %[[SF]]
// CHECK: vai.fix %[[C]] {fix_point = 4 : i64
// REMARK: sum: activation position 7 -> 4 so that it agrees with the tensors it is copied to
// REMARK: cat: activation position 6 -> 4 so that it agrees with the tensors it is copied to
func.func @add_concat(%x: tensor<1x2x2x3xf32> loc("x"), %a: tensor<1x2x2x3xf32> loc("branch_a"), %b: tensor<1x2x2x3xf32> loc("branch_b")) -> tensor<1x2x2x6xf32> {
  %s = vai.add %a, %b : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32> loc("sum")
  %c = vai.concat %x, %s {axis = 3 : i64} : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x6xf32> loc("cat")
  return %c : tensor<1x2x2x6xf32>
}

// -----

// Shift limits: a conv whose calibrated output position (12) exceeds input
// + weight positions (2 + 7) gets it lowered (shift_cut >= 0); a large bias
// at a small position, far below input + weight, lowers the weight position
// (shift_bias <= 15); relu6 needs 6 * 2^p <= 127 (p <= 4); average pooling
// 3x3 shifts right by 6 + p_in - p_out >= 0 (9 -> 8).
// CHECK-LABEL: func @limits
// CHECK: vai.conv2d
// CHECK: vai.fix %{{.*}} {fix_point = 9 : i64
// CHECK: vai.conv2d
// CHECK: vai.fix %{{.*}} {fix_point = 9 : i64
// CHECK: vai.conv2d
// CHECK: vai.fix %{{.*}} {fix_point = 4 : i64
// CHECK: vai.avg_pool2d
// CHECK: vai.fix %{{.*}} {fix_point = 8 : i64
// REMARK: big_out: weight position {{[0-9]+}} -> {{[0-9]+}} so that shift_bias <= 15
// REMARK: sc_neg: activation position 12 -> 9 so that shift_cut of layer 'sc_neg' >= 0
// REMARK: r6: activation position 6 -> 4 so that relu6's clamp 6*2^p fits 127
// REMARK: avg: activation position 9 -> 8 so that average pool 'avg' shifts its scaled sum right
func.func @limits(%x: tensor<1x4x4x2xf32> loc("tiny")) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) {
  %w0 = vai.constant dense<0.9> : tensor<2x1x1x2xf32>
  %c0 = vai.conv2d %x, %w0 : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32> loc("sc_neg")
  %w = vai.constant dense<0.001> : tensor<2x1x1x2xf32>
  %b = vai.constant dense<100.0> : tensor<2xf32>
  %c = vai.conv2d %x, %w, %b : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32> loc("big_out")
  %w2 = vai.constant dense<0.5> : tensor<2x1x1x2xf32>
  %r = vai.conv2d %x, %w2 {act = #vai<act relu6>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32> loc("r6")
  %a = vai.avg_pool2d %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> loc("avg")
  return %c0, %c, %r, %a : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>
}
