//===- File.cpp - Atomic output files -------------------------------------===//

#include "vai/Runtime/File.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vai::rt {
namespace {

/// The process umask, read without changing it (umask(2) cannot be queried
/// without setting it, which would race with other threads).
mode_t currentUmask() {
  mode_t mask = 022;
  if (FILE *f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f)) {
      unsigned value;
      if (std::sscanf(line, "Umask: %o", &value) == 1) {
        mask = static_cast<mode_t>(value & 0777);
        break;
      }
    }
    std::fclose(f);
  }
  return mask;
}

/// Writes all of `bytes` to `fd`; false with errno set on failure.
bool writeAll(int fd, const std::string &bytes) {
  const char *p = bytes.data();
  size_t left = bytes.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  auto fail = [&](const std::string &what, int err) {
    throw std::runtime_error(path + ": " + what + ": " + std::strerror(err));
  };
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail("cannot write", EISDIR);
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      fail("cannot open", errno);
    bool ok = writeAll(fd, bytes);
    int err = errno;
    ::close(fd);
    if (!ok)
      fail("cannot write", err);
    return;
  }

  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(&tmp[0]);
  if (fd < 0)
    fail("cannot create a temporary file", errno);
  auto failWith = [&](const std::string &what, int err) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, err);
  };
  // mkstemp creates the file 0600; give it the mode a plain open would.
  if (::fchmod(fd, 0666 & ~currentUmask()) != 0)
    failWith("cannot set permissions", errno);
  if (!writeAll(fd, bytes))
    failWith("cannot write", errno);
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    failWith("cannot sync", errno);
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0)
    failWith("cannot write", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    failWith("cannot rename the temporary file into place", errno);
}

} // namespace vai::rt
