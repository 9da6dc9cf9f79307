// RUN: vai-opt %s -split-input-file -verify-diagnostics
// Every verifier and shape-inference check of the vai dialect fails here once.
// Shape-inference failures report the specific problem, then MLIR's generic
// 'failed to infer returned types'.

func.func @constant_type_mismatch() {
  // expected-error @+2 {{'vai.constant' op inferred type(s) 'tensor<2xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "vai.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  return
}

// -----

func.func @constant_f64() {
  // expected-error @+1 {{'vai.constant' op result #0 must be statically shaped tensor of}}
  %0 = vai.constant dense<1.0> : tensor<2xf64>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op input must have rank 4, got 'tensor<8x8x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w : (tensor<8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op weight must have rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_strides_count(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op 'strides' must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w {strides = array<i64: 1, 1, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_stride_zero(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op 'strides' entries must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_negative_pad(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op 'pad' entries must be >= 0, got -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w {pad = array<i64: 0, -1, 0, 0>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_dilation_zero(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op 'dilations' entries must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w {dilations = array<i64: 1, 0>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x1xf32>
  // expected-error @+2 {{'vai.conv2d' op groups (2) must divide the input channels (3) and the output channels (4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w {groups = 2} : (tensor<1x8x8x3xf32>, tensor<4x3x3x1xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_weight_shape(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x2xf32>
  // expected-error @+2 {{'vai.conv2d' op weight must be [OC, KH, KW, IC/groups] = [4, 3, 3, 3], got [4, 3, 3, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x3x3x2xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  %b = vai.constant dense<1.0> : tensor<5xf32>
  // expected-error @+2 {{'vai.conv2d' op bias must have 4 entries (one per channel), got 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w, %b : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x9x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op the 9x3 kernel (dilated) does not fit the 8x8 padded input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x9x3x3xf32>) -> tensor<1x1x6x4xf32>
  return
}

// -----

