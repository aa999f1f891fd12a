// End-to-end: `npusim sweep --slurm` on a real single-node Slurm cluster
// (slurmctld, slurmd and munged started on this machine by
// scripts/slurm_local.sh). A job array runs the shards into one results store,
// --merge gathers them, and the result equals a local sweep of the same spec;
// a shard cancelled mid-run leaves its points missing until a resubmission
// resumes it. Needs root and Debian's slurm-wlm and munge.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "slurm_test_support.h"
#include "temp_dir_test_support.h"

namespace {

namespace fs = std::filesystem;
using npusim::testing::kSourceDir;
using npusim::testing::LocalSlurmCluster;
using npusim::testing::run_npusim;

constexpr double kJobTimeoutS = 60;

// What makes two sweep results the same: the point's identity and its numbers
// (not the wall time or the host it ran on).
struct PointResult {
  std::string key;
  nlohmann::json index, point, status, metrics;
  bool operator==(const PointResult&) const = default;
};

void PrintTo(const PointResult& r, std::ostream* os) {
  *os << r.key << " #" << r.index.dump() << " " << r.point.dump() << " " << r.status.dump() << " " << r.metrics.dump();
}

std::vector<PointResult> read_results(const fs::path& jsonl) {
  std::vector<PointResult> results;
  std::ifstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    results.push_back({j.at("key").get<std::string>(), j.at("index"), j.at("point"), j.at("status"), j.at("metrics")});
  }
  return results;
}

std::vector<std::string> keys_of(const std::vector<PointResult>& results) {
  std::vector<std::string> keys;
  for (const auto& r : results) keys.push_back(r.key);
  return keys;
}

class SweepSlurm : public npusim::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    const auto missing = npusim::testing::missing_slurm_programs();
    std::string list;
    for (const auto& p : missing) list += " " + p;
    ASSERT_TRUE(missing.empty())
        << "this machine lacks" << list
        << ": run scripts/install_deps.sh (Debian's slurm-wlm and munge) for the Slurm sweep test";
    ASSERT_EQ(geteuid(), 0u)
        << "the Slurm sweep test starts slurmctld and slurmd with SlurmUser=root: run it as root (CI does)";
  }

  fs::path write_spec(const std::string& name, const nlohmann::json& spec) {
    const fs::path path = dir_ / (name + ".json");
    std::ofstream(path) << spec.dump(2) << "\n";
    return path;
  }

  // Submits the sweep as a 3-task job array and returns the job id. One CPU
  // per task (-j 1), so two shards run at once on a 2-core machine.
  std::string submit(const fs::path& spec, const LocalSlurmCluster& cluster) {
    const auto r = run_npusim("sweep " + spec.string() + " --slurm --slurm-shards 3 -j 1 --submit --quiet");
    EXPECT_EQ(r.status, 0) << r.out;
    const std::string job = npusim::testing::submitted_job_id(r.out);
    EXPECT_FALSE(job.empty()) << "no job id in: " << r.out << cluster.log_tails();
    return job;
  }

  void wait_for(const std::string& job, const LocalSlurmCluster& cluster, const fs::path& store) {
    std::string queue;
    ASSERT_TRUE(npusim::testing::wait_for_job_end(job, kJobTimeoutS, &queue))
        << "job " << job << " still queued after " << kJobTimeoutS << " s:\n"
        << queue << cluster.log_tails() << task_outputs(store);
  }

  static std::string task_outputs(const fs::path& store) {
    std::string text;
    if (!fs::exists(store)) return text;
    for (const auto& entry : fs::directory_iterator(store)) {
      if (entry.path().filename().string().rfind("slurm-", 0) == 0) {
        text += "---- " + entry.path().string() + "\n" + slurp(entry.path());
      }
    }
    return text;
  }

  static fs::path shard_file(const fs::path& store, int shard) {
    return store / ("results.shard-" + std::to_string(shard) + "-of-3.jsonl");
  }

  static nlohmann::json base_spec() {
    return {{"base", kSourceDir + "/configs/presets/edge_npu.json"},
            {"set", {{"array.fidelity", "tile"}}},
            {"networks", {kSourceDir + "/models/zoo/lenet5.json"}}};
  }
};

