#include "sim/sweep/sweep_slurm.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "models/input_error.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

bool is_safe_word(const std::string& text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' || c == '-' || c == ':' ||
          c == '+' || c == ',' || c == '=')) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// sbatch reads "#SBATCH --opt=value" lines itself, not through a shell: it
// splits at whitespace unless the value is in double quotes.
std::string sbatch_value(const std::string& text) {
  return text.find_first_of(" \t") == std::string::npos ? text : "\"" + text + "\"";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  if (is_safe_word(text)) return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string slurm_script(const SlurmScriptOptions& o) {
  const std::string n = std::to_string(o.shards);
  const std::string jobs = std::to_string(o.cpus_per_task);
  std::string s = "#!/bin/bash\n";
  s += "# Written by npusim sweep --slurm: task i of the array runs shard i of " + n +
       " of the sweep\n# and appends to its own results file in the shared directory; gather them with\n"
       "#   npusim sweep " +
       shell_quote(o.spec_path) + " --out " + shell_quote(o.out_dir) + " --merge\n";
  s += "#SBATCH --job-name=" + sbatch_value(o.job_name) + "\n";
  s += "#SBATCH --array=0-" + std::to_string(o.shards - 1) + "\n";
  s += "#SBATCH --output=" + sbatch_value(o.out_dir + "/slurm-%A_%a.out") + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + jobs + "\n";
  if (o.partition) s += "#SBATCH --partition=" + sbatch_value(*o.partition) + "\n";
  if (o.time_limit) s += "#SBATCH --time=" + *o.time_limit + "\n";
  s += "set -euo pipefail\n";
  s += "exec " + shell_quote(o.npusim_path) + " sweep " + shell_quote(o.spec_path) + " --out " +
       shell_quote(o.out_dir) + " --shard \"${SLURM_ARRAY_TASK_ID}/" + n + "\" -j " + jobs;
  if (o.timeout_s) s += " --timeout-s " + shell_quote(fixed(*o.timeout_s, 3));
  s += " --quiet\n";
  return s;
}

std::string submit_slurm_script(const std::string& script_path) {
  const auto sbatch = find_on_path("sbatch");
  if (!sbatch)
    throw InputError("--submit: sbatch is not on PATH (is Slurm installed here?); the script is " + script_path);
  const std::string command = shell_quote(*sbatch) + " " + shell_quote(script_path) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw InputError("--submit: cannot run sbatch");
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  output = trim(output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const auto newline = output.rfind('\n');
    throw InputError(
        "--submit: sbatch " + script_path + " failed: " +
        (output.empty() ? std::string("no message") : output.substr(newline == std::string::npos ? 0 : newline + 1)));
  }
  return output;
}

}  // namespace npusim
