#include "sim/sweep/sweep_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace npusim {
namespace {

using Clock = std::chrono::steady_clock;

// A signal handler can only set a flag; this one is the process's only
// mutable global, and exists only while run_processes is installed.
volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// Catches the stop signals and blocks SIGCHLD, so the pool can sleep in
// sigtimedwait until a child ends (a pending SIGCHLD wakes it at once: no
// polling, no lost wake-up between a check and the wait).
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &previous_[i]);
    sigemptyset(&child_set_);
    sigaddset(&child_set_, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_set_, &previous_mask_);
  }
  ~StopSignals() {
    sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
  }
  // Sleeps until a child ends, a stop signal arrives or `seconds` pass.
  void wait_for_child(double seconds) const {
    const long ns = static_cast<long>(seconds * 1e9);
    const timespec timeout{ns / 1'000'000'000, ns % 1'000'000'000};
    sigtimedwait(&child_set_, nullptr, &timeout);
  }
  // The mask a child must run with (SIGCHLD unblocked again).
  const sigset_t& previous_mask() const { return previous_mask_; }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  bool stopped() const { return g_stop_signal != 0; }

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous_[3];
  sigset_t child_set_;
  sigset_t previous_mask_;
};

struct Running {
  std::size_t job = 0;
  pid_t pid = 0;
  Clock::time_point start;
  bool timed_out = false;
};

// Everything the child needs is built before fork: between fork and exec
// only async-signal-safe calls are allowed.
pid_t spawn(const ProcessJob& job, pid_t parent, const sigset_t& child_mask) {
  std::vector<char*> argv;
  for (const auto& arg : job.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const char* err_path = job.stderr_path.c_str();
  const char* program = job.program.c_str();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &child_mask, nullptr);  // exec keeps the mask
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    const int null_fd = open("/dev/null", O_RDWR);
    const int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null_fd < 0 || err_fd < 0) _exit(127);
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execv(program, argv.data());
    const char message[] = "npusim: error: cannot start the sweep worker\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so a kill right after fork finds the group
  return pid;
}

void kill_group(pid_t pid) {
  if (kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

bool run_processes(const std::vector<ProcessJob>& jobs, const ProcessPoolOptions& options,
                   const std::function<void(std::size_t, const ProcessOutcome&)>& on_done,
                   const std::function<void()>& on_idle) {
  const StopSignals signals;
  const pid_t parent = getpid();
  const std::size_t max_parallel = options.max_parallel < 1 ? 1 : static_cast<std::size_t>(options.max_parallel);
  std::vector<Running> running;
  std::size_t next = 0;
  Clock::time_point last_idle = Clock::now();
  while (next < jobs.size() || !running.empty()) {
    if (signals.stopped()) {
      for (const auto& r : running) kill_group(r.pid);
      for (const auto& r : running) waitpid(r.pid, nullptr, 0);
      return false;
    }
    while (running.size() < max_parallel && next < jobs.size()) {
      running.push_back({next, spawn(jobs[next], parent, signals.previous_mask()), Clock::now(), false});
      ++next;
    }
    bool reaped = false;
    for (std::size_t i = 0; i < running.size();) {
      int status = 0;
      rusage usage{};
      const pid_t done = wait4(running[i].pid, &status, WNOHANG, &usage);
      if (done != running[i].pid) {
        ++i;
        continue;
      }
      ProcessOutcome outcome;
      outcome.wall_s = seconds_since(running[i].start);
      outcome.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
      if (running[i].timed_out) {
        outcome.kind = ProcessOutcome::Kind::timed_out;
      } else if (WIFEXITED(status)) {
        outcome.code = WEXITSTATUS(status);
      } else {
        outcome.kind = ProcessOutcome::Kind::signaled;
        outcome.code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      }
      const std::size_t job = running[i].job;
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      // A worker stopped by the same Ctrl-C or scancel that stops this sweep
      // (the signal reaches the whole process group, and may reach the worker
      // first) was interrupted, not failed: leave it unrecorded so a resume
      // runs it again.
      const bool interrupted = outcome.kind == ProcessOutcome::Kind::signaled &&
                               (outcome.code == SIGINT || outcome.code == SIGTERM || outcome.code == SIGHUP);
      if (interrupted || signals.stopped()) {
        reaped = true;
        continue;
      }
      on_done(job, outcome);
      reaped = true;
    }
    if (options.timeout_s > 0) {
      for (auto& r : running) {
        if (!r.timed_out && seconds_since(r.start) > options.timeout_s) {
          kill_group(r.pid);
          r.timed_out = true;
        }
      }
    }
    if (seconds_since(last_idle) >= 0.1) {
      if (on_idle) on_idle();
      last_idle = Clock::now();
    }
    if (!reaped && !running.empty()) {
      double wait_s = 0.1;  // the idle callback's period
      if (options.timeout_s > 0) {
        for (const auto& r : running) {
          if (!r.timed_out) wait_s = std::min(wait_s, options.timeout_s - seconds_since(r.start));
        }
      }
      signals.wait_for_child(std::max(wait_s, 0.0005));
    }
  }
  return true;
}

std::string self_executable_path() {
  char buffer[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (length <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buffer, static_cast<std::size_t>(length));
}

}  // namespace npusim
