// `npusim sweep S.json --slurm`: a Slurm job-array script whose task i runs
// shard i of N into the shared results directory, and its submission.
#pragma once

#include <optional>
#include <string>

namespace npusim {

struct SlurmScriptOptions {
  std::string npusim_path;  // absolute
  std::string spec_path;    // absolute
  std::string out_dir;      // absolute
  std::string job_name;
  int shards = 1;         // tasks 0 .. shards-1
  int cpus_per_task = 1;  // also each task's -j
  std::optional<std::string> partition;
  std::optional<std::string> time_limit;  // HH:MM:SS
  std::optional<double> timeout_s;        // per point, passed on
};

// A bash script: #SBATCH --array=0-(N-1), --output=<out_dir>/slurm-%A_%a.out,
// --cpus-per-task; its one command runs
// `<npusim> sweep <spec> --out <dir> --shard $SLURM_ARRAY_TASK_ID/N -j <cpus> --quiet`.
std::string slurm_script(const SlurmScriptOptions& options);

// 'text' for a POSIX shell: single quotes, a ' written as '\''.
std::string shell_quote(const std::string& text);

// Runs `sbatch <script_path>` and returns its output trimmed ("Submitted batch
// job 42"). InputError when sbatch is not on PATH or fails (its message).
std::string submit_slurm_script(const std::string& script_path);

}  // namespace npusim
