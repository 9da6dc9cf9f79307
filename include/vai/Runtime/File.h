//===- File.h - Atomic output files ------------------------------*- C++
//-*-===//
#ifndef VAI_RUNTIME_FILE_H
#define VAI_RUNTIME_FILE_H

#include <stdexcept>
#include <string>

namespace vai::rt {

/// Writes `bytes` to `path` so that readers never see a partial file: into a
/// temporary file in the same folder (with the mode a plain open would give),
/// synced, then renamed over `path`. An existing device or pipe
/// (/dev/null, /dev/stdout) is written in place instead, since a rename
/// would replace it. Throws std::runtime_error("<path>: <what failed>").
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace vai::rt

#endif // VAI_RUNTIME_FILE_H