TEST_F(SweepSlurm, JobArrayShardsMergeToTheSameResultsAsALocalSweep) {
  LocalSlurmCluster cluster(dir_ / "slurm");
  ASSERT_TRUE(cluster.up()) << cluster.start_output();

  auto spec = base_spec();
  spec["axes"] = {{"array.rows", {16, 32}}, {"formats", {"int8", "fp16", "int4"}}};
  const fs::path sharded = write_spec("lenet", spec);
  const fs::path store = dir_ / "lenet.sweep";

  const std::string job = submit(sharded, cluster);
  ASSERT_FALSE(job.empty());
  // The script the array runs: one task per shard, each naming its slice.
  const std::string script = slurp(store / "sweep.slurm");
  EXPECT_NE(script.find("#SBATCH --array=0-2"), std::string::npos) << script;
  EXPECT_TRUE(std::regex_search(script, std::regex(R"(--shard "?\$\{?SLURM_ARRAY_TASK_ID\}?/3"?)"))) << script;
  EXPECT_NE(script.find(fs::absolute(store).string()), std::string::npos) << script;

  wait_for(job, cluster, store);
  const auto states = npusim::testing::array_task_states(job);
  ASSERT_EQ(states.size(), 3u) << npusim::testing::run_shell("scontrol -o show job " + job).out;
  for (const auto& [task, state] : states) EXPECT_EQ(state, "COMPLETED") << "task " << task << task_outputs(store);
  for (int task = 0; task < 3; ++task) {
    EXPECT_TRUE(fs::exists(store / ("slurm-" + job + "_" + std::to_string(task) + ".out"))) << "task " << task;
  }

  const auto merge = run_npusim("sweep " + sharded.string() + " --merge");
  ASSERT_EQ(merge.status, 0) << merge.out;

  // The same spec run locally in a store of its own.
  const fs::path local_store = dir_ / "local.sweep";
  const auto local = run_npusim("sweep " + sharded.string() + " --out " + local_store.string() + " -j 2 --quiet");
  ASSERT_EQ(local.status, 0) << local.out;

  const auto merged = read_results(store / "merged.jsonl");
  const auto expected = read_results(local_store / "merged.jsonl");
  ASSERT_EQ(expected.size(), 6u);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].status, "ok") << expected[i].key << " " << expected[i].point.dump();
    EXPECT_EQ(expected[i].index, i);
  }
  EXPECT_EQ(merged, expected);

  // Point i ran in shard i mod 3, and each shard ran only its own points.
  for (int shard = 0; shard < 3; ++shard) {
    std::vector<std::string> own;
    for (std::size_t i = shard; i < expected.size(); i += 3) own.push_back(expected[i].key);
    auto ran = keys_of(read_results(shard_file(store, shard)));
    std::sort(ran.begin(), ran.end());
    std::sort(own.begin(), own.end());
    EXPECT_EQ(ran, own) << "shard " << shard;
  }
  EXPECT_TRUE(fs::exists(store / "results.csv"));
}

