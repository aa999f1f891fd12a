#include "traces/trace_file_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace npusim {

void check_trace_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("cannot write trace directory '" + dir + "': " + why);
  };
  if (dir.empty()) fail("empty path");
  std::error_code error;
  const bool exists = fs::exists(dir, error);
  if (error) fail(error.message());
  if (exists) {
    if (!fs::is_directory(dir, error)) fail("not a directory");
  } else {
    fs::create_directories(dir, error);
    if (error) fail(error.message());
  }
  // Permission bits do not tell (root ignores them, a read-only mount does
  // not show in them): only writing a file does.
  const fs::path probe = fs::path(dir) / (".npusim-write-check-" + std::to_string(getpid()));
  {
    errno = 0;
    std::ofstream out(probe, std::ios::binary | std::ios::trunc);
    if (!out) fail(errno ? std::strerror(errno) : "cannot create a file in it");
    out << "probe";
    out.close();
    if (out.fail()) fail(errno ? std::strerror(errno) : "write failed");
  }
  fs::remove(probe, error);
  if (error) fail(error.message());
}

void write_trace_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string temporary = path + ".tmp";
  auto remove_temporary = [&] {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
  };
  auto fail = [&](const std::string& why) {
    remove_temporary();
    throw std::runtime_error("cannot write '" + path + "': " + why);
  };
  {
    errno = 0;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(errno ? std::strerror(errno) : "cannot open " + temporary);
    try {
      write(out);
    } catch (...) {
      out.close();
      remove_temporary();
      throw;
    }
    out.close();
    if (out.fail()) fail(errno ? std::strerror(errno) : "write to " + temporary + " failed");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) fail(error.message());
}

}  // namespace npusim
