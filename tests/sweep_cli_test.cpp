// `npusim sweep` end to end on LeNet-5: per-point metrics equal plain runs,
// resume after kill -9, failures and timeouts recorded, shards and --merge,
// the Slurm script, deterministic outputs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli_test_support.h"
#include "sim/sweep/sweep_metrics.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

using testing::kSourceDir;
using testing::run_npusim;

const std::string kSmallSpec = kSourceDir + "/configs/sweeps/lenet5_small.json";

std::vector<nlohmann::json> read_lines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

int ran_count(const std::string& out) {
  const auto at = out.find("\nran ");
  if (at == std::string::npos) return -1;
  return std::stoi(out.substr(at + 5));
}

class SweepCliTest : public testing::TempDirTest {
 protected:
  std::string sweep(const std::string& spec, const std::string& out, const std::string& extra = "") {
    const auto r = run_npusim("sweep " + spec + " --out " + (dir_ / out).string() + " " + extra);
    last_status_ = r.status;
    return r.out;
  }
  std::string write_spec(const std::string& name, const std::string& axes) {
    std::ofstream(dir_ / name) << "{\"base\": \"" << kSourceDir << "/configs/edge_int8_32x32.json\", \"networks\": [\""
                               << kSourceDir << "/models/zoo/lenet5.json\"], " << axes << "}";
    return (dir_ / name).string();
  }
  int last_status_ = -1;
};

