// `npusim sweep S.json`: expand a sweep file into points, run the ones without
// a result N at a time (each in its own worker process), append each result as
// it finishes, and write the merged outputs (sim/sweep/sweep_outputs.h). Also one
// shard of it (--shard i/N), a Slurm job array of shards (--slurm), and the
// gathering of shard results (--merge).
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace npusim {

// Exit statuses beyond 0 (done), 1 (bad input) and 2 (bad command line).
inline constexpr int kSweepIncomplete = 5;     // --merge: some points have no result yet
inline constexpr int kSweepPointsFailed = 6;   // every output written, but some points failed or timed out
inline constexpr int kSweepInterrupted = 130;  // SIGINT/SIGTERM/SIGHUP: finished points are saved

struct SweepShard {
  int index = 0;  // 0 <= index < count; point i belongs to shard i mod count
  int count = 1;
};

struct SweepOptions {
  std::string spec_path;
  int jobs = 1;
  std::optional<std::string> out_dir;  // default: default_sweep_dir(spec_path)
  std::optional<double> timeout_s;     // per point; default: the spec's, else 3600
  std::optional<SweepShard> shard;
  bool retry_failed = false;  // run failed/timed-out points again
  bool slurm = false;
  std::optional<int> slurm_shards;  // default: min(points, 100)
  std::optional<std::string> slurm_partition;
  std::optional<std::string> slurm_time;
  // CPUs each job-array task asks for, and the points it runs at a time. Not
  // -j: that is the submitting machine's core count, often a login node's.
  int slurm_cpus_per_task = 1;
  bool submit = false;
  bool merge = false;
  // On `progress`: none; terminal (one line redrawn in place, on each change);
  // lines (a plain line at most every progress_interval_s, for logs under
  // nohup or Slurm; 0: one per finished point).
  enum class Progress { none, terminal, lines };
  Progress progress = Progress::none;
  double progress_interval_s = 5;
};

// "sweeps/a.json" -> "sweeps/a.sweep"
std::string default_sweep_dir(const std::string& spec_path);

// "3/8" -> {3, 8}; nullopt unless 0 <= i < N.
std::optional<SweepShard> parse_shard(const std::string& text);

int sweep_command(const SweepOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace npusim
