// RUN: vai-opt %s | FileCheck %s
// RUN: vai-opt %s | vai-opt | FileCheck %s
// RUN: vai-opt %s -mlir-print-op-generic | vai-opt | FileCheck %s
// RUN: vai-opt %s -dpu-mc-roundtrip | FileCheck %s
// RUN: vai-opt %s -dpu-verify-target
// RUN: vai-opt %s -dpu-mc-roundtrip -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC
// LOC: dpu.save {{.*}} wait conv loc(#[[L:.*]])
// LOC: #[[L]] = loc("conv1")
// RUN: vai-opt %s -dpu-disassemble="o=%t.txt" -o /dev/null
// RUN: FileCheck %s --check-prefix=LIST --input-file=%t.txt
// LIST: program @all_ops target DPUCADF8H_ISA0: 14 instructions
// LIST: SAVE wait=conv reg=1 group=1 ddr_offset=0x1000 {{.*}} ; conv1
// LIST: END
// LIST-NEXT: total
// Every dpu op round-trips through the parser, the generic form and the
// machine code (encode, decode, rebuild): the output equals the input.

// CHECK-LABEL: dpu.program @all_ops target "DPUCADF8H_ISA0" {
dpu.program @all_ops target "DPUCADF8H_ISA0" {
  // CHECK-NEXT: dpu.load ddr <0, 1024> -> bank <3, 0> shape [16, 9, 32] strides [288, 32]
  dpu.load ddr <0, 1024> -> bank <3, 0> shape [16, 9, 32] strides [288, 32]
  // CHECK-NEXT: dpu.load ddr <0, 0> -> bank <3, 576> shape [1, 1, 16] strides [0, 0] notify conv|dwconv
  dpu.load ddr <0, 0> -> bank <3, 576> shape [1, 1, 16] strides [0, 0] notify conv|dwconv
  // CHECK-NEXT: dpu.load ddr <2, 0> -> bank <0, 0> shape [10, 10, 32] strides [320, 32] notify conv
  dpu.load ddr <2, 0> -> bank <0, 0> shape [10, 10, 32] strides [320, 32] notify conv
  // CHECK-NEXT: dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 3 shift_cut 7 act relu6 act_max 48
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 3 shift_cut 7 act relu6 act_max 48
  // CHECK-NEXT: dpu.conv in <0, 0> [10, 10, 32] -> out <1, 0> [10, 10, 16] weights <3, 0> bias <3, 576> edge top|bottom|left|right wait load notify save|pool
  dpu.conv in <0, 0> [10, 10, 32] -> out <1, 0> [10, 10, 16] weights <3, 0> bias <3, 576> edge top|bottom|left|right wait load notify save|pool
  // CHECK-NEXT: dpu.save bank <1, 0> -> ddr <1, 4096> shape [10, 10, 16] strides [160, 16] wait conv
  dpu.save bank <1, 0> -> ddr <1, 4096> shape [10, 10, 16] strides [160, 16] wait conv loc("conv1")
  // CHECK-NEXT: dpu.dwconv_init kernel [3, 3] stride [2, 2] dilation [2, 2] pad [0, 0, 0, 0] shift_bias 0 shift_cut 6 act leaky_relu
  dpu.dwconv_init kernel [3, 3] stride [2, 2] dilation [2, 2] pad [0, 0, 0, 0] shift_bias 0 shift_cut 6 act leaky_relu
  // CHECK-NEXT: dpu.dwconv in <0, 0> [9, 9, 16] -> out <2, 0> [3, 3, 16] weights <3, 1000> bias <3, 1009> wait load
  dpu.dwconv in <0, 0> [9, 9, 16] -> out <2, 0> [3, 3, 16] weights <3, 1000> bias <3, 1009> wait load
  // CHECK-NEXT: dpu.pool_init avg kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] mul 7 shift 6
  dpu.pool_init avg kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] mul 7 shift 6
  // CHECK-NEXT: dpu.pool in <1, 0> [10, 10, 16] -> out <2, 100> [10, 10, 16] edge top|bottom|left|right wait conv
  dpu.pool in <1, 0> [10, 10, 16] -> out <2, 100> [10, 10, 16] edge top|bottom|left|right wait conv
  // CHECK-NEXT: dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] shift -1
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] shift -1
  // CHECK-NEXT: dpu.eltwise <2, 100> shl 1, <1, 0> -> <2, 100> [10, 10, 16] shr 2 relu
  dpu.eltwise <2, 100> shl 1, <1, 0> -> <2, 100> [10, 10, 16] shr 2 relu
  // CHECK-NEXT: dpu.eltwise <0, 0>, <1, 0> -> <2, 0> [1, 1, 1]
  dpu.eltwise <0, 0>, <1, 0> -> <2, 0> [1, 1, 1]
  // CHECK-NEXT: dpu.end
  dpu.end
}
