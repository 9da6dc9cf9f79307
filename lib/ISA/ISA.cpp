//===- ISA.cpp - vai-mlir's DPUCADF8H instruction set ---------------------===//
//
// One table per instruction kind lists its fields (word, bit position, width,
// encoding bias, legal range); encoding, decoding, range checks, disassembly
// and the Markdown table in docs/isa.md are all driven by it.
//
//===----------------------------------------------------------------------===//

#include "vai/ISA/ISA.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <type_traits>

namespace vai::isa {

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

const char *engineName(Engine e) {
  switch (e) {
  case Engine::Load:
    return "load";
  case Engine::Save:
    return "save";
  case Engine::Conv:
    return "conv";
  case Engine::DwConv:
    return "dwconv";
  case Engine::Pool:
    return "pool";
  case Engine::Eltwise:
    return "eltwise";
  }
  return "?";
}

std::string engineMaskStr(uint32_t mask) {
  std::string s;
  for (int e = 0; e < kNumEngines; ++e)
    if (mask & (1u << e))
      s += (s.empty() ? "" : "|") + std::string(engineName(Engine(e)));
  return s.empty() ? "none" : s;
}

const char *opcodeName(Opcode op) {
  switch (op) {
  case Opcode::Load:
    return "LOAD";
  case Opcode::Save:
    return "SAVE";
  case Opcode::ConvInit:
    return "CONVINIT";
  case Opcode::Conv:
    return "CONV";
  case Opcode::DwInit:
    return "DWINIT";
  case Opcode::DwConv:
    return "DWCONV";
  case Opcode::PoolInit:
    return "POOLINIT";
  case Opcode::Pool:
    return "POOL";
  case Opcode::Eltwise:
    return "ELTWISE";
  case Opcode::End:
    return "END";
  }
  return "?";
}

const char *activationName(Activation a) {
  switch (a) {
  case Activation::None:
    return "none";
  case Activation::Relu:
    return "relu";
  case Activation::Relu6:
    return "relu6";
  case Activation::LeakyRelu:
    return "leaky_relu";
  }
  return "?";
}

std::string edgeMaskStr(uint32_t mask) {
  static const char *names[] = {"top", "bottom", "left", "right"};
  std::string s;
  for (int i = 0; i < 4; ++i)
    if (mask & (1u << i))
      s += (s.empty() ? "" : "|") + std::string(names[i]);
  return s.empty() ? "none" : s;
}

bool WindowConfig::operator==(const WindowConfig &o) const {
  return deps == o.deps && kernelH == o.kernelH && kernelW == o.kernelW &&
         strideH == o.strideH && strideW == o.strideW &&
         dilationH == o.dilationH && dilationW == o.dilationW &&
         padTop == o.padTop && padBottom == o.padBottom &&
         padLeft == o.padLeft && padRight == o.padRight &&
         shiftBias == o.shiftBias && shiftCut == o.shiftCut && act == o.act &&
         actMax == o.actMax;
}

bool Conv::operator==(const Conv &o) const {
  return deps == o.deps && in == o.in && out == o.out &&
         inChannels == o.inChannels && outChannels == o.outChannels &&
         weightAddr == o.weightAddr && biasAddr == o.biasAddr &&
         weightGroup == o.weightGroup && edge == o.edge;
}

bool DwConv::operator==(const DwConv &o) const {
  return deps == o.deps && in == o.in && out == o.out &&
         channels == o.channels && weightAddr == o.weightAddr &&
         biasAddr == o.biasAddr && weightGroup == o.weightGroup &&
         edge == o.edge;
}

bool PoolInit::operator==(const PoolInit &o) const {
  return deps == o.deps && kind == o.kind && kernelH == o.kernelH &&
         kernelW == o.kernelW && strideH == o.strideH && strideW == o.strideW &&
         padTop == o.padTop && padBottom == o.padBottom &&
         padLeft == o.padLeft && padRight == o.padRight && mul == o.mul &&
         shift == o.shift;
}

bool Eltwise::operator==(const Eltwise &o) const {
  return deps == o.deps && a == o.a && b == o.b && out == o.out &&
         rows == o.rows && cols == o.cols && channels == o.channels &&
         shiftA == o.shiftA && shiftB == o.shiftB && shiftOut == o.shiftOut &&
         relu == o.relu;
}

std::string Error::str() const {
  std::string s;
  if (index >= 0) {
    s = "instruction " + std::to_string(index);
    if (byteOffset >= 0)
      s += " (at byte " + std::to_string(byteOffset) + ")";
    s += ": ";
  } else if (byteOffset >= 0) {
    s = "byte " + std::to_string(byteOffset) + ": ";
  }
  return s + message;
}

//===----------------------------------------------------------------------===//
// Instruction kinds
//===----------------------------------------------------------------------===//

namespace {

template <typename T> struct KindOf;
#define VAI_ISA_KIND(T, OP, ENGINE)                                            \
  template <> struct KindOf<T> {                                               \
    static constexpr Opcode opcode = Opcode::OP;                               \
    static constexpr std::optional<Engine> engine() { return ENGINE; }         \
  };
VAI_ISA_KIND(Load, Load, Engine::Load)
VAI_ISA_KIND(Save, Save, Engine::Save)
VAI_ISA_KIND(ConvInit, ConvInit, Engine::Conv)
VAI_ISA_KIND(Conv, Conv, Engine::Conv)
VAI_ISA_KIND(DwInit, DwInit, Engine::DwConv)
VAI_ISA_KIND(DwConv, DwConv, Engine::DwConv)
VAI_ISA_KIND(PoolInit, PoolInit, Engine::Pool)
VAI_ISA_KIND(Pool, Pool, Engine::Pool)
VAI_ISA_KIND(Eltwise, Eltwise, Engine::Eltwise)
VAI_ISA_KIND(End, End, std::nullopt)
#undef VAI_ISA_KIND

enum class Fmt { Dec, Hex, Act, PoolKindF, Edge, Bool };

/// One field of an instruction: bits [lsb + width - 1 : lsb] of word `word`
/// hold `value - bias` (two's complement when `isSigned`).
template <typename T> struct Field {
  const char *name;
  unsigned word, lsb, width;
  int64_t bias, min, max;
  bool isSigned;
  Fmt fmt;
  int64_t (*get)(const T &);
  void (*set)(T &, int64_t);
  const char *doc;
};

#define FIELD(T, NAME, WORD, LSB, WIDTH, BIAS, MIN, MAX, SIGNED, FMT, EXPR,    \
              DOC)                                                             \
  Field<T> {                                                                   \
    NAME, WORD, LSB, WIDTH, BIAS, MIN, MAX, SIGNED, Fmt::FMT,                  \
        [](const T &i) -> int64_t { return static_cast<int64_t>(i.EXPR); },    \
        [](T &i, int64_t v) {                                                  \
          i.EXPR = static_cast<std::remove_reference_t<decltype(i.EXPR)>>(v);  \
        },                                                                     \
        DOC                                                                    \
  }

using L = EncodingLimits;

template <typename T> std::vector<Field<T>> transferFields() {
  return {
      FIELD(T, "reg", 0, 13, 3, 0, 0, L::kMaxRegs - 1, false, Dec, ddr.reg,
            "DDR register id"),
      FIELD(T, "group", 0, 11, 2, 0, 0, L::kMaxBankGroups - 1, false, Dec,
            bank.group, "bank group index"),
      FIELD(T, "ddr_offset", 1, 0, 32, 0, 0, L::kMaxDdrOffset - 1, false, Hex,
            ddr.offset, "byte offset from the register's base"),
      FIELD(T, "bank_addr", 2, 15, 17, 0, 0, L::kMaxBankAddr - 1, false, Hex,
            bank.addr, "word address in the bank group"),
      FIELD(T, "channels", 2, 2, 13, 1, 1, L::kMaxChannels, false, Dec,
            channels, "channels per pixel"),
      FIELD(T, "rows", 3, 16, 16, 1, 1, L::kMaxTransferDim, false, Dec, rows,
            "rows of the block"),
      FIELD(T, "cols", 3, 0, 16, 1, 1, L::kMaxTransferDim, false, Dec, cols,
            "pixels per row"),
      FIELD(T, "row_stride", 4, 8, 24, 0, 0, L::kMaxStride - 1, false, Dec,
            rowStride, "DDR bytes between rows"),
      FIELD(T, "col_stride", 5, 8, 24, 0, 0, L::kMaxStride - 1, false, Dec,
            colStride, "DDR bytes between pixels"),
  };
}

template <typename T> std::vector<Field<T>> windowFields() {
  return {
      FIELD(T, "kernel_h", 0, 12, 4, 1, 1, L::kMaxKernel, false, Dec, kernelH,
            "window height"),
      FIELD(T, "kernel_w", 0, 8, 4, 1, 1, L::kMaxKernel, false, Dec, kernelW,
            "window width"),
      FIELD(T, "stride_h", 0, 5, 3, 1, 1, L::kMaxWindowStride, false, Dec,
            strideH, "vertical stride"),
      FIELD(T, "stride_w", 0, 2, 3, 1, 1, L::kMaxWindowStride, false, Dec,
            strideW, "horizontal stride"),
      FIELD(T, "pad_top", 1, 28, 4, 0, 0, L::kMaxPad, false, Dec, padTop,
            "layer padding (applies when edge has top)"),
      FIELD(T, "pad_bottom", 1, 24, 4, 0, 0, L::kMaxPad, false, Dec, padBottom,
            "layer padding (edge bottom)"),
      FIELD(T, "pad_left", 1, 20, 4, 0, 0, L::kMaxPad, false, Dec, padLeft,
            "layer padding (edge left)"),
      FIELD(T, "pad_right", 1, 16, 4, 0, 0, L::kMaxPad, false, Dec, padRight,
            "layer padding (edge right)"),
  };
}

template <typename T> std::vector<Field<T>> fields();

template <> std::vector<Field<Load>> fields<Load>() {
  return transferFields<Load>();
}
template <> std::vector<Field<Save>> fields<Save>() {
  return transferFields<Save>();
}

template <typename T> std::vector<Field<T>> convConfigFields() {
  std::vector<Field<T>> f = windowFields<T>();
  std::vector<Field<T>> more = {
      FIELD(T, "dilation_h", 1, 12, 4, 1, 1, L::kMaxDilation, false, Dec,
            dilationH, "vertical dilation"),
      FIELD(T, "dilation_w", 1, 8, 4, 1, 1, L::kMaxDilation, false, Dec,
            dilationW, "horizontal dilation"),
      FIELD(T, "shift_bias", 2, 28, 4, 0, 0, L::kMaxShiftBias, false, Dec,
            shiftBias, "bias left shift"),
      FIELD(T, "shift_cut", 2, 23, 5, 0, 0, L::kMaxShiftCut, false, Dec,
            shiftCut, "result right shift"),
      FIELD(T, "act", 2, 20, 3, 0, 0, 3, false, Act, act,
            "0 none, 1 relu, 2 relu6, 3 leaky_relu (26/256)"),
      FIELD(T, "act_max", 2, 13, 7, 0, 0, L::kMaxActMax, false, Dec, actMax,
            "relu6 clamp floor(6 * 2^py); 0 unless relu6"),
  };
  f.insert(f.end(), more.begin(), more.end());
  return f;
}
template <> std::vector<Field<ConvInit>> fields<ConvInit>() {
  return convConfigFields<ConvInit>();
}
template <> std::vector<Field<DwInit>> fields<DwInit>() {
  return convConfigFields<DwInit>();
}

/// Edge, input tile and output tile of CONV, DWCONV and POOL (words 0-4;
/// the channel counts are added per kind).
template <typename T> std::vector<Field<T>> tileFields() {
  return {
      FIELD(T, "edge", 0, 12, 4, 0, 0, 15, false, Edge, edge,
            "layer borders the tile touches: 1 top, 2 bottom, 4 left, 8 "
            "right"),
      FIELD(T, "in_group", 0, 10, 2, 0, 0, L::kMaxBankGroups - 1, false, Dec,
            in.bank.group, "bank group of the input tile"),
      FIELD(T, "out_group", 0, 8, 2, 0, 0, L::kMaxBankGroups - 1, false, Dec,
            out.bank.group, "bank group of the output tile"),
      FIELD(T, "in_addr", 1, 15, 17, 0, 0, L::kMaxBankAddr - 1, false, Hex,
            in.bank.addr, "input tile word address"),
      FIELD(T, "in_rows", 2, 19, 13, 1, 1, L::kMaxTileDim, false, Dec, in.rows,
            "input tile rows"),
      FIELD(T, "in_cols", 2, 6, 13, 1, 1, L::kMaxTileDim, false, Dec, in.cols,
            "input tile columns"),
      FIELD(T, "out_addr", 3, 15, 17, 0, 0, L::kMaxBankAddr - 1, false, Hex,
            out.bank.addr, "output tile word address"),
      FIELD(T, "out_rows", 4, 19, 13, 1, 1, L::kMaxTileDim, false, Dec,
            out.rows, "output tile rows"),
      FIELD(T, "out_cols", 4, 6, 13, 1, 1, L::kMaxTileDim, false, Dec, out.cols,
            "output tile columns"),
  };
}

/// Weight group and addresses of CONV and DWCONV (words 0, 5, 6).
template <typename T> void addWeightFields(std::vector<Field<T>> &f) {
  f.push_back(FIELD(T, "weight_group", 0, 6, 2, 0, 0, L::kMaxBankGroups - 1,
                    false, Dec, weightGroup, "bank group of weights and bias"));
  f.push_back(FIELD(T, "weight_addr", 5, 15, 17, 0, 0, L::kMaxBankAddr - 1,
                    false, Hex, weightAddr, "word address of the weights"));
  f.push_back(FIELD(T, "bias_addr", 6, 15, 17, 0, 0, L::kMaxBankAddr - 1, false,
                    Hex, biasAddr, "word address of the biases"));
}

template <> std::vector<Field<Conv>> fields<Conv>() {
  std::vector<Field<Conv>> f = tileFields<Conv>();
  f.push_back(FIELD(Conv, "in_channels", 1, 2, 13, 1, 1, L::kMaxChannels, false,
                    Dec, inChannels, "input channels"));
  f.push_back(FIELD(Conv, "out_channels", 3, 2, 13, 1, 1, L::kMaxChannels,
                    false, Dec, outChannels, "output channels"));
  addWeightFields(f);
  return f;
}

template <> std::vector<Field<DwConv>> fields<DwConv>() {
  std::vector<Field<DwConv>> f = tileFields<DwConv>();
  f.push_back(FIELD(DwConv, "channels", 1, 2, 13, 1, 1, L::kMaxChannels, false,
                    Dec, channels, "input = output channels"));
  addWeightFields(f);
  return f;
}

template <> std::vector<Field<PoolInit>> fields<PoolInit>() {
  std::vector<Field<PoolInit>> f = windowFields<PoolInit>();
  std::vector<Field<PoolInit>> more = {
      FIELD(PoolInit, "kind", 0, 1, 1, 0, 0, 1, false, PoolKindF, kind,
            "0 max, 1 avg"),
      FIELD(PoolInit, "mul", 1, 8, 8, 0, 1, L::kMaxPoolMul, false, Dec, mul,
            "avg window-sum multiplier; 1 for max"),
      FIELD(PoolInit, "shift", 1, 2, 6, 0, L::kMinPoolShift, L::kMaxPoolShift,
            true, Dec, shift, "signed: >= 0 right (rounding), < 0 left"),
  };
  f.insert(f.end(), more.begin(), more.end());
  return f;
}

template <> std::vector<Field<Pool>> fields<Pool>() {
  std::vector<Field<Pool>> f = tileFields<Pool>();
  f.push_back(FIELD(Pool, "channels", 1, 2, 13, 1, 1, L::kMaxChannels, false,
                    Dec, channels, "channels"));
  return f;
}

template <> std::vector<Field<Eltwise>> fields<Eltwise>() {
  return {
      FIELD(Eltwise, "relu", 0, 15, 1, 0, 0, 1, false, Bool, relu,
            "fused relu"),
      FIELD(Eltwise, "shift_a", 0, 11, 4, 0, 0, L::kMaxAlignShift, false, Dec,
            shiftA, "left shift of input a"),
      FIELD(Eltwise, "shift_b", 0, 7, 4, 0, 0, L::kMaxAlignShift, false, Dec,
            shiftB, "left shift of input b"),
      FIELD(Eltwise, "shift_out", 0, 2, 5, 0, 0, L::kMaxOutShift, false, Dec,
            shiftOut, "right shift of the sum"),
      FIELD(Eltwise, "a_addr", 1, 15, 17, 0, 0, L::kMaxBankAddr - 1, false, Hex,
            a.addr, "input a word address"),
      FIELD(Eltwise, "a_group", 1, 13, 2, 0, 0, L::kMaxBankGroups - 1, false,
            Dec, a.group, "bank group of input a"),
      FIELD(Eltwise, "channels", 1, 0, 13, 1, 1, L::kMaxChannels, false, Dec,
            channels, "channels"),
      FIELD(Eltwise, "b_addr", 2, 15, 17, 0, 0, L::kMaxBankAddr - 1, false, Hex,
            b.addr, "input b word address"),
      FIELD(Eltwise, "b_group", 2, 13, 2, 0, 0, L::kMaxBankGroups - 1, false,
            Dec, b.group, "bank group of input b"),
      FIELD(Eltwise, "out_addr", 3, 15, 17, 0, 0, L::kMaxBankAddr - 1, false,
            Hex, out.addr, "output word address"),
      FIELD(Eltwise, "out_group", 3, 13, 2, 0, 0, L::kMaxBankGroups - 1, false,
            Dec, out.group, "bank group of the output"),
      FIELD(Eltwise, "rows", 4, 19, 13, 1, 1, L::kMaxTileDim, false, Dec, rows,
            "rows"),
      FIELD(Eltwise, "cols", 4, 6, 13, 1, 1, L::kMaxTileDim, false, Dec, cols,
            "columns"),
  };
}

template <> std::vector<Field<End>> fields<End>() { return {}; }

#undef FIELD

/// The tables, built once.
template <typename T> const std::vector<Field<T>> &table() {
  static const std::vector<Field<T>> t = fields<T>();
  return t;
}

/// Words per instruction kind: the highest word any field uses, plus one.
template <typename T> unsigned wordsOf() {
  unsigned n = 1;
  for (const Field<T> &f : table<T>())
    n = std::max(n, f.word + 1);
  return n;
}

uint64_t fieldMask(unsigned width) {
  return width >= 64 ? ~0ull : ((1ull << width) - 1);
}

std::string rangeStr(int64_t min, int64_t max) {
  return std::to_string(min) + "-" + std::to_string(max);
}

std::string formatValue(Fmt fmt, int64_t v) {
  char buf[32];
  switch (fmt) {
  case Fmt::Hex:
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<long long>(v));
    return buf;
  case Fmt::Act:
    return v >= 0 && v <= 3 ? activationName(Activation(v)) : std::to_string(v);
  case Fmt::PoolKindF:
    return v == 0 ? "max" : v == 1 ? "avg" : std::to_string(v);
  case Fmt::Edge:
    return edgeMaskStr(static_cast<uint32_t>(v));
  case Fmt::Bool:
    return v ? "true" : "false";
  case Fmt::Dec:
    break;
  }
  return std::to_string(v);
}