TEST_F(SweepCliTest, EveryPointEqualsAPlainRunAndOutputsAreDeterministic) {
  const std::string out = sweep(kSmallSpec, "a", "-j 2");
  ASSERT_EQ(last_status_, 0) << out;
  EXPECT_EQ(ran_count(out), 9) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);  // no progress line when not a terminal
  const auto merged = read_lines(dir_ / "a" / "merged.jsonl");
  ASSERT_EQ(merged.size(), 9u);
  EXPECT_EQ(read_lines(dir_ / "a" / "results.jsonl").size(), 9u);
  int index = 0;
  for (const char* format : {"fp32", "int8", "int4"}) {
    for (const int side : {8, 16, 32}) {
      const auto& line = merged[index];
      ASSERT_EQ(line["index"], index);
      EXPECT_EQ(line["point"]["formats"], format);
      EXPECT_EQ(line["point"]["array.rows"], side);
      EXPECT_EQ(line["status"], "ok");
      const std::string accumulator = std::string(format) == "fp32" ? "fp32" : "int32";
      const std::string json = (dir_ / ("plain" + std::to_string(index) + ".json")).string();
      const auto run = run_npusim("run --config " + kSourceDir + "/configs/edge_int8_32x32.json --model " + kSourceDir +
                                  "/models/zoo/lenet5.json --set array.rows=" + std::to_string(side) +
                                  " --set array.cols=" + std::to_string(side) + " --set formats.weight=" + format +
                                  " --set formats.activation=" + format + " --set formats.accumulator=" + accumulator +
                                  " --json " + json);
      ASSERT_EQ(run.status, 0) << run.out;
      const auto report = nlohmann::json::parse(testing::read_text(json));
      const auto& totals = report["totals"];
      const auto& m = line["metrics"];
      EXPECT_EQ(m["cycles"], totals["cycles"]);
      EXPECT_EQ(m["latency_us"], totals["latency_us"]);
      EXPECT_EQ(m["energy_per_inference_uj"], totals["energy"]["energy_uj"]);
      EXPECT_EQ(m["pj_per_mac"], totals["energy"]["pj_per_mac"]);
      EXPECT_EQ(m["area_mm2"], totals["energy"]["area"]["total_mm2"]);
      EXPECT_EQ(m["dram_read_bytes"], totals["memory"]["dram_read_bytes"]);
      EXPECT_EQ(m["utilization_pct"], totals["utilization_pct"]);
      EXPECT_EQ(m["network_sqnr_db"], totals["network_sqnr_db"]);
      for (const auto& [part, pj] : totals["energy"]["breakdown"].items()) {
        if (part != "total_pj") EXPECT_EQ(m["energy_" + part], pj) << part;
      }
      ++index;
    }
  }

  // The pareto column against the definition, computed here from the CSV.
  std::ifstream csv(dir_ / "a" / "results.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(
      header.rfind("index,key,network,formats,array.rows,array.cols,format,array_rows,array_cols,sram_kb,status,pareto,"
                   "latency_us,cycles,energy_per_inference_uj,pj_per_mac,area_mm2,",
                   0),
      0u)
      << header;
  std::vector<std::string> columns;
  std::stringstream hs(header);
  for (std::string c; std::getline(hs, c, ',');) columns.push_back(c);
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  std::vector<std::array<double, 3>> objectives;
  std::vector<bool> flags;
  for (std::string row; std::getline(csv, row);) {
    std::vector<std::string> cells;
    std::stringstream rs(row);
    for (std::string c; std::getline(rs, c, ',');) cells.push_back(c);
    objectives.push_back({std::stod(cells[column("energy_per_inference_uj")]), std::stod(cells[column("latency_us")]),
                          std::stod(cells[column("area_mm2")])});
    flags.push_back(cells[column("pareto")] == "true");
  }
  ASSERT_EQ(objectives.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < 9; ++j) {
      const auto &a = objectives[j], &b = objectives[i];
      if (a[0] <= b[0] && a[1] <= b[1] && a[2] <= b[2] && (a[0] < b[0] || a[1] < b[1] || a[2] < b[2])) dominated = true;
    }
    EXPECT_EQ(flags[i], !dominated) << "point " << i;
    EXPECT_EQ(merged[i]["pareto"], !dominated);
  }

  // Same spec, fresh directory: the same bytes.
  ASSERT_EQ((sweep(kSmallSpec, "b", "-j 1"), last_status_), 0);
  for (const char* file :
       {"merged.jsonl", "results.csv", "pareto.json", "dropped.jsonl", "energy_vs_latency_lenet5.svg",
        "energy_vs_array_lenet5.svg", "latency_vs_array_lenet5.svg"}) {
    EXPECT_EQ(testing::read_text(dir_ / "a" / file), testing::read_text(dir_ / "b" / file)) << file;
  }
  const std::string svg = testing::read_text(dir_ / "a" / "energy_vs_latency_lenet5.svg");
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(svg.find("http://", svg.find("xmlns") + 40), std::string::npos);  // no external reference
  EXPECT_NE(svg.find("W4A4"), std::string::npos);
  EXPECT_NE(svg.find("class=\"point pareto\""), std::string::npos);

  // Re-running a finished sweep runs nothing.
  const std::string again = sweep(kSmallSpec, "a", "-j 2");
  EXPECT_EQ(ran_count(again), 0) << again;
  EXPECT_NE(again.find("9 already done"), std::string::npos);
  EXPECT_EQ(read_lines(dir_ / "a" / "results.jsonl").size(), 9u);
}