func.func @conv_result_type(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.conv2d' op inferred type(s) 'tensor<1x6x6x4xf32>' are incompatible with return type(s) of operation 'tensor<1x8x8x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @conv_dynamic(%x: tensor<?x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'vai.conv2d' op operand #0 must be statically shaped tensor of 32-bit float values}}
  %0 = vai.conv2d %x, %w : (tensor<?x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @depthwise_channels(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<2x3x3x4xf32>
  // expected-error @+2 {{'vai.depthwise_conv2d' op weight must be [M, KH, KW, C] with C = 3 input channels, got 4 in the last dimension}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.depthwise_conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<2x3x3x4xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @depthwise_bias(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<2x3x3x3xf32>
  %b = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.depthwise_conv2d' op bias must have 6 entries (one per channel), got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.depthwise_conv2d %x, %w, %b : (tensor<1x8x8x3xf32>, tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @transposed_output_padding(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op output_padding must be smaller than the stride or the dilation}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w {output_padding = array<i64: 1, 0>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x11x10x4xf32>
  return
}

// -----

func.func @transposed_output_padding_count(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op 'output_padding' must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w {output_padding = array<i64: 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x10x10x4xf32>
  return
}

// -----

func.func @transposed_groups(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x1xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op groups (2) must divide the input channels (3) and the output channels (4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w {groups = 2} : (tensor<1x8x8x3xf32>, tensor<4x3x3x1xf32>) -> tensor<1x10x10x4xf32>
  return
}

// -----

func.func @transposed_weight(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x2xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op weight must be [OC, KH, KW, IC/groups] with IC/groups = 3, got 2 in the last dimension}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x3x3x2xf32>) -> tensor<1x10x10x4xf32>
  return
}

// -----

func.func @transposed_bias(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x3x3x3xf32>
  %b = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op bias must have 4 entries (one per channel), got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w, %b : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x10x10x4xf32>
  return
}

// -----

func.func @transposed_crop_all(%x: tensor<1x1x1x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x1x1x3xf32>
  // expected-error @+2 {{'vai.transposed_conv2d' op the padding crops the whole output}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transposed_conv2d %x, %w {pad = array<i64: 1, 0, 0, 0>} : (tensor<1x1x1x3xf32>, tensor<4x1x1x3xf32>) -> tensor<1x1x1x4xf32>
  return
}

// -----

func.func @inner_product_features(%x: tensor<2x10xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x9xf32>
  // expected-error @+2 {{'vai.inner_product' op weight must be [O, I] with I = 10 input features, got 9}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.inner_product %x, %w : (tensor<2x10xf32>, tensor<4x9xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @inner_product_rank(%x: tensor<2x5x2xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x10xf32>
  // expected-error @+2 {{'vai.inner_product' op input must have rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.inner_product %x, %w : (tensor<2x5x2xf32>, tensor<4x10xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @inner_product_bias(%x: tensor<2x10xf32>) {
  %w = vai.constant dense<1.0> : tensor<4x10xf32>
  %b = vai.constant dense<1.0> : tensor<2xf32>
  // expected-error @+2 {{'vai.inner_product' op bias must have 4 entries (one per channel), got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.inner_product %x, %w, %b : (tensor<2x10xf32>, tensor<4x10xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+2 {{'vai.matmul' op operands must have rank >= 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.matmul %a, %b : (tensor<4xf32>, tensor<4x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_k(%a: tensor<3x4xf32>, %b: tensor<5x2xf32>) {
  // expected-error @+2 {{'vai.matmul' op contracting dimensions differ: lhs has K = 4, rhs has K = 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.matmul %a, %b : (tensor<3x4xf32>, tensor<5x2xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x2xf32>) {
  // expected-error @+2 {{'vai.matmul' op batch dimensions must be equal, or one operand must have rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x2xf32>) -> tensor<2x3x2xf32>
  return
}

// -----

func.func @batch_norm_param(%x: tensor<1x8x8x3xf32>) {
  %m = vai.constant dense<1.0> : tensor<4xf32>
  %c = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.batch_norm' op mean must have 3 entries (one per channel), got 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.batch_norm %x, %m, %c, %c, %c : (tensor<1x8x8x3xf32>, tensor<4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @batch_norm_param_rank(%x: tensor<1x8x8x3xf32>) {
  %m = vai.constant dense<1.0> : tensor<1x3xf32>
  %c = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.batch_norm' op variance must have rank 1, got 'tensor<1x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.batch_norm %x, %c, %m, %c, %c : (tensor<1x8x8x3xf32>, tensor<3xf32>, tensor<1x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @batch_norm_epsilon(%x: tensor<1x8x8x3xf32>) {
  %m = vai.constant dense<1.0> : tensor<3xf32>
  %c = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.batch_norm' op epsilon must be >= 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.batch_norm %x, %c, %c, %c, %c {epsilon = -1.0 : f32} : (tensor<1x8x8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @batch_norm_scalar(%x: tensor<f32>) {
  %m = vai.constant dense<1.0> : tensor<3xf32>
  %c = vai.constant dense<1.0> : tensor<3xf32>
  // expected-error @+2 {{'vai.batch_norm' op input must have rank >= 1 (channels last)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.batch_norm %x, %c, %c, %c, %c : (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  return
}

// -----

func.func @scale_param(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<2xf32>
  // expected-error @+2 {{'vai.scale' op scale must have 3 entries (one per channel), got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.scale %x, %w : (tensor<1x8x8x3xf32>, tensor<2xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @scale_bias(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<3xf32>
  %b = vai.constant dense<1.0> : tensor<4xf32>
  // expected-error @+2 {{'vai.scale' op bias must have 3 entries (one per channel), got 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.scale %x, %w, %b : (tensor<1x8x8x3xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @bias_add(%x: tensor<1x8x8x3xf32>) {
  %b = vai.constant dense<1.0> : tensor<8xf32>
  // expected-error @+2 {{'vai.bias_add' op bias must have 3 entries (one per channel), got 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.bias_add %x, %b : (tensor<1x8x8x3xf32>, tensor<8xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @prelu_slope(%x: tensor<1x8x8x3xf32>) {
  %w = vai.constant dense<1.0> : tensor<2xf32>
  // expected-error @+2 {{'vai.prelu' op slope must have 1 or 3 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.prelu %x, %w : (tensor<1x8x8x3xf32>, tensor<2xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @leaky_alpha(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.leaky_relu' op alpha must be finite}}
  %0 = vai.leaky_relu %x {alpha = 0x7FC00000 : f32} : tensor<4xf32>
  return
}

// -----

func.func @clip_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.clip' op min (6.000000e+00) must not exceed max (0.000000e+00)}}
  %0 = vai.clip %x {min = 6.0 : f32, max = 0.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @dropout_ratio(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.dropout' op ratio must be in [0, 1), got 1}}
  %0 = vai.dropout %x {ratio = 1.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @unary_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.relu' op requires the same type for all operands and results}}
  %0 = "vai.relu"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @unary_integer(%x: tensor<4xi8>) {
  // expected-error @+1 {{'vai.sigmoid' op operand #0 must be statically shaped tensor of 32-bit float values}}
  %0 = vai.sigmoid %x : tensor<4xi8>
  return
}

// -----

func.func @pool_kernel_count(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+2 {{'vai.max_pool2d' op 'kernel' must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.max_pool2d %x {kernel = array<i64: 2, 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x7x7x3xf32>
  return
}

// -----

func.func @pool_pad(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+2 {{'vai.avg_pool2d' op padding must be smaller than the kernel}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.avg_pool2d %x {kernel = array<i64: 2, 2>, pad = array<i64: 2, 0, 0, 0>} : (tensor<1x8x8x3xf32>) -> tensor<1x9x7x3xf32>
  return
}

// -----

func.func @pool_window(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+2 {{'vai.max_pool2d' op the 9x2 window does not fit the 8x8 padded input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.max_pool2d %x {kernel = array<i64: 9, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x1x7x3xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<8x8x3xf32>) {
  // expected-error @+2 {{'vai.max_pool2d' op input must have rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<8x8x3xf32>) -> tensor<1x7x7x3xf32>
  return
}

// -----

func.func @pool_result(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+2 {{'vai.max_pool2d' op inferred type(s) 'tensor<1x4x4x3xf32>' are incompatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x5x5x3xf32>
  return
}

// -----

func.func @global_pool_rank(%x: tensor<8x3xf32>) {
  // expected-error @+2 {{'vai.global_avg_pool2d' op input must have rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.global_avg_pool2d %x : (tensor<8x3xf32>) -> tensor<1x1x1x3xf32>
  return
}

// -----

func.func @global_max_pool_rank(%x: tensor<8x3xf32>) {
  // expected-error @+2 {{'vai.global_max_pool2d' op input must have rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.global_max_pool2d %x : (tensor<8x3xf32>) -> tensor<1x1x1x3xf32>
  return
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{'vai.add' op operand shapes 'tensor<2x3xf32>' and 'tensor<4x3xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.add %a, %b : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @broadcast_mul(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+2 {{'vai.mul' op operand shapes 'tensor<2x3xf32>' and 'tensor<3x2xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.mul %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.concat' op axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_type(%a: tensor<2x3xf32>, %b: tensor<2x3xi8>) {
  // expected-error @+2 {{'vai.concat' op input 1 has element type 'i8', expected 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xi8>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<2x3x1xf32>) {
  // expected-error @+2 {{'vai.concat' op input 1 has rank 3, expected 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3x1xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{'vai.concat' op input 1 differs in dimension 0 (4 vs 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+2 {{'vai.concat' op needs at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.reshape' op cannot reshape 6 elements into 7}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.reshape %a {shape = array<i64: 7>} : (tensor<2x3xf32>) -> tensor<7xf32>
  return
}

// -----

func.func @reshape_zero(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.reshape' op 'shape' entries must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.reshape %a {shape = array<i64: 6, 0>} : (tensor<2x3xf32>) -> tensor<6x0xf32>
  return
}

// -----

func.func @flatten_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.flatten' op axis 3 must be in [0, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.flatten %a {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return
}

// -----

func.func @transpose_perm(%a: tensor<2x3x4xf32>) {
  // expected-error @+3 {{'vai.transpose' op 'perm' lists axis 0 twice}}
  // expected-error @+2 {{'vai.transpose' op 'perm' must be a permutation of 0..3-1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transpose %a {perm = array<i64: 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x3xf32>
  return
}

// -----

func.func @transpose_perm_size(%a: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'vai.transpose' op 'perm' must be a permutation of 0..3-1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @squeeze_size(%a: tensor<2x1xf32>) {
  // expected-error @+2 {{'vai.squeeze' op cannot squeeze dimension 0 of size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.squeeze %a {axes = array<i64: 0>} : (tensor<2x1xf32>) -> tensor<1xf32>
  return
}

// -----

func.func @squeeze_range(%a: tensor<2x1xf32>) {
  // expected-error @+2 {{'vai.squeeze' op 'axes' entry 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.squeeze %a {axes = array<i64: 2>} : (tensor<2x1xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @slice_past_end(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{'vai.slice' op dimension 1 reads index 7 past its size 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.slice %a {offsets = array<i64: 0, 1>, sizes = array<i64: 2, 4>, strides = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_sizes(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{'vai.slice' op 'sizes' entries must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.slice %a {offsets = array<i64: 0, 0>, sizes = array<i64: 0, 3>} : (tensor<4x6xf32>) -> tensor<0x3xf32>
  return
}

// -----

func.func @slice_offsets_count(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{'vai.slice' op 'offsets' must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.slice %a {offsets = array<i64: 0>, sizes = array<i64: 1, 3>} : (tensor<4x6xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @slice_stride(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{'vai.slice' op 'strides' entries must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.slice %a {offsets = array<i64: 0, 0>, sizes = array<i64: 1, 3>, strides = array<i64: 1, 0>} : (tensor<4x6xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @pad_reflect(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.pad' op reflect padding of dimension 0 must be smaller than its size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.pad %a {low = array<i64: 2, 0>, high = array<i64: 0, 0>, mode = #vai<pad_mode reflect>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @pad_negative(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.pad' op 'low' entries must be >= 0, got -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.pad %a {low = array<i64: -1, 0>, high = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @pad_count(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.pad' op 'high' must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.pad %a {low = array<i64: 0, 0>, high = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @resize_rank(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.resize' op input must have rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.resize %a {size = array<i64: 4, 6>} : (tensor<2x3xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @resize_size(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+2 {{'vai.resize' op 'size' must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.resize %x {size = array<i64: 16>} : (tensor<1x8x8x3xf32>) -> tensor<1x16x16x3xf32>
  return
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.softmax' op axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_mean_empty(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.reduce_mean' op 'axes' must not be empty}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.reduce_mean %a {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_mean_duplicate(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'vai.reduce_mean' op 'axes' lists axis 1 twice}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = vai.reduce_mean %a {axes = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @fix_bit_width(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.fix' op bit_width must be in [2, 16], got 32}}
  %0 = vai.fix %x {fix_point = 3 : i64, bit_width = 32 : i64} : tensor<4xf32>
  return
}

// -----

func.func @fix_point_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vai.fix' op fix_point must be in [-64, 64], got 100}}
  %0 = vai.fix %x {fix_point = 100 : i64} : tensor<4xf32>
  return
}

// -----

func.func @fix_missing_point(%x: tensor<4xf32>) {
  // expected-error @+1 {{requires attribute 'fix_point'}}
  %0 = vai.fix %x : tensor<4xf32>
  return
}
