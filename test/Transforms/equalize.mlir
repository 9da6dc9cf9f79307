// RUN: vai-opt %s -split-input-file -vai-equalize | FileCheck %s
// RUN: vai-opt %s -split-input-file -vai-equalize=replace-relu6=false | FileCheck %s --check-prefix=KEEP

// conv (relu) -> conv: channel 1 of the first layer has weights 8x those of
// channel 0, the second layer reads both equally; equalization balances
// them: s = sqrt(r1 / r2) = (sqrt(0.25), sqrt(2)).
// CHECK-LABEL: func @pair
// CHECK: %[[W1:.*]] = vai.constant dense<{{\[\[\[\[}}5.000000e-01]]], {{\[\[\[}}1.41421{{[0-9]+}}]]]]>
// CHECK: %[[B1:.*]] = vai.constant dense<[2.000000e-01, 0.70710{{[0-9]+}}]>
// CHECK: vai.conv2d %arg0, %[[W1]], %[[B1]] {act = #vai<act relu>}
// CHECK: %[[W2:.*]] = vai.constant dense<{{\[\[\[\[}}5.000000e-01, 1.41421{{[0-9]+}}]]]]>
func.func @pair(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
  %w1 = vai.constant dense<[[[[0.25]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %b1 = vai.constant dense<[0.1, 1.0]> : tensor<2xf32>
  %c1 = vai.conv2d %x, %w1, %b1 {act = #vai<act relu>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %w2 = vai.constant dense<[[[[1.0, 1.0]]]]> : tensor<1x1x1x2xf32>
  %c2 = vai.conv2d %c1, %w2 : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x1xf32>
  return %c2 : tensor<1x2x2x1xf32>
}

// -----

// A fused relu6 becomes relu (default), or blocks the pair.
// CHECK-LABEL: func @relu6
// CHECK: vai.conv2d {{.*}}{act = #vai<act relu>}
// KEEP-LABEL: func @relu6
// KEEP: vai.conv2d {{.*}}{act = #vai<act relu6>}
// KEEP: vai.constant dense<1.000000e+00> : tensor<1x1x1x2xf32>
func.func @relu6(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
  %w1 = vai.constant dense<[[[[0.25]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %c1 = vai.conv2d %x, %w1 {act = #vai<act relu6>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %w2 = vai.constant dense<[[[[1.0, 1.0]]]]> : tensor<1x1x1x2xf32>
  %c2 = vai.conv2d %c1, %w2 : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x1xf32>
  return %c2 : tensor<1x2x2x1xf32>
}

// -----

// A dead channel (zero weights, bias <= 0 before relu) outputs zeros: the
// depthwise weights reading it are zeroed instead of setting its range.
// CHECK-LABEL: func @dead
// CHECK: vai.conv2d
// CHECK: %[[DW:.*]] = vai.constant dense<{{\[\[\[\[}}{{[0-9.e+-]+}}, 0.000000e+00]]]]>
// CHECK: vai.depthwise_conv2d %{{.*}}, %[[DW]]
func.func @dead(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> {
  %w1 = vai.constant dense<[[[[0.5]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %b1 = vai.constant dense<[0.1, -0.3]> : tensor<2xf32>
  %c1 = vai.conv2d %x, %w1, %b1 {act = #vai<act relu>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %dw = vai.constant dense<[[[[1.0, 70.0]]]]> : tensor<1x1x1x2xf32>
  %d = vai.depthwise_conv2d %c1, %dw : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  return %d : tensor<1x2x2x2xf32>
}