TEST_F(SweepCliTest, ResumeAfterKillNineRunsEachPointOnce) {
  const std::filesystem::path out = dir_ / "killed";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execl(NPUSIM_BINARY, NPUSIM_BINARY, "sweep", kSmallSpec.c_str(), "--out", out.c_str(), "-j", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::size_t lines = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = testing::read_text(out / "results.jsonl");
    lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    if (lines >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  lines = read_lines(out / "results.jsonl").size();
  ASSERT_GE(lines, 2u);
  ASSERT_LT(lines, 9u) << "the sweep finished before it could be killed";
  // A torn write, as a crash in the middle of a line would leave.
  std::ofstream(out / "results.jsonl", std::ios::app) << "{\"key\":\"0123";

  const std::string resumed = sweep(kSmallSpec, "killed", "-j 2");
  ASSERT_EQ(last_status_, 0) << resumed;
  EXPECT_NE(resumed.find("cut a partial last line"), std::string::npos) << resumed;
  EXPECT_EQ(ran_count(resumed), static_cast<int>(9 - lines)) << resumed;
  const auto all = read_lines(out / "results.jsonl");
  ASSERT_EQ(all.size(), 9u);  // no point ran twice
  std::set<std::string> keys;
  for (const auto& line : all) keys.insert(line["key"]);
  EXPECT_EQ(keys.size(), 9u);

  ASSERT_EQ((sweep(kSmallSpec, "whole", "-j 2"), last_status_), 0);
  for (const char* file : {"merged.jsonl", "results.csv", "pareto.json"}) {
    EXPECT_EQ(testing::read_text(out / file), testing::read_text(dir_ / "whole" / file)) << file;
  }
}

TEST_F(SweepCliTest, FailingPointIsRecordedAndOthersFinishTimeoutsToo) {
  const std::string spec = write_spec("tight.json", "\"axes\": {\"memory.sram.weight.kb\": [1, 256]}");
  const std::string out = sweep(spec, "f", "-j 2");
  // Every output is written, and the failed point gives the documented status 6 (kSweepPointsFailed).
  ASSERT_EQ(last_status_, 6) << out;
  EXPECT_NE(out.find("npusim sweep: 1 points failed or timed out (see above); exit status 6"), std::string::npos)
      << out;
  const auto lines = read_lines(dir_ / "f" / "merged.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["status"], "failed");
  EXPECT_NE(lines[0]["error"].get<std::string>().find("cannot hold one minimal tile"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0]["error"].get<std::string>().find('\n'), std::string::npos);
  EXPECT_TRUE(lines[0]["metrics"].is_null());
  EXPECT_FALSE(lines[0]["pareto"]);
  EXPECT_EQ(lines[1]["status"], "ok");
  EXPECT_TRUE(lines[1]["pareto"]);
  EXPECT_NE(out.find("ok 1, failed 1, timeout 0"), std::string::npos) << out;
  EXPECT_NE(testing::read_text(dir_ / "f" / "results.csv").find(",failed,false,"), std::string::npos);
  // A resume skips the recorded failure; --retry-failed runs it again.
  EXPECT_EQ(ran_count(sweep(spec, "f", "")), 0);
  EXPECT_EQ(last_status_, 6);  // the stored failure still counts
  EXPECT_EQ(ran_count(sweep(spec, "f", "--retry-failed")), 1);

  const std::string slow = sweep(spec, "t", "-j 2 --timeout-s 0.001");
  ASSERT_EQ(last_status_, 6) << slow;
  for (const auto& line : read_lines(dir_ / "t" / "merged.jsonl")) {
    EXPECT_EQ(line["status"], "timeout");
    EXPECT_EQ(line["error"], "timed out after 0.001 s");
  }
  EXPECT_NE(slow.find("ok 0, failed 0, timeout 2"), std::string::npos) << slow;
}

TEST_F(SweepCliTest, ShardsPartitionThePointsAndMergeGathersThem) {
  ASSERT_EQ((sweep(kSmallSpec, "s", "--shard 0/2 -j 2"), last_status_), 0);
  const std::string partial = sweep(kSmallSpec, "s", "--merge");
  EXPECT_EQ(last_status_, 5) << partial;
  EXPECT_NE(partial.find("incomplete: 4 of 9 points have no result"), std::string::npos) << partial;
  ASSERT_EQ((sweep(kSmallSpec, "s", "--shard 1/2 -j 2"), last_status_), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "s" / "results.jsonl"));
  const auto zero = read_lines(dir_ / "s" / "results.shard-0-of-2.jsonl");
  const auto one = read_lines(dir_ / "s" / "results.shard-1-of-2.jsonl");
  ASSERT_EQ(zero.size(), 5u);
  ASSERT_EQ(one.size(), 4u);
  std::set<int> indices;
  for (const auto& line : zero) {
    EXPECT_EQ(line["index"].get<int>() % 2, 0);
    indices.insert(line["index"].get<int>());
  }
  for (const auto& line : one) {
    EXPECT_EQ(line["index"].get<int>() % 2, 1);
    indices.insert(line["index"].get<int>());
  }
  EXPECT_EQ(indices.size(), 9u);  // disjoint, and together every point
  const std::string merged = sweep(kSmallSpec, "s", "--merge");
  EXPECT_EQ(last_status_, 0) << merged;
  ASSERT_EQ((sweep(kSmallSpec, "local", "-j 2"), last_status_), 0);
  for (const char* file : {"merged.jsonl", "results.csv", "pareto.json", "energy_vs_latency_lenet5.svg"}) {
    EXPECT_EQ(testing::read_text(dir_ / "s" / file), testing::read_text(dir_ / "local" / file)) << file;
  }
  // A shard re-run after the merge runs nothing; a local run sees the shards' results.
  EXPECT_EQ(ran_count(sweep(kSmallSpec, "s", "--shard 1/2")), 0);
  EXPECT_EQ(ran_count(sweep(kSmallSpec, "s", "")), 0);
}

TEST_F(SweepCliTest, SlurmScriptAndSubmitWithoutSbatch) {
  const std::string out = sweep(kSmallSpec, "slurm", "--slurm --slurm-shards 3 --slurm-cpus 2 --slurm-time 00:10:00");
  ASSERT_EQ(last_status_, 0) << out;
  const auto script_path = dir_ / "slurm" / "sweep.slurm";
  EXPECT_EQ(out.rfind(script_path.string() + "\n", 0), 0u) << out;
  const std::string script = testing::read_text(script_path);
  EXPECT_NE(script.find("#SBATCH --array=0-2\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --output=" + script_path.parent_path().string() + "/slurm-%A_%a.out\n"),
            std::string::npos);
  EXPECT_NE(script.find("#SBATCH --time=00:10:00\n"), std::string::npos);
  EXPECT_NE(
      script.find("exec " + std::filesystem::canonical(NPUSIM_BINARY).string() + " sweep " + kSmallSpec + " --out " +
                  script_path.parent_path().string() + " --shard \"${SLURM_ARRAY_TASK_ID}/3\" -j 2 --quiet\n"),
      std::string::npos)
      << script;
  EXPECT_NE(std::filesystem::status(script_path).permissions() & std::filesystem::perms::owner_exec,
            std::filesystem::perms::none);

  FILE* pipe = popen(("PATH=/nonexistent " + std::string(NPUSIM_BINARY) + " sweep " + kSmallSpec + " --out " +
                      (dir_ / "slurm").string() + " --slurm --submit 2>&1")
                         .c_str(),
                     "r");
  std::string text;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) text += buffer;
  const int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 1) << text;
  EXPECT_NE(text.find("npusim: error: --submit: sbatch is not on PATH"), std::string::npos) << text;
}

