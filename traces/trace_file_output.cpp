#include "traces/trace_file_output.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace npusim {

void check_trace_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& why) {
    throw TraceFileError("cannot write trace directory '" + dir + "': " + why);
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

namespace {

// Whether process `pid` runs (EPERM: it runs under another user).
bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

constexpr const char* kSpillPrefix = ".npusim-spill-";

}  // namespace

void remove_stale_trace_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  bool live_run = false;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kSpillPrefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + std::strlen(kSpillPrefix), &end, 10);
    if (end == nullptr || *end != '\0') continue;  // not a name this writer makes
    if (pid == static_cast<long>(getpid()) || !process_alive(pid)) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    } else {
      live_run = true;
    }
  }
  if (live_run) return;  // its temporaries are in use
  for (const char* name : {"trace.json.tmp", "timeline.csv.tmp", "trace.vcd.tmp", "trace.vcd.sc.vcd"}) {
    std::error_code ignored;
    fs::remove(fs::path(dir) / name, ignored);
  }
}

void write_trace_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string temporary = path + ".tmp";
  auto remove_temporary = [&] {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
  };
  auto fail = [&](const std::string& why) {
    remove_temporary();
    throw TraceFileError("cannot write '" + path + "': " + why);
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
