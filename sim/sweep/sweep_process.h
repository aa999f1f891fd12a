// Runs sweep points as child processes of this binary, up to N at once. Each
// child gets its own process group and dies with the parent (PR_SET_PDEATHSIG),
// so a timeout, a Ctrl-C or a kill -9 of the sweep never leaves simulations
// running on their own.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace npusim {

struct ProcessJob {
  // The file executed; "/proc/self/exe" runs this very binary even when a
  // rebuild has replaced the file at its path since the sweep started.
  std::string program;
  std::vector<std::string> argv;
  std::string stderr_path;  // the child's stderr goes here; stdout is discarded
};

struct ProcessOutcome {
  enum class Kind { exited, signaled, timed_out };
  Kind kind = Kind::exited;
  int code = 0;  // exit status, or the signal number
  double wall_s = 0;
  double cpu_s = 0;  // the child's user + system time
};

struct ProcessPoolOptions {
  int max_parallel = 1;
  double timeout_s = 0;  // 0: none
};

// Runs `jobs` in order, at most max_parallel at a time. `on_done` is called in
// this thread as each one ends; `on_idle` about every 100 ms while waiting.
// SIGINT, SIGTERM and SIGHUP are caught while it runs: the children are killed
// and it returns false without starting more (true when every job ran).
bool run_processes(const std::vector<ProcessJob>& jobs, const ProcessPoolOptions& options,
                   const std::function<void(std::size_t, const ProcessOutcome&)>& on_done,
                   const std::function<void()>& on_idle);

// The absolute path of the running executable (/proc/self/exe).
std::string self_executable_path();

}  // namespace npusim
