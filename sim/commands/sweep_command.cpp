#include "sim/commands/sweep_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "models/input_error.h"
#include "sim/report/atomic_file.h"
#include "sim/report/text_table.h"
#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_outputs.h"
#include "sim/sweep/sweep_process.h"
#include "sim/sweep/sweep_slurm.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/sweep/sweep_store.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

constexpr double kDefaultTimeoutS = 3600;
constexpr int kDefaultSlurmShardsMax = 100;
constexpr std::size_t kListedLines = 20;  // dropped or failed points listed in the summary

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

std::string clock_text(double seconds) {
  const long total = static_cast<long>(seconds + 0.5);
  const long h = total / 3600, m = total / 60 % 60, s = total % 60;
  char text[32];
  if (h > 0)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", h, m, s);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", m, s);
  return text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The child's last non-empty stderr line, without the CLI's "npusim: error: ".
std::string last_error_line(const fs::path& path) {
  std::string text = read_text(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const auto newline = text.rfind('\n');
  std::string line = newline == std::string::npos ? text : text.substr(newline + 1);
  const std::string prefix = "npusim: error: ";
  if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
  return line;
}

void print_notes(std::ostream& out, const std::vector<std::string>& notes) {
  for (const auto& note : notes) out << "npusim sweep: note: " << note << '\n';
}

void ensure_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (!fs::is_directory(dir)) {
    throw InputError("--out " + dir.string() + ": cannot create the results directory" +
                     (error ? ": " + error.message() : std::string()));
  }
}

void print_dropped(std::ostream& out, const SweepPlan& plan) {
  if (plan.dropped.empty()) return;
  out << "dropped by constraints (not run): " << plan.dropped.size() << " points\n";
  for (std::size_t i = 0; i < plan.dropped.size() && i < kListedLines; ++i) {
    out << "  " << plan.dropped[i].values.dump() << ": " << plan.dropped[i].reason << '\n';
  }
  if (plan.dropped.size() > kListedLines) {
    out << "  ... and " << plan.dropped.size() - kListedLines << " more (dropped.jsonl)\n";
  }
}

void print_outputs(std::ostream& out, const SweepOutputs& outputs, std::size_t points) {
  const SweepTally& t = outputs.tally;
  out << "results: " << points - t.missing << " of " << points << " points (ok " << t.ok << ", failed " << t.failed
      << ", timeout " << t.timeout << "), Pareto front " << t.pareto << " points";
  if (t.below_min_sqnr > 0) out << "; " << t.below_min_sqnr << " below min_sqnr_db (kept off the front)";
  if (t.stale > 0) out << "; " << t.stale << " stored results belong to no point of this spec (ignored)";
  out << '\n';
  for (const auto& file : outputs.files) out << "wrote " << file << '\n';
}

// A sweep whose outputs are all written but hold failed or timed-out points
// exits 6, so a script cannot mistake it for a clean sweep.
int points_failed_status(std::ostream& out, const SweepTally& tally) {
  if (tally.failed + tally.timeout == 0) return 0;
  out << "npusim sweep: " << tally.failed + tally.timeout << " points failed or timed out (see above); exit status "
      << kSweepPointsFailed << '\n';
  return kSweepPointsFailed;
}

int merge(const SweepSpec& spec, const SweepPlan& plan, const fs::path& dir, std::ostream& out) {
  if (!fs::is_directory(dir)) {
    throw InputError(dir.string() + ": no results directory (run the sweep or its shards first)");
  }
  const StoredResults stored = read_results(dir);
  print_notes(out, stored.notes);
  out << "npusim sweep: " << spec.file << ": merging " << stored.lines << " result lines from " << dir.string() << '\n';
  print_dropped(out, plan);
  const SweepOutputs outputs = write_sweep_outputs(spec, plan, stored, dir);
  print_outputs(out, outputs, plan.points.size());
  if (outputs.tally.missing > 0) {
    out << "npusim sweep: incomplete: " << outputs.tally.missing << " of " << plan.points.size()
        << " points have no result yet (re-run the missing shards, or the sweep, then --merge again); exit status "
        << kSweepIncomplete << '\n';
    return kSweepIncomplete;
  }
  return points_failed_status(out, outputs.tally);
}

