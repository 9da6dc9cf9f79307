//===- ProgramInfo.cpp - Reading a dpu.program's xmodel attributes --------===//

#include "vai/XModel/ProgramInfo.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace vai::xmodel {

namespace {

/// Reads one program's attributes, remembering the first error.
class Reader {
public:
  explicit Reader(dpu::ProgramOp program) : program(program) {}

  Error fail(StringRef attr, const llvm::Twine &what) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("dpu.program @{0}: attribute '{1}': {2}",
                      program.getSymName(), attr, what.str()));
  }

  template <typename T> Expected<T> get(StringRef name, StringRef expected) {
    Attribute attr = program->getDiscardableAttr(name);
    if (!attr)
      attr = program->getAttr(name);
    if (!attr)
      return fail(name, "missing (run -vai-lower-to-dpu)");
    auto typed = dyn_cast<T>(attr);
    if (!typed)
      return fail(name, "expected " + expected);
    return typed;
  }

  Expected<int64_t> getInt(DictionaryAttr dict, StringRef owner,
                           StringRef key) {
    auto attr = dyn_cast_or_null<IntegerAttr>(dict.get(key));
    if (!attr)
      return fail(owner, "entry has no integer '" + key + "'");
    return attr.getInt();
  }

  dpu::ProgramOp program;
};

Expected<std::vector<char>> readBytes(Reader &r, ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isInteger(8) || type.getRank() != 1)
    return r.fail("params", "expected a tensor<Kxi8>");
  int64_t size = type.getNumElements();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    std::vector<char> out;
    out.reserve(size);
    for (int8_t v : dense.getValues<int8_t>())
      out.push_back(static_cast<char>(v));
    return out;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return r.fail("params", "dense resource '" +
                                  resource.getRawHandle().getKey() +
                                  "' has no data");
    ArrayRef<char> data = blob->getData();
    if (static_cast<int64_t>(data.size()) != size)
      return r.fail("params", llvm::formatv("resource holds {0} bytes, its "
                                            "type {1}",
                                            data.size(), size));
    return std::vector<char>(data.begin(), data.end());
  }
  return r.fail("params", "unsupported elements attribute");
}

Expected<std::vector<int64_t>> readShape(Reader &r, Attribute attr) {
  std::vector<int64_t> shape;
  if (auto dense = dyn_cast_or_null<DenseI64ArrayAttr>(attr)) {
    shape.assign(dense.asArrayRef().begin(), dense.asArrayRef().end());
  } else if (auto array = dyn_cast_or_null<ArrayAttr>(attr)) {
    for (Attribute e : array) {
      auto i = dyn_cast<IntegerAttr>(e);
      if (!i)
        return r.fail("io", "shape holds a non-integer");
      shape.push_back(i.getInt());
    }
  } else {
    return r.fail("io", "entry has no 'shape' array");
  }
  if (shape.empty())
    return r.fail("io", "empty shape");
  for (int64_t d : shape)
    if (d < 1 || d > std::numeric_limits<int32_t>::max())
      return r.fail("io", llvm::formatv("shape dimension {0} out of range", d));
  return shape;
}

} // namespace

Expected<ProgramInfo> readProgramInfo(dpu::ProgramOp program) {
  Reader r(program);
  ProgramInfo info;
  info.symbol = program.getSymName().str();
  info.target = program.getTarget().str();

  auto subgraph = r.get<IntegerAttr>("subgraph", "an integer");
  if (!subgraph)
    return subgraph.takeError();
  info.subgraph = subgraph->getInt();
  if (info.subgraph < 0)
    return r.fail("subgraph", "negative");

  auto regs = r.get<DenseI64ArrayAttr>("reg_sizes", "array<i64: ...>");
  if (!regs)
    return regs.takeError();
  info.regSizes.assign(regs->asArrayRef().begin(), regs->asArrayRef().end());
  if (info.regSizes.size() < 2)
    return r.fail("reg_sizes", "needs at least the parameter and workspace "
                               "registers");
  for (int64_t s : info.regSizes)
    if (s < 0 || s > std::numeric_limits<int32_t>::max())
      return r.fail("reg_sizes",
                    llvm::formatv("size {0} out of range [0, 2^31)", s));

  auto params = r.get<ElementsAttr>("params", "a tensor<Kxi8>");
  if (!params)
    return params.takeError();
  auto bytes = readBytes(r, *params);
  if (!bytes)
    return bytes.takeError();
  info.params = std::move(*bytes);
  if (static_cast<int64_t>(info.params.size()) != info.regSizes[0])
    return r.fail("params",
                  llvm::formatv("{0} bytes, but reg_sizes[0] is {1}",
                                info.params.size(), info.regSizes[0]));

  auto io = r.get<ArrayAttr>("io", "an array of dictionaries");
  if (!io)
    return io.takeError();
  for (Attribute e : *io) {
    auto dict = dyn_cast<DictionaryAttr>(e);
    if (!dict)
      return r.fail("io", "entry is not a dictionary");
    ProgramIO entry;
    auto name = dyn_cast_or_null<StringAttr>(dict.get("name"));
    auto dir = dyn_cast_or_null<StringAttr>(dict.get("direction"));
    if (!name || name.getValue().empty())
      return r.fail("io", "entry has no 'name'");
    entry.name = name.getValue().str();
    if (!dir || (dir.getValue() != "in" && dir.getValue() != "out"))
      return r.fail("io", "entry '" + entry.name +
                              "': 'direction' must be \"in\" or \"out\"");
    entry.isInput = dir.getValue() == "in";
    auto reg = r.getInt(dict, "io", "reg");
    auto offset = r.getInt(dict, "io", "offset");
    auto fix = r.getInt(dict, "io", "fix_point");
    if (!reg || !offset || !fix)
      return llvm::joinErrors(
          llvm::joinErrors(reg.takeError(), offset.takeError()),
          fix.takeError());
    entry.reg = *reg;
    entry.offset = *offset;
    entry.fixPoint = *fix;
    auto shape = readShape(r, dict.get("shape"));
    if (!shape)
      return shape.takeError();
    entry.shape = std::move(*shape);
    if (entry.reg < 1 ||
        entry.reg >= static_cast<int64_t>(info.regSizes.size()))
      return r.fail("io", llvm::formatv("entry '{0}': register {1} is not a "
                                        "data register of reg_sizes",
                                        entry.name, entry.reg));
    int64_t elems = 1;
    for (int64_t d : entry.shape)
      elems *= d;
    if (entry.offset < 0 || entry.offset + elems > info.regSizes[entry.reg])
      return r.fail("io", llvm::formatv("entry '{0}': bytes [{1}, {2}) run "
                                        "past register {3} ({4} bytes)",
                                        entry.name, entry.offset,
                                        entry.offset + elems, entry.reg,
                                        info.regSizes[entry.reg]));
    if (entry.fixPoint < -64 || entry.fixPoint > 64)
      return r.fail("io", llvm::formatv("entry '{0}': fix_point {1} out of "
                                        "range",
                                        entry.name, entry.fixPoint));
    info.io.push_back(std::move(entry));
  }

  for (StringRef key : {"macs", "cycles"}) {
    auto v = r.get<IntegerAttr>(key, "an integer");
    if (!v)
      return v.takeError();
    if (v->getInt() < 0)
      return r.fail(key, "negative");
    (key == "macs" ? info.macs : info.cycles) = v->getInt();
  }
  return info;
}

} // namespace vai::xmodel