//===----------------------------------------------------------------------===//
// Header: opcode [31:28], wait [27:22], notify [21:16]
//===----------------------------------------------------------------------===//

constexpr unsigned kOpcodeLsb = 28, kWaitLsb = 22, kNotifyLsb = 16;
constexpr uint32_t kHeaderMask = 0xFFFF0000u;

template <typename T> std::optional<Error> checkFields(const T &inst) {
  for (const Field<T> &f : table<T>()) {
    int64_t v = f.get(inst);
    if (v < f.min || v > f.max)
      return Error{std::string(opcodeName(KindOf<T>::opcode)) + ": " + f.name +
                   " is " + std::to_string(v) + ", expected " +
                   rangeStr(f.min, f.max)};
  }
  return std::nullopt;
}

std::optional<Error> checkDeps(const Deps &d, Opcode op,
                               std::optional<Engine> engine) {
  auto err = [&](const std::string &m) {
    return Error{std::string(opcodeName(op)) + ": " + m};
  };
  if (d.wait & ~kEngineMaskAll)
    return err("wait mask 0x" + formatValue(Fmt::Hex, d.wait).substr(2) +
               " has bits beyond the " + std::to_string(kNumEngines) +
               " engines");
  if (d.notify & ~kEngineMaskAll)
    return err("notify mask 0x" + formatValue(Fmt::Hex, d.notify).substr(2) +
               " has bits beyond the " + std::to_string(kNumEngines) +
               " engines");
  if (!engine) {
    if (d.wait || d.notify)
      return err("END waits for all engines implicitly; its wait and notify "
                 "must be none, got wait=" +
                 engineMaskStr(d.wait) + " notify=" + engineMaskStr(d.notify));
    return std::nullopt;
  }
  uint32_t self = 1u << unsigned(*engine);
  if (d.wait & self)
    return err(std::string("waits for its own engine (") + engineName(*engine) +
               "); instructions of one engine run in "
               "order");
  if (d.notify & self)
    return err(std::string("notifies its own engine (") + engineName(*engine) +
               ")");
  return std::nullopt;
}

