// Atomic file writes: an error or a crash never leaves a half-written file behind.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace cortex::io {

// Runs write(file) on `path + ".tmp.<pid>"`, flushes and fsyncs it, renames it over
// `path` and fsyncs the directory, so readers see either the old file or the new one.
// On any error (write throws, a short write, fsync or rename fails) the temporary file
// is removed, `path` keeps its old contents and the error propagates (a cortex::Error
// naming the path for the failures found here).
// A character device (/dev/null, a terminal) is written in place instead: renaming
// over it would replace the device with a file. A FIFO, socket or block device is a
// cortex::Error naming what it is, before anything is written (a directory fails
// at the rename).
void write_atomically(const std::string& path, const std::function<void(std::FILE*)>& write);

// How write_atomically treats `path`: true when it is new or a regular file (a
// temporary file is renamed over it; the rename refuses a directory), false for a
// character device (written in place); a cortex::Error for a FIFO, socket or block device.
bool renamed_into_place(const std::string& path);

// write_atomically of a whole text (an SVG, an HTML page, a JSON file).
void write_text(const std::string& path, const std::string& text);

// fwrite that throws a cortex::Error naming `path` on a short write.
void write_bytes(std::FILE* file, const void* data, std::size_t nbytes, const std::string& path);

}  // namespace cortex::io
