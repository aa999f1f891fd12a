// The generated Slurm job-array script, and shard parsing (no Slurm needed).
#include <gtest/gtest.h>

#include "sim/commands/sweep_command.h"
#include "sim/sweep/sweep_slurm.h"

namespace npusim {
namespace {

TEST(SweepSlurmScriptTest, JobArrayRunsOneShardPerTask) {
  SlurmScriptOptions o;
  o.npusim_path = "/opt/npusim/bin/npusim";
  o.spec_path = "/home/a/sweeps/big.json";
  o.out_dir = "/shared/big.sweep";
  o.job_name = "npusim-sweep-big";
  o.shards = 8;
  o.cpus_per_task = 4;
  o.partition = "batch";
  o.time_limit = "02:00:00";
  o.timeout_s = 600;
  const std::string expected =
      "#!/bin/bash\n"
      "# Written by npusim sweep --slurm: task i of the array runs shard i of 8 of the sweep\n"
      "# and appends to its own results file in the shared directory; gather them with\n"
      "#   npusim sweep /home/a/sweeps/big.json --out /shared/big.sweep --merge\n"
      "#SBATCH --job-name=npusim-sweep-big\n"
      "#SBATCH --array=0-7\n"
      "#SBATCH --output=/shared/big.sweep/slurm-%A_%a.out\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=4\n"
      "#SBATCH --partition=batch\n"
      "#SBATCH --time=02:00:00\n"
      "set -euo pipefail\n"
      "exec /opt/npusim/bin/npusim sweep /home/a/sweeps/big.json --out /shared/big.sweep --shard "
      "\"${SLURM_ARRAY_TASK_ID}/8\" -j 4 --timeout-s 600.000 --quiet\n";
  EXPECT_EQ(slurm_script(o), expected);
}

TEST(SweepSlurmScriptTest, OptionalLinesAreLeftOutAndOddPathsQuoted) {
  SlurmScriptOptions o;
  o.npusim_path = "/x/npusim";
  o.spec_path = "/my sweeps/it's.json";
  o.out_dir = "/out";
  o.job_name = "j";
  const std::string script = slurm_script(o);
  EXPECT_NE(script.find("#SBATCH --array=0-0\n"), std::string::npos);
  EXPECT_EQ(script.find("--partition"), std::string::npos);
  EXPECT_EQ(script.find("--time"), std::string::npos);
  EXPECT_EQ(script.find("--timeout-s"), std::string::npos);
  EXPECT_NE(script.find("exec /x/npusim sweep '/my sweeps/it'\\''s.json' --out /out --shard "
                        "\"${SLURM_ARRAY_TASK_ID}/1\" -j 1 --quiet\n"),
            std::string::npos);
  o.out_dir = "/my sweeps/out";
  const std::string spaced = slurm_script(o);
  // sbatch splits #SBATCH values at spaces unless double-quoted.
  EXPECT_NE(spaced.find("#SBATCH --output=\"/my sweeps/out/slurm-%A_%a.out\"\n"), std::string::npos) << spaced;
  EXPECT_NE(spaced.find("--out '/my sweeps/out' --shard"), std::string::npos) << spaced;
  EXPECT_EQ(shell_quote("plain/path-1.json"), "plain/path-1.json");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(SweepShardTest, ParsesIndexOverCount) {
  const auto shard = parse_shard("2/5");
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 5);
  for (const char* bad : {"5/5", "1", "/3", "1/", "-1/3", "a/b", "1/0", "1/2/3"}) {
    EXPECT_FALSE(parse_shard(bad)) << bad;
  }
  EXPECT_EQ(default_sweep_dir("sweeps/a.json"), "sweeps/a.sweep");
  EXPECT_EQ(default_sweep_dir("b"), "b.sweep");
}

}  // namespace
}  // namespace npusim