int write_slurm(const SweepOptions& options, const SweepSpec& spec, const SweepPlan& plan, const fs::path& dir,
                std::ostream& out) {
  ensure_directory(dir);
  SlurmScriptOptions script;
  script.npusim_path = self_executable_path();
  script.spec_path = fs::absolute(spec.file).lexically_normal().string();
  script.out_dir = fs::absolute(dir).lexically_normal().string();
  script.job_name = "npusim-sweep-" + fs::path(spec.file).stem().string();
  const int points = static_cast<int>(std::max<std::size_t>(plan.points.size(), 1));
  script.shards = options.slurm_shards.value_or(std::min(points, kDefaultSlurmShardsMax));
  script.cpus_per_task = options.slurm_cpus_per_task;
  script.partition = options.slurm_partition;
  script.time_limit = options.slurm_time;
  script.timeout_s = options.timeout_s;
  const fs::path path = dir / "sweep.slurm";
  write_file_atomically(path.string(), slurm_script(script));
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  out << path.string() << '\n';
  out << "npusim sweep: job array of " << script.shards << " tasks over " << plan.points.size()
      << " points; gather with: npusim sweep " << spec.file << " --out " << dir.string() << " --merge\n";
  if (options.submit) out << submit_slurm_script(path.string()) << '\n';
  return 0;
}

// The recorded line of a finished child.
ojson result_line(const SweepPoint& point, const ProcessOutcome& outcome, const fs::path& json_path,
                  const fs::path& err_path, double timeout_s) {
  ojson line;
  line["key"] = point.key;
  line["index"] = point.index;
  line["point"] = point.values;
  std::string status = "ok";
  ojson error = nullptr;
  ojson metrics = nullptr;
  if (outcome.kind == ProcessOutcome::Kind::timed_out) {
    status = "timeout";
    error = "timed out after " + fixed(timeout_s, 3) + " s";
  } else if (outcome.kind == ProcessOutcome::Kind::signaled) {
    status = "failed";
    error = "killed by signal " + std::to_string(outcome.code);
  } else if (outcome.code == 0 || outcome.code == 3) {
    try {
      metrics = sweep_metrics_from_report(nlohmann::json::parse(read_text(json_path)));
      if (outcome.code == 3) {
        status = "failed";
        error = "simulated outputs differ from the reference executor (npusim run exit status 3)";
      }
    } catch (const std::exception& e) {
      status = "failed";
      error = std::string("unreadable run report: ") + e.what();
    }
  } else {
    status = "failed";
    const std::string message = last_error_line(err_path);
    error = message.empty() ? "npusim run exit status " + std::to_string(outcome.code) : message;
  }
  line["status"] = status;
  line["error"] = error;
  line["metrics"] = metrics;
  line["wall_s"] = rounded(outcome.wall_s, 3);
  line["cpu_s"] = rounded(outcome.cpu_s, 3);
  return line;
}

// The points this run (or shard) owns, and those of them still to run.
struct SweepWork {
  std::vector<const SweepPoint*> todo;
  std::size_t mine = 0, already = 0;
};

SweepWork work_of(const SweepOptions& options, const SweepPlan& plan, const StoredResults& stored) {
  SweepWork work;
  for (const auto& point : plan.points) {
    if (options.shard && static_cast<int>(point.index % options.shard->count) != options.shard->index) continue;
    ++work.mine;
    const auto it = stored.by_key.find(point.key);
    const bool done = it != stored.by_key.end() && (it->second["status"] == "ok" || !options.retry_failed);
    if (done)
      ++work.already;
    else
      work.todo.push_back(&point);
  }
  return work;
}

// One `npusim run` child per point, its report and stderr in `tmp`.
std::vector<ProcessJob> worker_jobs(const SweepSpec& spec, const std::vector<const SweepPoint*>& todo,
                                    const fs::path& tmp) {
  const std::string exe = self_executable_path();
  const std::string tag = "-" + std::to_string(getpid());
  std::vector<ProcessJob> jobs;
  for (const SweepPoint* point : todo) {
    ProcessJob job;
    job.program = "/proc/self/exe";
    job.argv = {exe, "run", "--config", spec.base_config, "--model", spec.networks[point->network].path};
    for (const auto& set : point->overrides) {
      job.argv.push_back("--set");
      job.argv.push_back(set);
    }
    job.argv.insert(job.argv.end(), spec.run_args.begin(), spec.run_args.end());
    job.argv.push_back("--json");
    job.argv.push_back((tmp / (point->key + tag + ".json")).string());
    job.stderr_path = (tmp / (point->key + tag + ".err")).string();
    jobs.push_back(std::move(job));
  }
  return jobs;
}