/// Checks that go beyond a single field's range.
std::optional<Error> checkCanonical(const Instruction &inst) {
  auto err = [&](const std::string &m) {
    return Error{std::string(opcodeName(opcodeOf(inst))) + ": " + m};
  };
  if (auto *w = std::get_if<ConvInit>(&inst); w || std::get_if<DwInit>(&inst)) {
    const WindowConfig &c =
        w ? static_cast<const WindowConfig &>(*w)
          : static_cast<const WindowConfig &>(std::get<DwInit>(inst));
    if (c.act != Activation::Relu6 && c.actMax != 0)
      return err("act_max is " + std::to_string(c.actMax) + " but act is " +
                 activationName(c.act) +
                 "; act_max must be 0 unless act is relu6");
  }
  if (auto *s = std::get_if<Save>(&inst); s && s->ddr.reg == 0)
    return err("reg 0 holds the parameters, which are read-only; SAVE needs "
               "reg 1 or higher");
  if (auto *p = std::get_if<PoolInit>(&inst)) {
    if (p->kind == PoolKind::Max && p->mul != 1)
      return err("max pooling needs mul 1, got " + std::to_string(p->mul));
    if (p->padTop >= p->kernelH || p->padBottom >= p->kernelH ||
        p->padLeft >= p->kernelW || p->padRight >= p->kernelW)
      return err("padding must be smaller than the kernel (a window would "
                 "hold only padding)");
  }
  return std::nullopt;
}