TEST_F(SweepSlurm, AShardCancelledMidRunIsFinishedByResubmittingTheArray) {
  LocalSlurmCluster cluster(dir_ / "slurm");
  ASSERT_TRUE(cluster.up()) << cluster.start_output();

  // A single 3x3 convolution of 32x128x128 into 64 channels (302 M MACs): a
  // second or more per point, so the shard is still busy when it is cancelled.
  const fs::path slow_net = dir_ / "slow_conv.json";
  std::ofstream(slow_net) << R"({"format_version": 1, "name": "slow_conv", "seed": 3,
  "input": {"name": "input", "shape": [32, 128, 128]},
  "layers": [{"name": "conv1", "type": "conv2d", "input": "input", "filters": 64, "kernel": [3, 3],
              "stride": [1, 1], "padding": [1, 1], "activation": "relu"}]})"
                          << "\n";
  // Points in order: lenet/16, lenet/32, slow/16, slow/32. Shard 0 of 3 gets
  // lenet/16 (fast) then slow/32; shard 1 lenet/32; shard 2 slow/16.
  auto spec = base_spec();
  spec["networks"].push_back(slow_net.string());
  spec["axes"] = {{"array.rows", {16, 32}}};
  const fs::path sharded = write_spec("mixed", spec);
  const fs::path store = dir_ / "mixed.sweep";

  const std::string job = submit(sharded, cluster);
  ASSERT_FALSE(job.empty());
  // Cancel shard 0 once its first point is on disk: it is then inside slow/32.
  ASSERT_TRUE(npusim::testing::wait_for_lines(shard_file(store, 0), 1, kJobTimeoutS))
      << "shard 0 recorded nothing" << cluster.log_tails() << task_outputs(store);
  const auto cancel = npusim::testing::run_shell("scancel " + job + "_0");
  ASSERT_EQ(cancel.status, 0) << cancel.out;
  wait_for(job, cluster, store);

  auto states = npusim::testing::array_task_states(job);
  EXPECT_EQ(states[0], "CANCELLED") << task_outputs(store);
  EXPECT_EQ(states[1], "COMPLETED") << task_outputs(store);
  EXPECT_EQ(states[2], "COMPLETED") << task_outputs(store);
  // Only lenet/16 is recorded: the point the cancel interrupted is not (a
  // "failed" line for it would make every resume skip it).
  ASSERT_EQ(npusim::testing::count_lines(shard_file(store, 0)), 1u) << slurp(shard_file(store, 0));
  const std::string shard0_before = slurp(shard_file(store, 0));
  const std::string shard1_before = slurp(shard_file(store, 1));
  const std::string shard2_before = slurp(shard_file(store, 2));

  // Exit status 5: points missing.
  const auto incomplete = run_npusim("sweep " + sharded.string() + " --merge");
  EXPECT_EQ(incomplete.status, 5) << incomplete.out;
  EXPECT_NE(incomplete.out.find("incomplete: 1 of 4 points have no result yet"), std::string::npos) << incomplete.out;

  // Resubmitting the whole array: shards 1 and 2 find all their points done,
  // shard 0 skips lenet/16 and runs only slow/32.
  const std::string rerun = submit(sharded, cluster);
  ASSERT_FALSE(rerun.empty());
  wait_for(rerun, cluster, store);
  states = npusim::testing::array_task_states(rerun);
  for (const auto& [task, state] : states) EXPECT_EQ(state, "COMPLETED") << "task " << task << task_outputs(store);
  EXPECT_EQ(slurp(shard_file(store, 1)), shard1_before);
  EXPECT_EQ(slurp(shard_file(store, 2)), shard2_before);
  const std::string shard0_after = slurp(shard_file(store, 0));
  EXPECT_EQ(shard0_after.substr(0, shard0_before.size()), shard0_before);
  EXPECT_EQ(npusim::testing::count_lines(shard_file(store, 0)), 2u) << shard0_after;

  const auto complete = run_npusim("sweep " + sharded.string() + " --merge");
  ASSERT_EQ(complete.status, 0) << complete.out;
  const fs::path local_store = dir_ / "local.sweep";
  const auto local = run_npusim("sweep " + sharded.string() + " --out " + local_store.string() + " -j 2 --quiet");
  ASSERT_EQ(local.status, 0) << local.out;
  const auto expected = read_results(local_store / "merged.jsonl");
  ASSERT_EQ(expected.size(), 4u);
  for (const auto& r : expected) EXPECT_EQ(r.status, "ok") << r.key << " " << r.point.dump();
  EXPECT_EQ(read_results(store / "merged.jsonl"), expected);
}

}  // namespace
