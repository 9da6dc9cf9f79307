// RUN: vai-opt %s -vai-fold-batch-norm -mlir-print-debuginfo | FileCheck %s

// The folded conv keeps both layer names.
// CHECK-LABEL: func @locations
// CHECK: vai.inner_product {{.*}} loc(#[[LOC:.*]])
// CHECK-DAG: #[[FC:.*]] = loc("fc")
// CHECK-DAG: #[[SCALE:.*]] = loc("scale")
// CHECK-DAG: #[[LOC]] = loc(fused[#[[FC]], #[[SCALE]]])
func.func @locations(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = vai.constant dense<1.0> : tensor<2x3xf32>
  %fc = vai.inner_product %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32> loc("fc")
  %s = vai.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %y = vai.scale %fc, %s : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32> loc("scale")
  return %y : tensor<2x2xf32>
}