TEST_F(SweepCliTest, BadSpecAndBadOptionsFailInOneLine) {
  const std::string spec = write_spec("bad.json", "\"axes\": {\"array.rowz\": [8]}");
  const auto r = run_npusim("sweep " + spec + " --out " + (dir_ / "bad").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_NE(r.out.find(spec + ": $.axes[\"array.rowz\"][0]: "), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad"));
  EXPECT_EQ(run_npusim("sweep " + kSmallSpec + " --shard 2/2").status, 1);  // a value --shard cannot take
  EXPECT_EQ(run_npusim("sweep " + kSmallSpec + " --merge --shard 0/2").status, 2);
  EXPECT_EQ(run_npusim("sweep").status, 2);
  const auto missing = run_npusim("sweep " + kSmallSpec + " --out " + (dir_ / "none").string() + " --merge");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no results directory"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace npusim

namespace npusim {
namespace {

// Not a terminal (the test reads a pipe): plain progress lines, one per
// finished point with --progress-interval-s 0; none with --quiet.
TEST_F(SweepCliTest, ProgressLinesWhenStderrIsNotATerminalQuietSilences) {
  const std::string spec = write_spec("progress.json", "\"axes\": {\"array.rows\": [8, 16, 32]}");
  const std::string out = sweep(spec, "p", "-j 1 --progress-interval-s 0");
  ASSERT_EQ(last_status_, 0) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  for (const char* done : {"1/3", "2/3", "3/3"}) {
    const auto at = out.find(std::string("npusim sweep: ") + done + " points, 0 failed, ");
    ASSERT_NE(at, std::string::npos) << done << " in " << out;
    const std::string line = out.substr(at, out.find('\n', at) - at);
    EXPECT_NE(line.find(" elapsed"), std::string::npos) << line;
    // An estimate while points remain, none after the last.
    EXPECT_EQ(line.find(", ETA ") != std::string::npos, std::string(done) != "3/3") << line;
  }
  const std::string quiet = sweep(spec, "q", "-j 1 --progress-interval-s 0 --quiet");
  ASSERT_EQ(last_status_, 0) << quiet;
  EXPECT_EQ(quiet.find("points, 0 failed"), std::string::npos) << quiet;
  const std::string bad = sweep(spec, "r", "--progress-interval-s -1");
  EXPECT_EQ(last_status_, 1) << bad;
  EXPECT_NE(bad.find("--progress-interval-s"), std::string::npos) << bad;
}

// min_sqnr_db is a result filter: every point runs; those under the floor
// (LeNet-5 at int4: about 14 dB, int8 about 39 dB, fp32 infinite) are marked
// and kept off the front, which is the front of the other points alone.
TEST_F(SweepCliTest, MinSqnrFloorKeepsLowSqnrPointsOffTheFrontAndMarksThem) {
  const std::string spec =
      write_spec("floor.json",
                 "\"axes\": {\"formats\": [\"fp32\", \"int8\", \"int4\"]}, \"constraints\": {\"min_sqnr_db\": 20}, "
                 "\"objectives\": [\"energy_per_inference_uj\", \"latency_us\"]");
  const std::string out = sweep(spec, "floor", "-j 2");
  ASSERT_EQ(last_status_, 0) << out;
  EXPECT_EQ(ran_count(out), 3) << out;
  EXPECT_NE(out.find("1 below min_sqnr_db"), std::string::npos) << out;
  const auto lines = read_lines(dir_ / "floor" / "merged.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0]["below_min_sqnr"]);  // fp32: null SQNR, infinite
  EXPECT_FALSE(lines[1]["below_min_sqnr"]);
  EXPECT_TRUE(lines[2]["below_min_sqnr"]);
  EXPECT_LT(lines[2]["metrics"]["network_sqnr_db"].get<double>(), 20.0);
  // int4 is cheaper and faster than int8: without the floor it alone would be
  // the front; with it, int8 (which beats fp32 on both) is.
  EXPECT_LT(lines[2]["metrics"]["energy_per_inference_uj"], lines[1]["metrics"]["energy_per_inference_uj"]);
  EXPECT_FALSE(lines[2]["pareto"]);
  EXPECT_TRUE(lines[1]["pareto"]);
  EXPECT_FALSE(lines[0]["pareto"]);
  const auto pareto = nlohmann::json::parse(testing::read_text(dir_ / "floor" / "pareto.json"));
  EXPECT_EQ(pareto["min_sqnr_db"], 20);
  const std::string csv = testing::read_text(dir_ / "floor" / "results.csv");
  EXPECT_NE(csv.find(",error,below_min_sqnr\n"), std::string::npos) << csv.substr(0, 600);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  const std::string svg = testing::read_text(dir_ / "floor" / "energy_vs_latency_lenet5.svg");
  EXPECT_NE(svg.find("below min_sqnr_db"), std::string::npos);
}

}  // namespace
}  // namespace npusim
