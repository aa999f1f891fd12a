// Running the built `npusim` binary from end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace npusim::testing {

inline const std::string kSourceDir = NPUSIM_SOURCE_DIR;

struct CommandResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs `npusim <args>` through the shell.
inline CommandResult run_npusim(const std::string& args) {
  CommandResult r;
  FILE* pipe = popen((std::string(NPUSIM_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) r.out += buffer;
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace npusim::testing
