// A FIFO with no writer, for checking that readers refuse it instead of waiting on it.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>

namespace cortex::testing {

// Makes a FIFO at `path` and runs read(path) on it: returns the error message read
// threw ("no error" when it returned). A read still blocked after 10 s fails the
// test, and opening the FIFO's writing end then lets it finish.
inline std::string error_reading_fifo(const std::string& path, const std::function<void(const std::string&)>& read) {
  if (::mkfifo(path.c_str(), 0600) != 0) {
    ADD_FAILURE() << "mkfifo " << path << " failed";
    return "mkfifo failed";
  }
  auto result = std::async(std::launch::async, [&]() -> std::string {
    try {
      read(path);
      return "no error";
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  if (result.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) {
    ADD_FAILURE() << "reading the FIFO " << path << " blocked";
    if (std::FILE* writer = std::fopen(path.c_str(), "wb")) std::fclose(writer);
  }
  return result.get();
}

}  // namespace cortex::testing
