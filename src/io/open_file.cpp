// open_regular_file: O_NONBLOCK for the open alone, fstat, then blocking reads.
#include "cortex/io/open_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cortex::io {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory, not a regular file";
  if (S_ISFIFO(mode)) return "a FIFO, not a regular file";
  if (S_ISCHR(mode)) return "a character device, not a regular file";
  if (S_ISBLK(mode)) return "a block device, not a regular file";
  if (S_ISSOCK(mode)) return "a socket, not a regular file";
  return "not a regular file";
}

}  // namespace

int open_regular_file(const std::string& path, std::string* reason) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *reason = std::strerror(errno);
    return -1;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    *reason = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (!S_ISREG(st.st_mode) || flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    *reason = S_ISREG(st.st_mode) ? std::strerror(errno) : kind_of(st.st_mode);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_regular_file(const std::string& path, std::string* text, std::string* reason) {
  std::FILE* file = fopen_regular_file(path, reason);
  if (file == nullptr) return false;
  text->clear();
  char buffer[1 << 16];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text->append(buffer, n);
  const bool ok = !std::ferror(file);
  if (!ok) *reason = std::strerror(errno);
  std::fclose(file);
  return ok;
}

std::FILE* fopen_regular_file(const std::string& path, std::string* reason) {
  const int fd = open_regular_file(path, reason);
  if (fd < 0) return nullptr;
  std::FILE* file = ::fdopen(fd, "rb");
  if (file == nullptr) {
    *reason = std::strerror(errno);
    ::close(fd);
  }
  return file;
}

}  // namespace cortex::io
