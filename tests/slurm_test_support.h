// A throwaway single-node Slurm cluster for end-to-end tests
// (scripts/slurm_local.sh), and the polling a test needs around it.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace npusim::testing {

struct ShellResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

inline ShellResult run_shell(const std::string& command) {
  ShellResult r;
  FILE* pipe = popen(("(" + command + ") 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) r.out += buffer;
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The Slurm and munge programs the local cluster needs that this machine lacks
// (searched on PATH and in the sbin directories, where Debian puts daemons).
inline std::vector<std::string> missing_slurm_programs() {
  std::vector<std::string> dirs = {"/usr/sbin", "/sbin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream list(path);
    for (std::string dir; std::getline(list, dir, ':');) dirs.push_back(dir);
  }
  std::vector<std::string> missing;
  for (const char* program :
       {"munged", "mungekey", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel", "scontrol"}) {
    bool found = false;
    for (const auto& dir : dirs) found = found || access((dir + "/" + program).c_str(), X_OK) == 0;
    if (!found) missing.emplace_back(program);
  }
  return missing;
}

// Starts a cluster in `state_dir` and points this process's Slurm clients (and
// so every child, including sbatch jobs) at it through SLURM_CONF; the
// destructor stops it and removes `state_dir`, whatever the test did. Should
// the test process die before that, the script's watchdog stops the cluster.
class LocalSlurmCluster {
 public:
  explicit LocalSlurmCluster(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {
    if (const char* previous = std::getenv("SLURM_CONF")) previous_conf_ = previous;
    const ShellResult r = run_shell("NPUSIM_SLURM_OWNER_PID=" + std::to_string(getpid()) + " " + script() + " start " +
                                    state_dir_.string());
    start_output_ = r.out;
    const std::regex conf_line(R"(^SLURM_CONF=(.+)$)", std::regex::multiline);
    std::smatch m;
    if (r.status == 0 && std::regex_search(start_output_, m, conf_line)) {
      conf_ = m[1].str();
      setenv("SLURM_CONF", conf_.c_str(), 1);
    }
  }
  ~LocalSlurmCluster() {
    run_shell(script() + " stop " + state_dir_.string());
    if (previous_conf_) {
      setenv("SLURM_CONF", previous_conf_->c_str(), 1);
    } else {
      unsetenv("SLURM_CONF");
    }
  }
  LocalSlurmCluster(const LocalSlurmCluster&) = delete;
  LocalSlurmCluster& operator=(const LocalSlurmCluster&) = delete;

  bool up() const { return !conf_.empty(); }
  const std::string& start_output() const { return start_output_; }

  // The daemons' last log lines, for a failure message.
  std::string log_tails() const {
    std::string text;
    for (const char* name : {"slurmctld.log", "slurmd.log"}) {
      text += "---- " + std::string(name) + "\n" + run_shell("tail -n 15 " + (state_dir_ / "log" / name).string()).out;
    }
    return text;
  }

 private:
  static std::string script() { return std::string(NPUSIM_SOURCE_DIR) + "/scripts/slurm_local.sh"; }

  std::filesystem::path state_dir_;
  std::string start_output_;
  std::string conf_;
  std::optional<std::string> previous_conf_;
};

// The job id in sbatch's "Submitted batch job 12"; empty when absent.
inline std::string submitted_job_id(const std::string& output) {
  std::smatch m;
  return std::regex_search(output, m, std::regex(R"(Submitted batch job ([0-9]+))")) ? m[1].str() : "";
}

// Waits until no task of `job_id` is pending or running; false on timeout or
// when a task could not be launched (Slurm then holds it: it would never end).
// `queue` holds squeue's last answer.
inline bool wait_for_job_end(const std::string& job_id, double timeout_s, std::string* queue) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    const ShellResult r = run_shell("squeue -h -j " + job_id + " -o '%i %T %R'");
    if (queue != nullptr) *queue = r.out;
    if (r.status == 0 && r.out.find_first_not_of(" \n") == std::string::npos) return true;
    if (r.out.find("launch failed") != std::string::npos) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Final state of each task of a job array ("COMPLETED", "CANCELLED", ...), by
// array index, from the controller (no accounting database needed).
inline std::map<int, std::string> array_task_states(const std::string& job_id) {
  std::map<int, std::string> states;
  const ShellResult r = run_shell("scontrol -o show job " + job_id);
  std::stringstream lines(r.out);
  const std::regex task(R"(ArrayTaskId=([0-9]+)\b)"), state(R"(JobState=([A-Z_]+))");
  for (std::string line; std::getline(lines, line);) {
    std::smatch t, s;
    if (std::regex_search(line, t, task) && std::regex_search(line, s, state))
      states[std::stoi(t[1].str())] = s[1].str();
  }
  return states;
}

inline std::size_t count_lines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::size_t lines = 0;
  for (char c; in.get(c);) lines += c == '\n';
  return lines;
}

// Waits until `path` holds at least `lines` complete lines; false on timeout.
inline bool wait_for_lines(const std::filesystem::path& path, std::size_t lines, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (count_lines(path) >= lines) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace npusim::testing
