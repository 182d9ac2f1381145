// Write to a temporary file, fsync, rename over the target, fsync the directory.
#include "cortex/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cortex/core/error.h"

namespace cortex::io {
namespace {

// Makes the rename itself durable. Best effort: the new file is already in place, and
// some filesystems refuse to fsync a directory.
void sync_directory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_bytes(std::FILE* file, const void* data, std::size_t nbytes, const std::string& path) {
  if (nbytes != 0 && std::fwrite(data, 1, nbytes, file) != nbytes)
    fail("cannot write ", path, ": short write of ", nbytes, " bytes: ", std::strerror(errno));
}

bool renamed_into_place(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return true;  // a new file (or one stat cannot see: the write will say)
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return true;  // the rename refuses a directory, removing the temporary
  if (S_ISCHR(st.st_mode)) return false;
  const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file";
  fail("cannot write ", path, ": it is ", kind, ", expected a file (or a new path)");
}

void write_atomically(const std::string& path, const std::function<void(std::FILE*)>& write) {
  if (!renamed_into_place(path)) {  // a character device (/dev/null): written in place, never replaced
    std::FILE* device = std::fopen(path.c_str(), "wb");
    if (device == nullptr) fail("cannot write ", path, ": ", std::strerror(errno));
    try {
      write(device);
      if (std::fflush(device) != 0 || std::ferror(device))
        fail("cannot write ", path, ": flushing failed: ", std::strerror(errno));
    } catch (...) {
      std::fclose(device);
      throw;
    }
    std::fclose(device);
    return;
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr)
    fail("cannot write ", path, ": cannot create the temporary file ", tmp, ": ", std::strerror(errno));
  try {
    write(file);
    if (std::fflush(file) != 0 || std::ferror(file))
      fail("cannot write ", path, ": flushing ", tmp, " failed: ", std::strerror(errno));
    if (::fsync(::fileno(file)) != 0)
      fail("cannot write ", path, ": fsync of ", tmp, " failed: ", std::strerror(errno));
  } catch (...) {
    std::fclose(file);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(file) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail("cannot write ", path, ": closing ", tmp, " failed: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail("cannot write ", path, ": renaming ", tmp, " over it failed: ", std::strerror(err));
  }
  sync_directory(path);
}

void write_text(const std::string& path, const std::string& text) {
  write_atomically(path, [&](std::FILE* file) { write_bytes(file, text.data(), text.size(), path); });
}

}  // namespace cortex::io