template <typename T> uint32_t usedBits(unsigned word) {
  uint32_t m = word == 0 ? kHeaderMask : 0;
  for (const Field<T> &f : table<T>())
    if (f.word == word)
      m |= static_cast<uint32_t>(fieldMask(f.width) << f.lsb);
  return m;
}

template <typename T> std::vector<uint32_t> encodeKind(const T &inst) {
  std::vector<uint32_t> w(wordsOf<T>(), 0);
  w[0] = uint32_t(KindOf<T>::opcode) << kOpcodeLsb |
         inst.deps.wait << kWaitLsb | inst.deps.notify << kNotifyLsb;
  for (const Field<T> &f : table<T>()) {
    uint64_t raw = static_cast<uint64_t>(f.get(inst) - f.bias);
    w[f.word] |= static_cast<uint32_t>((raw & fieldMask(f.width)) << f.lsb);
  }
  return w;
}

/// Decodes the words of one instruction of kind T; `words` has exactly
/// wordsOf<T>() entries.
template <typename T> std::variant<T, Error> decodeKind(const uint32_t *words) {
  T inst;
  inst.deps.wait = (words[0] >> kWaitLsb) & kEngineMaskAll;
  inst.deps.notify = (words[0] >> kNotifyLsb) & kEngineMaskAll;
  const char *op = opcodeName(KindOf<T>::opcode);
  for (unsigned i = 0; i < wordsOf<T>(); ++i) {
    uint32_t reserved = words[i] & ~usedBits<T>(i);
    if (reserved) {
      char buf[96];
      std::snprintf(buf, sizeof buf,
                    "%s: reserved bits 0x%08x set in word %u (0x%08x)", op,
                    reserved, i, words[i]);
      return Error{buf};
    }
  }
  for (const Field<T> &f : table<T>()) {
    uint64_t raw = (uint64_t(words[f.word]) >> f.lsb) & fieldMask(f.width);
    int64_t v = static_cast<int64_t>(raw);
    if (f.isSigned && (raw >> (f.width - 1)))
      v -= int64_t(1) << f.width;
    v += f.bias;
    if (v < f.min || v > f.max)
      return Error{std::string(op) + ": " + f.name + " is " +
                   std::to_string(v) + ", expected " + rangeStr(f.min, f.max)};
    f.set(inst, v);
  }
  return inst;
}

