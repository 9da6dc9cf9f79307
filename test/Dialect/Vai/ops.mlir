// RUN: vai-opt %s -split-input-file | FileCheck %s
// RUN: vai-opt %s -split-input-file -mlir-print-op-generic | vai-opt -split-input-file | FileCheck %s
// Round trip of every vai op, in custom and generic form.

// CHECK-LABEL: func @constants
func.func @constants() -> (tensor<2x3xf32>, tensor<4xi8>, tensor<2xf32>) {
  // CHECK: vai.constant dense<1.500000e+00> : tensor<2x3xf32>
  %0 = vai.constant dense<1.5> : tensor<2x3xf32>
  // CHECK: vai.constant dense<[1, -2, 3, -128]> : tensor<4xi8>
  %1 = vai.constant dense<[1, -2, 3, -128]> : tensor<4xi8>
  // CHECK: vai.constant dense_resource<w> : tensor<2xf32>
  %2 = vai.constant dense_resource<w> : tensor<2xf32>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<4xi8>, tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// CHECK-LABEL: func @convolutions
func.func @convolutions(%x: tensor<2x9x7x6xf32>) -> (tensor<2x4x3x8xf32>, tensor<2x9x7x12xf32>, tensor<2x18x13x4xf32>) {
  %w = vai.constant dense<0.5> : tensor<8x3x3x3xf32>
  %b = vai.constant dense<0.1> : tensor<8xf32>
  // CHECK: vai.conv2d %{{.*}}, %{{.*}}, %{{.*}} {act = #vai<act leaky_relu>, act_alpha = 1.000000e-01 : f32, dilations = array<i64: 1, 2>, groups = 2 : i64, pad = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 2>}
  %0 = vai.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pad = array<i64: 1, 0, 2, 1>, dilations = array<i64: 1, 2>, groups = 2, act = #vai<act leaky_relu>, act_alpha = 0.1 : f32} : (tensor<2x9x7x6xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<2x4x3x8xf32>
  %dw = vai.constant dense<0.5> : tensor<2x3x3x6xf32>
  // CHECK: vai.depthwise_conv2d %{{.*}}, %{{.*}} {act = #vai<act relu6>, pad = array<i64: 1, 1, 1, 1>}
  %1 = vai.depthwise_conv2d %x, %dw {pad = array<i64: 1, 1, 1, 1>, act = #vai<act relu6>} : (tensor<2x9x7x6xf32>, tensor<2x3x3x6xf32>) -> tensor<2x9x7x12xf32>
  %tw = vai.constant dense<0.5> : tensor<4x3x3x6xf32>
  // CHECK: vai.transposed_conv2d %{{.*}}, %{{.*}} {output_padding = array<i64: 1, 0>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %2 = vai.transposed_conv2d %x, %tw {strides = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 0>} : (tensor<2x9x7x6xf32>, tensor<4x3x3x6xf32>) -> tensor<2x18x13x4xf32>
  return %0, %1, %2 : tensor<2x4x3x8xf32>, tensor<2x9x7x12xf32>, tensor<2x18x13x4xf32>
}

// -----

// CHECK-LABEL: func @products
func.func @products(%x: tensor<3x10xf32>, %a: tensor<2x4x5xf32>, %b: tensor<5x6xf32>) -> (tensor<3x7xf32>, tensor<2x4x6xf32>) {
  %w = vai.constant dense<0.5> : tensor<7x10xf32>
  %bias = vai.constant dense<0.5> : tensor<7xf32>
  // CHECK: vai.inner_product %{{.*}}, %{{.*}}, %{{.*}} {act = #vai<act relu>}
  %0 = vai.inner_product %x, %w, %bias {act = #vai<act relu>} : (tensor<3x10xf32>, tensor<7x10xf32>, tensor<7xf32>) -> tensor<3x7xf32>
  // CHECK: vai.matmul %{{.*}}, %{{.*}} : (tensor<2x4x5xf32>, tensor<5x6xf32>) -> tensor<2x4x6xf32>
  %1 = vai.matmul %a, %b : (tensor<2x4x5xf32>, tensor<5x6xf32>) -> tensor<2x4x6xf32>
  return %0, %1 : tensor<3x7xf32>, tensor<2x4x6xf32>
}

// -----

// CHECK-LABEL: func @channelwise
func.func @channelwise(%x: tensor<1x5x5x4xf32>) -> tensor<1x5x5x4xf32> {
  %c = vai.constant dense<0.5> : tensor<4xf32>
  %one = vai.constant dense<0.5> : tensor<1xf32>
  // CHECK: vai.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f32}
  %0 = vai.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-3 : f32} : (tensor<1x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  // CHECK: vai.scale %{{.*}}, %{{.*}}, %{{.*}} :
  %1 = vai.scale %0, %c, %c : (tensor<1x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  // CHECK: vai.scale %{{.*}}, %{{.*}} :
  %2 = vai.scale %1, %c : (tensor<1x5x5x4xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  // CHECK: vai.bias_add
  %3 = vai.bias_add %2, %c : (tensor<1x5x5x4xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  // CHECK: vai.prelu
  %4 = vai.prelu %3, %c : (tensor<1x5x5x4xf32>, tensor<4xf32>) -> tensor<1x5x5x4xf32>
  // CHECK: vai.prelu
  %5 = vai.prelu %4, %one : (tensor<1x5x5x4xf32>, tensor<1xf32>) -> tensor<1x5x5x4xf32>
  return %5 : tensor<1x5x5x4xf32>
}

// -----

// CHECK-LABEL: func @activations
func.func @activations(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: vai.relu %{{.*}} : tensor<2x3xf32>
  %0 = vai.relu %x : tensor<2x3xf32>
  // CHECK: vai.relu6
  %1 = vai.relu6 %0 : tensor<2x3xf32>
  // CHECK: vai.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f32}
  %2 = vai.leaky_relu %1 {alpha = 0.1 : f32} : tensor<2x3xf32>
  // CHECK: vai.sigmoid
  %3 = vai.sigmoid %2 : tensor<2x3xf32>
  // CHECK: vai.tanh
  %4 = vai.tanh %3 : tensor<2x3xf32>
  // CHECK: vai.hard_sigmoid %{{.*}} {alpha = 0.166666672 : f32}
  %5 = vai.hard_sigmoid %4 {alpha = 0.166666672 : f32} : tensor<2x3xf32>
  // CHECK: vai.clip %{{.*}} {max = 6.000000e+00 : f32, min = -1.000000e+00 : f32}
  %6 = vai.clip %5 {min = -1.0 : f32, max = 6.0 : f32} : tensor<2x3xf32>
  // CHECK: vai.identity
  %7 = vai.identity %6 : tensor<2x3xf32>
  // CHECK: vai.dropout %{{.*}} {ratio = 2.000000e-01 : f32}
  %8 = vai.dropout %7 {ratio = 0.2 : f32} : tensor<2x3xf32>
  return %8 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @pooling
func.func @pooling(%x: tensor<1x8x9x3xf32>) -> (tensor<1x4x4x3xf32>, tensor<1x4x5x3xf32>, tensor<1x1x1x3xf32>, tensor<1x1x1x3xf32>) {
  // CHECK: vai.max_pool2d %{{.*}} {ceil_mode = true, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>}
  %0 = vai.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x8x9x3xf32>) -> tensor<1x4x4x3xf32>
  // CHECK: vai.avg_pool2d %{{.*}} {count_include_pad = false, kernel = array<i64: 3, 2>, pad = array<i64: 1, 0, 0, 1>, strides = array<i64: 2, 2>}
  %1 = vai.avg_pool2d %x {kernel = array<i64: 3, 2>, strides = array<i64: 2, 2>, pad = array<i64: 1, 0, 0, 1>, count_include_pad = false} : (tensor<1x8x9x3xf32>) -> tensor<1x4x5x3xf32>
  // CHECK: vai.global_avg_pool2d
  %2 = vai.global_avg_pool2d %x : (tensor<1x8x9x3xf32>) -> tensor<1x1x1x3xf32>
  // CHECK: vai.global_max_pool2d
  %3 = vai.global_max_pool2d %x : (tensor<1x8x9x3xf32>) -> tensor<1x1x1x3xf32>
  return %0, %1, %2, %3 : tensor<1x4x4x3xf32>, tensor<1x4x5x3xf32>, tensor<1x1x1x3xf32>, tensor<1x1x1x3xf32>
}

// -----

// CHECK-LABEL: func @binary
func.func @binary(%a: tensor<2x1x5x3xf32>, %b: tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32> {
  // CHECK: vai.add %{{.*}}, %{{.*}} {act = #vai<act relu>} : (tensor<2x1x5x3xf32>, tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32>
  %0 = vai.add %a, %b {act = #vai<act relu>} : (tensor<2x1x5x3xf32>, tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32>
  // CHECK: vai.sub
  %1 = vai.sub %0, %b : (tensor<2x4x5x3xf32>, tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32>
  // CHECK: vai.mul
  %2 = vai.mul %1, %a : (tensor<2x4x5x3xf32>, tensor<2x1x5x3xf32>) -> tensor<2x4x5x3xf32>
  // CHECK: vai.div
  %3 = vai.div %2, %a : (tensor<2x4x5x3xf32>, tensor<2x1x5x3xf32>) -> tensor<2x4x5x3xf32>
  // CHECK: vai.max
  %4 = vai.max %3, %b : (tensor<2x4x5x3xf32>, tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32>
  // CHECK: vai.min
  %5 = vai.min %4, %b : (tensor<2x4x5x3xf32>, tensor<4x1x3xf32>) -> tensor<2x4x5x3xf32>
  return %5 : tensor<2x4x5x3xf32>
}

// -----

// CHECK-LABEL: func @movement
func.func @movement(%x: tensor<1x4x6x3xf32>, %y: tensor<1x4x6x5xf32>, %q: tensor<2x3xi8>) -> (tensor<1x4x6x8xf32>, tensor<3x24xf32>, tensor<1x72xf32>, tensor<1x3x4x6xf32>, tensor<4x6x3xf32>, tensor<1x2x3x3xf32>, tensor<1x6x9x3xf32>, tensor<4x5xi8>) {
  // CHECK: vai.concat %{{.*}}, %{{.*}} {axis = 3 : i64}
  %0 = vai.concat %x, %y {axis = 3 : i64} : (tensor<1x4x6x3xf32>, tensor<1x4x6x5xf32>) -> tensor<1x4x6x8xf32>
  // CHECK: vai.reshape %{{.*}} {shape = array<i64: 3, 24>}
  %1 = vai.reshape %x {shape = array<i64: 3, 24>} : (tensor<1x4x6x3xf32>) -> tensor<3x24xf32>
  // CHECK: vai.flatten %{{.*}} :
  %2 = vai.flatten %x : (tensor<1x4x6x3xf32>) -> tensor<1x72xf32>
  // CHECK: vai.transpose %{{.*}} {perm = array<i64: 0, 3, 1, 2>}
  %3 = vai.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x6x3xf32>) -> tensor<1x3x4x6xf32>
  // CHECK: vai.squeeze %{{.*}} {axes = array<i64: 0>}
  %4 = vai.squeeze %x {axes = array<i64: 0>} : (tensor<1x4x6x3xf32>) -> tensor<4x6x3xf32>
  // CHECK: vai.slice %{{.*}} {offsets = array<i64: 0, 1, 0, 0>, sizes = array<i64: 1, 2, 3, 3>, strides = array<i64: 1, 2, 2, 1>}
  %5 = vai.slice %x {offsets = array<i64: 0, 1, 0, 0>, sizes = array<i64: 1, 2, 3, 3>, strides = array<i64: 1, 2, 2, 1>} : (tensor<1x4x6x3xf32>) -> tensor<1x2x3x3xf32>
  // CHECK: vai.pad %{{.*}} {high = array<i64: 0, 1, 2, 0>, low = array<i64: 0, 1, 1, 0>, mode = #vai<pad_mode reflect>}
  %6 = vai.pad %x {low = array<i64: 0, 1, 1, 0>, high = array<i64: 0, 1, 2, 0>, mode = #vai<pad_mode reflect>} : (tensor<1x4x6x3xf32>) -> tensor<1x6x9x3xf32>
  // CHECK: vai.pad %{{.*}} {high = array<i64: 1, 1>, low = array<i64: 1, 1>, value = 3.000000e+00 : f32} : (tensor<2x3xi8>) -> tensor<4x5xi8>
  %7 = vai.pad %q {low = array<i64: 1, 1>, high = array<i64: 1, 1>, value = 3.0 : f32} : (tensor<2x3xi8>) -> tensor<4x5xi8>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<1x4x6x8xf32>, tensor<3x24xf32>, tensor<1x72xf32>, tensor<1x3x4x6xf32>, tensor<4x6x3xf32>, tensor<1x2x3x3xf32>, tensor<1x6x9x3xf32>, tensor<4x5xi8>
}

// -----

// CHECK-LABEL: func @misc
func.func @misc(%x: tensor<1x4x6x3xf32>) -> (tensor<1x8x12x3xf32>, tensor<1x4x6x3xf32>, tensor<1x3xf32>, tensor<1x1x1x3xf32>) {
  // CHECK: vai.resize %{{.*}} {coord_mode = #vai<coord_mode half_pixel>, mode = #vai<resize_mode bilinear>, size = array<i64: 8, 12>}
  %0 = vai.resize %x {size = array<i64: 8, 12>, mode = #vai<resize_mode bilinear>, coord_mode = #vai<coord_mode half_pixel>} : (tensor<1x4x6x3xf32>) -> tensor<1x8x12x3xf32>
  // CHECK: vai.softmax %{{.*}} {axis = 3 : i64}
  %1 = vai.softmax %x {axis = 3 : i64} : (tensor<1x4x6x3xf32>) -> tensor<1x4x6x3xf32>
  // CHECK: vai.reduce_mean %{{.*}} {axes = array<i64: 1, 2>, keep_dims = false}
  %2 = vai.reduce_mean %x {axes = array<i64: 1, 2>, keep_dims = false} : (tensor<1x4x6x3xf32>) -> tensor<1x3xf32>
  // CHECK: vai.reduce_mean %{{.*}} {axes = array<i64: 2, 1>}
  %3 = vai.reduce_mean %x {axes = array<i64: 2, 1>} : (tensor<1x4x6x3xf32>) -> tensor<1x1x1x3xf32>
  return %0, %1, %2, %3 : tensor<1x8x12x3xf32>, tensor<1x4x6x3xf32>, tensor<1x3xf32>, tensor<1x1x1x3xf32>
}

// -----

// CHECK-LABEL: func @fix
func.func @fix(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: vai.fix %{{.*}} {fix_point = 5 : i64} : tensor<2x3xf32>
  %0 = vai.fix %x {fix_point = 5 : i64} : tensor<2x3xf32>
  // CHECK: vai.fix %{{.*}} {bit_width = 16 : i64, fix_point = -2 : i64, round_mode = #vai<round std_round>, symmetric = true}
  %1 = vai.fix %0 {fix_point = -2 : i64, bit_width = 16 : i64, round_mode = #vai<round std_round>, symmetric = true} : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
