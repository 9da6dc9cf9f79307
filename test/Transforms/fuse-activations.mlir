// RUN: vai-opt %s -split-input-file -vai-fuse-activations | FileCheck %s

// CHECK-LABEL: func @fused
func.func @fused(%x: tensor<1x4x4x1xf32>, %v: tensor<2x3xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<2x2xf32>, tensor<1x4x4x1xf32>) {
  %w = vai.constant dense<1.0> : tensor<2x1x1x1xf32>
  // CHECK: %[[A:.*]] = vai.conv2d {{.*}}{act = #vai<act relu>}
  %c = vai.conv2d %x, %w : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %r = vai.relu %c : tensor<1x4x4x2xf32>
  // CHECK: %[[B:.*]] = vai.depthwise_conv2d {{.*}}{act = #vai<act leaky_relu>, act_alpha = 1.000000e-01 : f32}
  %dw = vai.constant dense<1.0> : tensor<2x1x1x1xf32>
  %d = vai.depthwise_conv2d %x, %dw : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %l = vai.leaky_relu %d {alpha = 0.1 : f32} : tensor<1x4x4x2xf32>
  // CHECK: %[[C:.*]] = vai.inner_product {{.*}}{act = #vai<act relu6>}
  %fw = vai.constant dense<1.0> : tensor<2x3xf32>
  %f = vai.inner_product %v, %fw : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %r6 = vai.clip %f {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x2xf32>
  // CHECK: %[[D:.*]] = vai.add {{.*}}{act = #vai<act relu6>}
  %a = vai.add %x, %x : (tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  %ar = vai.relu6 %a : tensor<1x4x4x1xf32>
  // CHECK-NOT: vai.relu
  // CHECK-NOT: vai.leaky_relu
  // CHECK-NOT: vai.clip
  // CHECK: return %[[A]], %[[B]], %[[C]], %[[D]]
  return %r, %l, %r6, %ar : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<2x2xf32>, tensor<1x4x4x1xf32>
}

// -----

// Not fused: two users, an activation already fused, a non-fusable
// producer, a clip that is not relu6.
// CHECK-LABEL: func @kept
func.func @kept(%x: tensor<1x4x4x1xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>) {
  %w = vai.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = vai.conv2d %x, %w : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  // CHECK: vai.relu
  %r = vai.relu %c : tensor<1x4x4x2xf32>
  %c2 = vai.conv2d %x, %w {act = #vai<act relu>} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  // CHECK: vai.relu6
  %r2 = vai.relu6 %c2 : tensor<1x4x4x2xf32>
  %m = vai.max_pool2d %x {kernel = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  // CHECK: vai.relu %{{.*}} : tensor<1x4x4x1xf32>
  %r3 = vai.relu %m : tensor<1x4x4x1xf32>
  %a = vai.add %x, %x : (tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  // CHECK: vai.clip
  %cl = vai.clip %a {min = 0.0 : f32, max = 4.0 : f32} : tensor<1x4x4x1xf32>
  return %r, %c, %r2, %r3, %cl : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>
}