template <typename T> std::string disassembleKind(const T &inst) {
  std::string s = opcodeName(KindOf<T>::opcode);
  if (inst.deps.wait)
    s += " wait=" + engineMaskStr(inst.deps.wait);
  if (inst.deps.notify)
    s += " notify=" + engineMaskStr(inst.deps.notify);
  for (const Field<T> &f : table<T>())
    s += std::string(" ") + f.name + "=" + formatValue(f.fmt, f.get(inst));
  return s;
}

template <typename T> std::string markdownKind() {
  std::ostringstream os;
  Opcode op = KindOf<T>::opcode;
  char opc[8];
  std::snprintf(opc, sizeof opc, "0x%X", unsigned(op));
  os << "#### " << opcodeName(op) << " (opcode " << opc << ", " << wordsOf<T>()
     << (wordsOf<T>() == 1 ? " word" : " words") << ")\n\n"
     << "| field | word | bits | encoding | range | meaning |\n"
     << "| --- | --- | --- | --- | --- | --- |\n";
  std::vector<Field<T>> sorted = table<T>();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Field<T> &a, const Field<T> &b) {
                     return a.word != b.word ? a.word < b.word : a.lsb > b.lsb;
                   });
  for (const Field<T> &f : sorted) {
    std::string enc = f.isSigned ? "two's complement"
                      : f.bias   ? "value - " + std::to_string(f.bias)
                                 : "value";
    os << "| " << f.name << " | " << f.word << " | [" << f.lsb + f.width - 1
       << ":" << f.lsb << "] | " << enc << " | " << rangeStr(f.min, f.max)
       << " | " << f.doc << " |\n";
  }
  os << "\n";
  return os.str();
}

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

Opcode opcodeOf(const Instruction &inst) {
  return std::visit(
      [](const auto &i) { return KindOf<std::decay_t<decltype(i)>>::opcode; },
      inst);
}

std::optional<Engine> engineOf(const Instruction &inst) {
  return std::visit(
      [](const auto &i) { return KindOf<std::decay_t<decltype(i)>>::engine(); },
      inst);
}

const Deps &depsOf(const Instruction &inst) {
  return std::visit([](const auto &i) -> const Deps & { return i.deps; }, inst);
}
Deps &depsOf(Instruction &inst) {
  return std::visit([](auto &i) -> Deps & { return i.deps; }, inst);
}

unsigned instructionWords(Opcode op) {
  switch (op) {
  case Opcode::Load:
    return wordsOf<Load>();
  case Opcode::Save:
    return wordsOf<Save>();
  case Opcode::ConvInit:
    return wordsOf<ConvInit>();
  case Opcode::Conv:
    return wordsOf<Conv>();
  case Opcode::DwInit:
    return wordsOf<DwInit>();
  case Opcode::DwConv:
    return wordsOf<DwConv>();
  case Opcode::PoolInit:
    return wordsOf<PoolInit>();
  case Opcode::Pool:
    return wordsOf<Pool>();
  case Opcode::Eltwise:
    return wordsOf<Eltwise>();
  case Opcode::End:
    return wordsOf<End>();
  }
  return 0;
}

std::optional<Error> validate(const Instruction &inst) {
  if (auto e = checkDeps(depsOf(inst), opcodeOf(inst), engineOf(inst)))
    return e;
  if (auto e = std::visit([](const auto &i) { return checkFields(i); }, inst))
    return e;
  return checkCanonical(inst);
}

