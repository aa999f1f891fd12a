// What every libFuzzer target shares: the fuzzed bytes as a file (npusim's
// readers take paths, as the CLI does), and the rule that bad input is an
// InputError and nothing else. Any other exception, a crash, a sanitizer
// report or a hang is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "models/input_error.h"

namespace npusim::fuzz {

// The process's scratch directory, made once and removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("npusim-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("npusim-fuzz-" + std::to_string(getpid())),
                                  ignored);
    });
    return d;
  }();
  return dir;
}

// Writes `size` bytes to scratch_dir()/name and returns its path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs `action`; an InputError is the expected answer to bad input.
inline void expect_only_input_errors(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError&) {
  }
}

}  // namespace npusim::fuzz
