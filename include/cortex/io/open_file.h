// Opening a file for reading without hanging on what is not a plain file.
#pragma once

#include <cstdio>
#include <string>

namespace cortex::io {

// A descriptor of `path` opened for reading (blocking reads, close-on-exec), or -1
// with *reason saying why: the system's error ("No such file or directory") or what
// the path is instead of a regular file ("a directory", "a FIFO", ...). It opens
// without blocking, so a FIFO with no writer is refused instead of waited on.
int open_regular_file(const std::string& path, std::string* reason);

// The same as a stdio stream ("rb"), or nullptr with *reason set.
std::FILE* fopen_regular_file(const std::string& path, std::string* reason);

// The whole of a regular file into *text (a text file: a log, a settings file), or
// false with *reason set, as above; a read error is a reason too.
bool read_regular_file(const std::string& path, std::string* text, std::string* reason);

}  // namespace cortex::io