namespace {
/// Checks that the output windows of a tile stay within the input tile
/// extended by the padding of the borders it touches.
std::optional<Error> checkWindow(const char *op, const Tile &in,
                                 const Tile &out, uint32_t edge, int64_t kh,
                                 int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                                 int64_t dw, int64_t pt, int64_t pb, int64_t pl,
                                 int64_t pr) {
  int64_t top = edge & EdgeTop ? pt : 0, bottom = edge & EdgeBottom ? pb : 0;
  int64_t left = edge & EdgeLeft ? pl : 0, right = edge & EdgeRight ? pr : 0;
  int64_t needRows = (out.rows - 1) * sh + dh * (kh - 1) + 1;
  int64_t needCols = (out.cols - 1) * sw + dw * (kw - 1) + 1;
  auto err = [&](const char *axis, int64_t need, int64_t have) {
    return Error{std::string(op) + ": " + std::to_string(out.rows) + "x" +
                 std::to_string(out.cols) + " output tile reads " +
                 std::to_string(need) + " input " + axis + " but the " +
                 std::to_string(in.rows) + "x" + std::to_string(in.cols) +
                 " input tile with its padding (edge=" + edgeMaskStr(edge) +
                 ") has " + std::to_string(have)};
  };
  if (needRows > in.rows + top + bottom)
    return err("rows", needRows, in.rows + top + bottom);
  if (needCols > in.cols + left + right)
    return err("cols", needCols, in.cols + left + right);
  return std::nullopt;
}

/// The INIT in effect for the compute instruction `inst` (given the latest
/// INIT per kind), or an error when there is none.
struct ConfigState {
  std::optional<ConvInit> conv;
  std::optional<DwInit> dw;
  std::optional<PoolInit> pool;
  /// Records an INIT; checks a compute instruction against its INIT.
  std::optional<Error> step(const Instruction &inst) {
    if (auto *c = std::get_if<ConvInit>(&inst))
      conv = *c;
    else if (auto *d = std::get_if<DwInit>(&inst))
      dw = *d;
    else if (auto *p = std::get_if<PoolInit>(&inst))
      pool = *p;
    else if (auto *c = std::get_if<Conv>(&inst)) {
      if (!conv)
        return Error{"CONV without a preceding CONVINIT"};
      return checkWindow("CONV", c->in, c->out, c->edge, conv->kernelH,
                         conv->kernelW, conv->strideH, conv->strideW,
                         conv->dilationH, conv->dilationW, conv->padTop,
                         conv->padBottom, conv->padLeft, conv->padRight);
    } else if (auto *c = std::get_if<DwConv>(&inst)) {
      if (!dw)
        return Error{"DWCONV without a preceding DWINIT"};
      return checkWindow("DWCONV", c->in, c->out, c->edge, dw->kernelH,
                         dw->kernelW, dw->strideH, dw->strideW, dw->dilationH,
                         dw->dilationW, dw->padTop, dw->padBottom, dw->padLeft,
                         dw->padRight);
    } else if (auto *c = std::get_if<Pool>(&inst)) {
      if (!pool)
        return Error{"POOL without a preceding POOLINIT"};
      return checkWindow("POOL", c->in, c->out, c->edge, pool->kernelH,
                         pool->kernelW, pool->strideH, pool->strideW, 1, 1,
                         pool->padTop, pool->padBottom, pool->padLeft,
                         pool->padRight);
    }
    return std::nullopt;
  }
};
} // namespace

std::optional<Error> validateProgram(const std::vector<Instruction> &program) {
  ConfigState state;
  for (size_t i = 0; i < program.size(); ++i) {
    auto fail = [&](Error e) {
      e.index = static_cast<int64_t>(i);
      return e;
    };
    if (auto e = validate(program[i]))
      return fail(*e);
    if (auto e = state.step(program[i]))
      return fail(*e);
    bool isEnd = std::holds_alternative<End>(program[i]);
    if (isEnd && i + 1 != program.size())
      return fail(Error{"END before the last instruction (" +
                        std::to_string(program.size() - i - 1) +
                        " instructions follow it)"});
  }
  if (program.empty() || !std::holds_alternative<End>(program.back()))
    return Error{"the program does not end with END"};
  return std::nullopt;
}

Result<std::vector<uint32_t>> encodeOne(const Instruction &inst) {
  if (auto e = validate(inst))
    return *e;
  return std::visit([](const auto &i) { return encodeKind(i); }, inst);
}

Result<std::vector<uint8_t>> encode(const std::vector<Instruction> &program) {
  if (auto e = validateProgram(program))
    return *e;
  std::vector<uint8_t> bytes;
  for (const Instruction &inst : program) {
    std::vector<uint32_t> words =
        std::visit([](const auto &i) { return encodeKind(i); }, inst);
    for (uint32_t w : words)
      for (int b = 0; b < 4; ++b)
        bytes.push_back(static_cast<uint8_t>(w >> (8 * b)));
  }
  return bytes;
}