struct RunCounts {
  std::size_t finished = 0, ok = 0, failed = 0, timed_out = 0;
  double child_wall_s = 0, child_cpu_s = 0;
  std::vector<std::string> failures;
};

// The progress line: points done of the run's share, failures, elapsed, ETA.
class ProgressLine {
 public:
  ProgressLine(const SweepOptions& options, std::ostream& out, const SweepWork& work)
      : style_(options.progress), interval_s_(options.progress_interval_s), out_(out), work_(work) {}
  double elapsed_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  // `point_done`: called because a point finished (else: while waiting).
  void show(const RunCounts& counts, bool point_done) {
    if (style_ == SweepOptions::Progress::none) return;
    const double now = elapsed_s();
    if (style_ == SweepOptions::Progress::lines) {
      const bool due = interval_s_ <= 0 ? point_done : now - last_line_s_ >= interval_s_;
      if (!due) return;
      last_line_s_ = now;
      out_ << text(counts, now) << std::endl;
      return;
    }
    out_ << '\r' << text(counts, now) << "   " << std::flush;
  }
  void finish() {
    if (style_ == SweepOptions::Progress::terminal) out_ << '\n';
  }

 private:
  std::string text(const RunCounts& counts, double now) const {
    std::string line = "npusim sweep: " + std::to_string(work_.already + counts.finished) + "/" +
                       std::to_string(work_.mine) + " points, " + std::to_string(counts.failed + counts.timed_out) +
                       " failed, " + clock_text(now) + " elapsed";
    if (counts.finished > 0 && counts.finished < work_.todo.size()) {
      const double left = static_cast<double>(work_.todo.size() - counts.finished);
      line += ", ETA " + clock_text(now / static_cast<double>(counts.finished) * left);
    }
    return line;
  }

  SweepOptions::Progress style_;
  double interval_s_;
  std::ostream& out_;
  const SweepWork& work_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double last_line_s_ = 0;
};

void count_outcome(RunCounts& counts, const SweepPoint& point, const ProcessOutcome& outcome, const ojson& line) {
  ++counts.finished;
  counts.child_wall_s += outcome.wall_s;
  counts.child_cpu_s += outcome.cpu_s;
  const std::string status = line["status"];
  if (status == "ok")
    ++counts.ok;
  else if (status == "timeout")
    ++counts.timed_out;
  else
    ++counts.failed;
  if (status != "ok") {
    counts.failures.push_back(point.values.dump() + ": " + status + ": " + line["error"].get<std::string>());
  }
}

void print_run_summary(std::ostream& out, const RunCounts& counts, double wall_s, double cpu_s) {
  out << "ran " << counts.finished << " points: ok " << counts.ok << ", failed " << counts.failed << ", timeout "
      << counts.timed_out << '\n';
  for (std::size_t i = 0; i < counts.failures.size() && i < kListedLines; ++i)
    out << "  " << counts.failures[i] << '\n';
  if (counts.failures.size() > kListedLines) out << "  ... and " << counts.failures.size() - kListedLines << " more\n";
  if (counts.finished == 0) return;
  const double n = static_cast<double>(counts.finished);
  out << "time: " << fixed(wall_s, 2) << " s wall, " << fixed(60.0 * n / wall_s, 1) << " points/min; mean point "
      << fixed(counts.child_wall_s / n, 3) << " s wall, " << fixed(counts.child_cpu_s / n, 3)
      << " s CPU; engine overhead " << fixed(1000.0 * cpu_s / n, 2) << " ms CPU per point\n";
}

void print_run_header(std::ostream& out, const SweepOptions& options, const SweepSpec& spec, const SweepPlan& plan,
                      const SweepWork& work, int jobs, double timeout_s) {
  out << "npusim sweep: " << spec.file << ": " << plan.points.size() << " points";
  if (!plan.dropped.empty()) out << " (" << plan.dropped.size() << " more dropped by constraints)";
  if (options.shard) {
    out << "; shard " << options.shard->index << "/" << options.shard->count << ": " << work.mine << " points";
  }
  out << "; " << work.already << " already done, " << work.todo.size() << " to run, -j " << jobs << ", timeout "
      << fixed(timeout_s, 0) << " s\n";
  out.flush();
}

