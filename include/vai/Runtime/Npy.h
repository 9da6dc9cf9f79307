//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
#ifndef VAI_RUNTIME_NPY_H
#define VAI_RUNTIME_NPY_H

#include "vai/Runtime/Tensor.h"

#include <stdexcept>
#include <string>

namespace vai::rt {

/// Any failure reading or writing a .npy file. what() names the file and
/// what is wrong, e.g. "x.npy: Fortran-order arrays are not supported".
class NpyError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Reads a .npy file (format versions 1.0, 2.0 and 3.0). Accepted dtypes:
/// f4, i1, u1, i4, i8 (8-byte int), in either byte order ('<', '>', '|' for
/// one-byte types); big-endian data is swapped to host order. f8 (float64) is
/// converted to f32 when `allowF64` is set. Fortran order, structured or
/// object dtypes, a truncated or oversized payload and a malformed header
/// throw NpyError naming the file.
Tensor readNpy(const std::string &path, bool allowF64 = true);

/// Parses a .npy image held in memory; `name` is used in messages.
Tensor parseNpy(const std::string &bytes, const std::string &name,
                bool allowF64 = true);

/// Writes a little-endian, C-order, version 1.0 .npy file atomically (to a
/// temporary file in the same folder, then renamed over `path`).
void writeNpy(const std::string &path, const Tensor &t);

/// Serialises to a .npy image in memory.
std::string serializeNpy(const Tensor &t);

} // namespace vai::rt

#endif // VAI_RUNTIME_NPY_H