Result<std::vector<Instruction>> decode(const uint8_t *data, size_t size) {
  std::vector<Instruction> program;
  if (size % 4)
    return Error{"machine code is " + std::to_string(size) +
                     " bytes, not a whole number of 32-bit words",
                 -1, static_cast<int64_t>(size - size % 4)};
  if (size && !data)
    return Error{"no machine code buffer"};
  auto word = [&](size_t at) {
    return uint32_t(data[at]) | uint32_t(data[at + 1]) << 8 |
           uint32_t(data[at + 2]) << 16 | uint32_t(data[at + 3]) << 24;
  };
  size_t at = 0;
  while (at < size) {
    int64_t index = static_cast<int64_t>(program.size());
    int64_t offset = static_cast<int64_t>(at);
    auto fail = [&](Error e) {
      e.index = index;
      e.byteOffset = offset;
      return e;
    };
    uint32_t w0 = word(at);
    unsigned opcode = w0 >> kOpcodeLsb;
    std::optional<Opcode> op;
    for (Opcode o : {Opcode::Load, Opcode::Save, Opcode::ConvInit, Opcode::Conv,
                     Opcode::DwInit, Opcode::DwConv, Opcode::PoolInit,
                     Opcode::Pool, Opcode::Eltwise, Opcode::End})
      if (unsigned(o) == opcode)
        op = o;
    if (!op) {
      char buf[80];
      std::snprintf(buf, sizeof buf, "invalid opcode 0x%X (word 0x%08x)",
                    opcode, w0);
      return fail(Error{buf});
    }
    unsigned n = instructionWords(*op);
    if (size - at < 4ull * n)
      return fail(Error{"truncated " + std::string(opcodeName(*op)) +
                        ": needs " + std::to_string(4 * n) + " bytes, " +
                        std::to_string(size - at) + " left"});
    uint32_t words[8] = {};
    for (unsigned i = 0; i < n; ++i)
      words[i] = word(at + 4 * i);
    std::variant<Instruction, Error> r = Error{};
    auto decodeAs = [&](auto tag) {
      using T = decltype(tag);
      std::variant<T, Error> d = decodeKind<T>(words);
      if (auto *e = std::get_if<Error>(&d))
        r = *e;
      else
        r = Instruction(std::get<T>(d));
    };
    switch (*op) {
    case Opcode::Load:
      decodeAs(Load{});
      break;
    case Opcode::Save:
      decodeAs(Save{});
      break;
    case Opcode::ConvInit:
      decodeAs(ConvInit{});
      break;
    case Opcode::Conv:
      decodeAs(Conv{});
      break;
    case Opcode::DwInit:
      decodeAs(DwInit{});
      break;
    case Opcode::DwConv:
      decodeAs(DwConv{});
      break;
    case Opcode::PoolInit:
      decodeAs(PoolInit{});
      break;
    case Opcode::Pool:
      decodeAs(Pool{});
      break;
    case Opcode::Eltwise:
      decodeAs(Eltwise{});
      break;
    case Opcode::End:
      decodeAs(End{});
      break;
    }
    if (auto *e = std::get_if<Error>(&r))
      return fail(*e);
    Instruction inst = std::get<Instruction>(r);
    if (auto e = validate(inst))
      return fail(*e);
    program.push_back(inst);
    at += 4ull * n;
    if (std::holds_alternative<End>(inst) && at < size)
      return Error{"END before the end of the machine code (" +
                       std::to_string(size - at) + " bytes follow it)",
                   index, offset};
  }
  // Whole-program checks (INIT before compute, END last); attach the byte
  // offset of the offending instruction.
  if (auto e = validateProgram(program)) {
    Error err = *e;
    if (err.index >= 0) {
      size_t off = 0;
      for (int64_t i = 0; i < err.index; ++i)
        off += 4ull * instructionWords(opcodeOf(program[i]));
      err.byteOffset = static_cast<int64_t>(off);
    } else {
      err.byteOffset = static_cast<int64_t>(size);
    }
    return err;
  }
  return program;
}

std::string disassembleOne(const Instruction &inst) {
  return std::visit([](const auto &i) { return disassembleKind(i); }, inst);
}

std::string disassemble(const std::vector<Instruction> &program) {
  std::string s;
  size_t offset = 0;
  for (const Instruction &inst : program) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06zx: ", offset);
    s += buf + disassembleOne(inst) + "\n";
    offset += 4ull * instructionWords(opcodeOf(inst));
  }
  return s;
}

std::string encodingTableMarkdown() {
  return markdownKind<Load>() + markdownKind<Save>() +
         markdownKind<ConvInit>() + markdownKind<Conv>() +
         markdownKind<DwInit>() + markdownKind<DwConv>() +
         markdownKind<PoolInit>() + markdownKind<Pool>() +
         markdownKind<Eltwise>() + markdownKind<End>();
}

//===----------------------------------------------------------------------===//
// Timing model
//===----------------------------------------------------------------------===//

namespace {
int64_t ceilDiv(int64_t a, int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }

int64_t transferCycles(const Transfer &x, int64_t cp, double bytesPerCycle,
                       int64_t latency, int64_t batch) {
  int64_t pixels = x.rows * x.cols;
  int64_t lanes = x.ddr.reg == 0 ? 1 : batch;
  double bytes = double(pixels) * double(x.channels) * double(lanes);
  int64_t ddr = bytesPerCycle > 0
                    ? static_cast<int64_t>(std::ceil(bytes / bytesPerCycle))
                    : 0;
  int64_t bank = pixels * ceilDiv(x.channels, cp);
  return latency + std::max(ddr, bank);
}
} // namespace

int64_t loadCycles(const Load &l, const TimingParams &t) {
  return transferCycles(l, t.loadCP, t.loadBytesPerCycle, t.loadLatency,
                        t.batch);
}

int64_t saveCycles(const Save &s, const TimingParams &t) {
  return transferCycles(s, t.saveCP, t.saveBytesPerCycle, t.saveLatency,
                        t.batch);
}

int64_t convCycles(const Conv &c, const ConvInit &cfg, const TimingParams &t) {
  return t.convLatency + ceilDiv(c.inChannels, t.convICP) *
                             ceilDiv(c.outChannels, t.convOCP) *
                             ceilDiv(c.out.rows * c.out.cols, t.convPP) *
                             cfg.kernelH * cfg.kernelW;
}

int64_t dwConvCycles(const DwConv &c, const DwInit &cfg,
                     const TimingParams &t) {
  return t.dwLatency + ceilDiv(c.channels, t.dwCP) *
                           ceilDiv(c.out.rows * c.out.cols, t.dwPP) *
                           cfg.kernelH * cfg.kernelW;
}

int64_t poolCycles(const Pool &p, const PoolInit &cfg, const TimingParams &t) {
  return t.poolLatency + ceilDiv(p.channels, t.poolCP) *
                             ceilDiv(p.out.rows * p.out.cols, t.poolPP) *
                             cfg.kernelH * cfg.kernelW;
}

int64_t eltwiseCycles(const Eltwise &e, const TimingParams &t) {
  return t.eltwiseLatency + ceilDiv(e.channels, t.eltwiseCP) *
                                ceilDiv(e.rows * e.cols, t.eltwisePP);
}

