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

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define NPUSIM_FUZZ_ASAN 1
#endif
#endif

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

// SystemC's coroutines (QuickThreads in Debian's libsystemc) switch stacks
// without telling ASan, so ASan loses the stack bounds, ignores the
// __asan_handle_no_return of a later exception ("False positive error reports
// may follow", google/sanitizers#189) and leaves the unwound frames' poison
// on the main stack below us, which a later call then trips over. Between two
// inputs nothing lives below this frame: clear that poison, as
// __asan_handle_no_return would have.
inline void clear_stale_stack_poison() {
#ifdef NPUSIM_FUZZ_ASAN
  constexpr std::size_t kBytes = 1 << 20;  // far below any frame a run leaves poisoned, far above the guard page
  char* frame = static_cast<char*>(__builtin_frame_address(0));
  __asan_unpoison_memory_region(frame - kBytes, kBytes - 64);
#endif
}

// Runs `action`; an InputError is the expected answer to bad input.
inline void expect_only_input_errors(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError&) {
  }
}

}  // namespace npusim::fuzz