int run_sweep(const SweepOptions& options, const SweepSpec& spec, const SweepPlan& plan, const fs::path& dir,
              std::ostream& out, std::ostream& progress) {
  ensure_directory(dir);
  const std::string file =
      options.shard ? shard_results_file(options.shard->index, options.shard->count) : std::string(kLocalResultsFile);
  ResultsAppender appender((dir / file).string());
  if (!appender.note().empty()) print_notes(out, {appender.note()});
  const StoredResults stored = read_results(dir);
  print_notes(out, stored.notes);
  const SweepWork work = work_of(options, plan, stored);
  const double timeout_s = options.timeout_s.value_or(spec.timeout_s.value_or(kDefaultTimeoutS));
  const int jobs = std::max(1, options.jobs);
  print_run_header(out, options, spec, plan, work, jobs, timeout_s);

  // One worker directory per results file: holding that file's lock, whatever
  // is in it was left by a killed run.
  const fs::path tmp = dir / ("tmp." + fs::path(file).stem().string());
  std::error_code cleared;
  fs::remove_all(tmp, cleared);
  ensure_directory(tmp);
  const std::vector<ProcessJob> process_jobs = worker_jobs(spec, work.todo, tmp);
  RunCounts counts;
  ProgressLine line_out(options, progress, work);
  const double cpu_start = cpu_seconds();
  const bool complete = run_processes(
      process_jobs, ProcessPoolOptions{jobs, timeout_s},
      [&](std::size_t j, const ProcessOutcome& outcome) {
        const fs::path json_path = process_jobs[j].argv.back(), err_path = process_jobs[j].stderr_path;
        const ojson line = result_line(*work.todo[j], outcome, json_path, err_path, timeout_s);
        appender.append(line);
        std::error_code ignored;
        fs::remove(json_path, ignored);
        fs::remove(err_path, ignored);
        count_outcome(counts, *work.todo[j], outcome, line);
        line_out.show(counts, true);
      },
      [&] { line_out.show(counts, false); });
  const double cpu_s = cpu_seconds() - cpu_start;
  const double wall_s = line_out.elapsed_s();
  line_out.finish();
  std::error_code ignored;
  for (const auto& job : process_jobs) {
    fs::remove(job.argv.back(), ignored);
    fs::remove(job.stderr_path, ignored);
  }
  fs::remove(tmp, ignored);

  print_run_summary(out, counts, wall_s, cpu_s);
  out << "appended to " << appender.path() << '\n';
  if (!complete) {
    out << "npusim sweep: interrupted: the " << counts.finished
        << " points that finished are saved; run the same command again to resume\n";
    return kSweepInterrupted;
  }
  print_dropped(out, plan);
  if (options.shard) return counts.failed + counts.timed_out > 0 ? kSweepPointsFailed : 0;
  const StoredResults merged = read_results(dir);
  const SweepOutputs outputs = write_sweep_outputs(spec, plan, merged, dir);
  print_outputs(out, outputs, plan.points.size());
  return points_failed_status(out, outputs.tally);
}

}  // namespace

std::string default_sweep_dir(const std::string& spec_path) {
  std::string base = spec_path;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  return base + ".sweep";
}

std::optional<SweepShard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return std::nullopt;
  const auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
  if (!digits(a) || !digits(b)) return std::nullopt;
  const SweepShard shard{std::stoi(a), std::stoi(b)};
  if (shard.count < 1 || shard.index >= shard.count) return std::nullopt;
  return shard;
}

int sweep_command(const SweepOptions& options, std::ostream& out, std::ostream& progress) {
  const SweepSpec spec = load_sweep_spec(options.spec_path);
  const SweepPlan plan = expand_sweep(spec);
  const fs::path dir = options.out_dir.value_or(default_sweep_dir(options.spec_path));
  if (options.slurm) return write_slurm(options, spec, plan, dir, out);
  if (options.merge) return merge(spec, plan, dir, out);
  return run_sweep(options, spec, plan, dir, out, progress);
}

}  // namespace npusim