int64_t macs(const Instruction &inst, const Instruction *config,
             const TimingParams &t) {
  if (auto *c = std::get_if<Conv>(&inst)) {
    auto *cfg = config ? std::get_if<ConvInit>(config) : nullptr;
    if (!cfg)
      return 0;
    return c->out.rows * c->out.cols * c->outChannels * c->inChannels *
           cfg->kernelH * cfg->kernelW * t.batch;
  }
  if (auto *c = std::get_if<DwConv>(&inst)) {
    auto *cfg = config ? std::get_if<DwInit>(config) : nullptr;
    if (!cfg)
      return 0;
    return c->out.rows * c->out.cols * c->channels * cfg->kernelH *
           cfg->kernelW * t.batch;
  }
  return 0;
}

namespace {
/// Cycles and MACs of every instruction, following the INITs.
Result<std::pair<std::vector<int64_t>, std::vector<int64_t>>>
costs(const std::vector<Instruction> &program, const TimingParams &t) {
  if (auto e = validateProgram(program))
    return *e;
  std::vector<int64_t> cycles, mac;
  std::optional<Instruction> conv, dw, pool;
  for (const Instruction &inst : program) {
    int64_t c = kConfigCycles, m = 0;
    if (std::holds_alternative<ConvInit>(inst))
      conv = inst;
    else if (std::holds_alternative<DwInit>(inst))
      dw = inst;
    else if (std::holds_alternative<PoolInit>(inst))
      pool = inst;
    else if (auto *l = std::get_if<Load>(&inst))
      c = loadCycles(*l, t);
    else if (auto *s = std::get_if<Save>(&inst))
      c = saveCycles(*s, t);
    else if (auto *x = std::get_if<Conv>(&inst)) {
      c = convCycles(*x, std::get<ConvInit>(*conv), t);
      m = macs(inst, &*conv, t);
    } else if (auto *x = std::get_if<DwConv>(&inst)) {
      c = dwConvCycles(*x, std::get<DwInit>(*dw), t);
      m = macs(inst, &*dw, t);
    } else if (auto *x = std::get_if<Pool>(&inst))
      c = poolCycles(*x, std::get<PoolInit>(*pool), t);
    else if (auto *x = std::get_if<Eltwise>(&inst))
      c = eltwiseCycles(*x, t);
    cycles.push_back(c);
    mac.push_back(m);
  }
  return std::make_pair(cycles, mac);
}
} // namespace

Result<std::vector<int64_t>>
instructionCycles(const std::vector<Instruction> &program,
                  const TimingParams &t) {
  auto c = costs(program, t);
  if (!c)
    return c.error();
  return c->first;
}

Result<Schedule> schedule(const std::vector<Instruction> &program,
                          const TimingParams &t) {
  auto c = costs(program, t);
  if (!c)
    return c.error();
  const std::vector<int64_t> &cycles = c->first;
  size_t n = program.size();
  Schedule s;
  s.start.assign(n, 0);
  s.end.assign(n, 0);
  // Each engine's instructions in program order.
  std::vector<size_t> queue[kNumEngines];
  for (size_t i = 0; i < n; ++i)
    if (auto e = engineOf(program[i]))
      queue[unsigned(*e)].push_back(i);
  // tokens[p][c]: completion times of p's instructions that notified c, in
  // order; used[p][c]: how many of them c has consumed.
  std::vector<int64_t> tokens[kNumEngines][kNumEngines];
  size_t used[kNumEngines][kNumEngines] = {};
  size_t head[kNumEngines] = {};
  int64_t freeAt[kNumEngines] = {};
  for (bool progress = true; progress;) {
    progress = false;
    for (int e = 0; e < kNumEngines; ++e) {
      while (head[e] < queue[e].size()) {
        size_t i = queue[e][head[e]];
        const Deps &d = depsOf(program[i]);
        int64_t start = freeAt[e];
        bool ready = true;
        for (int p = 0; p < kNumEngines && ready; ++p)
          if (d.wait & (1u << p)) {
            if (used[p][e] < tokens[p][e].size())
              start = std::max(start, tokens[p][e][used[p][e]]);
            else
              ready = false;
          }
        if (!ready)
          break;
        for (int p = 0; p < kNumEngines; ++p)
          if (d.wait & (1u << p))
            ++used[p][e];
        s.start[i] = start;
        s.end[i] = start + cycles[i];
        freeAt[e] = s.end[i];
        s.busy[e] += cycles[i];
        for (int q = 0; q < kNumEngines; ++q)
          if (d.notify & (1u << q))
            tokens[e][q].push_back(s.end[i]);
        ++head[e];
        progress = true;
      }
    }
  }
  // A blocked engine: report the earliest blocked instruction.
  size_t blocked = n;
  for (int e = 0; e < kNumEngines; ++e)
    if (head[e] < queue[e].size())
      blocked = std::min(blocked, queue[e][head[e]]);
  if (blocked < n) {
    const Deps &d = depsOf(program[blocked]);
    Engine e = *engineOf(program[blocked]);
    std::string missing;
    for (int p = 0; p < kNumEngines; ++p)
      if ((d.wait & (1u << p)) &&
          used[p][unsigned(e)] >= tokens[p][unsigned(e)].size())
        missing +=
            (missing.empty() ? "" : ", ") + std::string(engineName(Engine(p)));
    return Error{
        std::string("deadlock: ") + opcodeName(opcodeOf(program[blocked])) +
            " waits for a token from " + missing + " that is never produced",
        static_cast<int64_t>(blocked)};
  }
  // END starts once every engine has drained.
  int64_t drained = 0;
  for (int e = 0; e < kNumEngines; ++e)
    drained = std::max(drained, freeAt[e]);
  s.start[n - 1] = drained;
  s.end[n - 1] = drained + cycles[n - 1];
  s.total = s.end[n - 1];
  for (int64_t m : c->second)
    s.macs += m;
  return s;
}

} // namespace vai::isa
