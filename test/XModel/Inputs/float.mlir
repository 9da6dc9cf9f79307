func.func @main(%x: tensor<1x4x4x2xf32> loc("data")) -> tensor<1x4x4x2xf32> {
  %r = vai.relu %x : tensor<1x4x4x2xf32> loc("relu")
  return %r : tensor<1x4x4x2xf32>
}
