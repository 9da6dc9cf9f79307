// RUN: vai-opt %s -split-input-file -vai-fold-batch-norm | FileCheck %s

// conv -> batch_norm: weights scaled per output channel, bias folded.
// s = scale / sqrt(var + eps) = [2, 0.5]; b = offset - mean * s = [1 - 2, 0 - 0.5].
// CHECK-LABEL: func @conv_bn
func.func @conv_bn(%x: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> {
  // CHECK-DAG: %[[W:.*]] = vai.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}5.000000e-01]]]]> : tensor<2x1x1x1xf32>
  // CHECK-DAG: %[[B:.*]] = vai.constant dense<[-1.000000e+00, 2.500000e-01]> : tensor<2xf32>
  // CHECK: %[[C:.*]] = vai.conv2d %{{.*}}, %[[W]], %[[B]]
  // CHECK-NOT: vai.batch_norm
  // CHECK-NOT: vai.scale
  // CHECK: return %[[C]]
  %w = vai.constant dense<1.0> : tensor<2x1x1x1xf32>
  %b = vai.constant dense<[0.0, 1.5]> : tensor<2xf32>
  %c = vai.conv2d %x, %w, %b : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32> loc("conv")
  %mean = vai.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %var = vai.constant dense<[0.25, 4.0]> : tensor<2xf32>
  %gamma = vai.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %beta = vai.constant dense<[0.0, 0.0]> : tensor<2xf32>
  %bn = vai.batch_norm %c, %mean, %var, %gamma, %beta {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32> loc("bn")
  return %bn : tensor<1x4x4x2xf32>
}

// -----

// Depthwise weights [M, KH, KW, C]: output channel c * M + m.
// CHECK-LABEL: func @depthwise_scale_bias_add
func.func @depthwise_scale_bias_add(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x4xf32> {
  // CHECK: %[[W:.*]] = vai.constant dense<{{\[\[\[\[}}1.000000e+00, 3.000000e+00]]], {{\[\[\[}}2.000000e+00, 4.000000e+00]]]]> : tensor<2x1x1x2xf32>
  // CHECK: %[[B:.*]] = vai.constant dense<1.000000e+01> : tensor<4xf32>
  // CHECK: vai.depthwise_conv2d %{{.*}}, %[[W]], %[[B]]
  // CHECK-NOT: vai.scale
  // CHECK-NOT: vai.bias_add
  %w = vai.constant dense<1.0> : tensor<2x1x1x2xf32>
  %d = vai.depthwise_conv2d %x, %w : (tensor<1x3x3x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x3x3x4xf32>
  %s = vai.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y = vai.scale %d, %s : (tensor<1x3x3x4xf32>, tensor<4xf32>) -> tensor<1x3x3x4xf32>
  %b = vai.constant dense<10.0> : tensor<4xf32>
  %z = vai.bias_add %y, %b : (tensor<1x3x3x4xf32>, tensor<4xf32>) -> tensor<1x3x3x4xf32>
  return %z : tensor<1x3x3x4xf32>
}

// -----

// Not folded: the conv has another user, a fused activation, or the scale
// is not constant. A standalone batch norm still becomes a scale.
// CHECK-LABEL: func @kept
func.func @kept(%x: tensor<1x4x4x1xf32>, %dyn: tensor<2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x1xf32>, tensor<1x4x4x2xf32>) {
  %w = vai.constant dense<1.0> : tensor<2x1x1x1xf32>
  %s = vai.constant dense<2.0> : tensor<2xf32>
  // CHECK: %[[C1:.*]] = vai.conv2d
  // CHECK: vai.scale %[[C1]]
  %c1 = vai.conv2d %x, %w : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %y1 = vai.scale %c1, %s : (tensor<1x4x4x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  // CHECK: %[[C2:.*]] = vai.conv2d {{.*}}act = #vai<act relu>
  // CHECK: vai.scale %[[C2]]
  %c2 = vai.conv2d %x, %w {act = #vai<act relu>} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %y2 = vai.scale %c2, %s : (tensor<1x4x4x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  // CHECK: %[[C3:.*]] = vai.conv2d
  // CHECK: vai.scale %[[C3]], %{{.*}} :
  %c3 = vai.conv2d %x, %w : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %y3 = vai.scale %c3, %dyn : (tensor<1x4x4x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  // CHECK: vai.scale %arg0
  // CHECK-NOT: vai.batch_norm
  %p = vai.constant dense<1.0> : tensor<1xf32>
  %bn = vai.batch_norm %x, %p, %p, %p, %p : (tensor<1x4x4x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x1xf32>
  return %y1, %y2, %y3, %bn, %c1 : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x1xf32>, tensor<1x4x4x2xf32>
}
