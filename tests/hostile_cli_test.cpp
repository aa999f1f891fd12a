// The issue-14 cases at the command line: each gives one line on stderr and
// exit 1 (bad input) or 2 (a bad number on the command line), in seconds,
// before any large allocation or simulation.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/cli_test_support.h"
#include "tests/temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::run_npusim;

class HostileCliTest : public testing::TempDirTest {
 protected:
  static std::string config() { return testing::kSourceDir + "/configs/edge_int8_32x32.json"; }
  static std::string tiny() { return testing::kSourceDir + "/models/zoo/tiny_mixed.json"; }
  std::string run(const std::string& args) { return "run --config " + config() + " --model " + tiny() + " " + args; }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // One line ending in '\n', starting with "npusim: error: ".
  static void expect_one_line(const testing::CommandResult& r) {
    EXPECT_EQ(r.out.rfind("npusim: error: ", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  }
};

TEST_F(HostileCliTest, JsonOutputOverTheModelIsRefusedAndTheModelKept) {
  // Before: exit 0 and the network file replaced by the report.
  const std::string model = write("net.json", testing::read_text(tiny()));
  const auto r = run_npusim("run --config " + config() + " --model " + model + " --json " + model);
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("--json " + model + ": is the input --model"), std::string::npos) << r.out;
  EXPECT_EQ(testing::read_text(model), testing::read_text(tiny()));
}

TEST_F(HostileCliTest, AccuracyAndCompareOutputsOverAnInputAreRefused) {
  const std::string model =
      write("m.onnx", testing::read_text(testing::kSourceDir + "/models/zoo/fashion_mnist_cnn.onnx"));
  auto r = run_npusim("accuracy --config " + config() + " --model " + model + " --csv " + model + " --limit 1");
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("--csv " + model + ": is the input --model"), std::string::npos) << r.out;
  r = run_npusim("compare --config " + config() + " --model " + tiny() + " --csv " + config());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--csv " + config() + ": is the input --config"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, JsonAndHtmlOnOnePathIsRefused) {
  const std::string out = (dir_ / "report").string();
  const auto r = run_npusim(run("--json " + out + " --html " + out));
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("--html " + out + ": is also the output of --json"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(HostileCliTest, UnwritableJsonIsFoundBeforeTheRun) {
  // sysfs refuses new files even to root, whom permission bits would not stop.
  const std::string out = "/sys/npusim-test-" + std::to_string(getpid()) + ".json";
  const auto r = run_npusim(run("--json " + out));
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("--json " + out + ": cannot create the file"), std::string::npos) << r.out;
  // Found before the table: nothing was simulated.
  EXPECT_EQ(r.out.find("cycles"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, TraceNumbersAreRangeChecked) {
  // 2^63-1 ns overflowed into ps (UBSan); nan, inf and 1e300 gave a negative time.
  for (const std::string bad : {"--trace-window-ns 9223372036854775807", "--trace-from-us nan", "--trace-from-us inf",
                                "--trace-from-us 1e300", "--trace-to-us nan"}) {
    const auto r = run_npusim(run("--trace " + (dir_ / "t").string() + " " + bad));
    EXPECT_EQ(r.status, 1) << bad;  // a value the option cannot take is bad input (docs/cli.md)
    expect_one_line(r);
    EXPECT_NE(r.out.find(bad.substr(0, bad.find(' ')) + " expects "), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir_ / "t")) << bad << ": the trace directory was created";
  }
}

TEST_F(HostileCliTest, TraceDirectoryIsNotCreatedBeforeAnOptionError) {
  const auto r = run_npusim(run("--trace " + (dir_ / "t").string() + " --trace-layers no_such_layer"));
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_FALSE(fs::exists(dir_ / "t"));
}

TEST_F(HostileCliTest, StaleSpillAndTemporariesOfAKilledRunAreRemoved) {
  // What kill -9 during --trace leaves: a spill directory of a dead process and trace.json.tmp.
  const fs::path trace = dir_ / "t";
  fs::create_directories(trace / ".npusim-spill-999999999");
  write("t/.npusim-spill-999999999/array.bin", std::string(1000, 'x'));
  write("t/trace.json.tmp", "{");
  const auto r = run_npusim(run("--trace " + trace.string()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(fs::exists(trace / ".npusim-spill-999999999"));
  EXPECT_FALSE(fs::exists(trace / "trace.json.tmp"));
  EXPECT_TRUE(fs::exists(trace / "trace.json"));
  for (const auto& entry : fs::directory_iterator(trace)) {
    EXPECT_EQ(entry.path().filename().string().rfind(".npusim", 0), std::string::npos) << entry.path();
  }
}

TEST_F(HostileCliTest, InvalidUtf8InSetIsBadInput) {
  // Before: exit 4 from the error printer (json type_error 316), and with --json a whole run then no report.
  const auto r = run_npusim(run("--set \"$(printf 'name=\\377')\" --json " + (dir_ / "r.json").string()));
  EXPECT_EQ(r.status, 1) << r.out;
  expect_one_line(r);
  EXPECT_NE(r.out.find("--set: invalid UTF-8 at byte 5 (0xff)"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, DirectoryAndDeviceAsConfig) {
  auto r = run_npusim("run --config " + dir_.string() + " --model " + tiny());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find(dir_.string() + ": is a directory, expected a JSON file"), std::string::npos) << r.out;
  r = run_npusim("run --config /dev/zero --model " + tiny());  // was 4.2 GB and bad_alloc after 126 s
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("/dev/zero: is a device, expected a JSON file"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, NetworkAboveTheMemoryLimitIsRefusedBeforeItsWeights) {
  // 100 fc layers of 2^28 weights: 107 GB of fp32 weights alone (bad_alloc or the OOM killer before).
  std::string layers;
  for (int i = 0; i < 100; ++i) {
    layers += std::string(i ? "," : "") + "{\"name\": \"fc" + std::to_string(i) +
              "\", \"type\": \"fc\", \"input\": \"" + (i ? "fc" + std::to_string(i - 1) : std::string("input")) +
              "\", \"units\": 16384}";
  }
  const std::string net = write("fat.json",
                                "{\"format_version\": 1, \"name\": \"fat\", \"input\": {\"name\": \"input\", "
                                "\"shape\": [16384, 1, 1]}, \"layers\": [" +
                                    layers + "]}");
  const auto r = run_npusim("run --config " + config() + " --model " + net);
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  // 100 x 2^28 weights x 14 bytes (kBytesPerWeight) = 375.81 GB, + 32 MiB for the process and
  // 100 x 16384 outputs x 12 bytes: 375.9 GB; the largest item one layer's 3.8 GB.
  EXPECT_NE(r.out.find("resource estimate: the run needs about 375.9 GB of memory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the most is layer \"fc0\" (16384 x 16384 weights) at 3.8 GB"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, CalibrationSamplesAndPeFidelityAreEstimated) {
  auto r = run_npusim(run("--calibration-samples 1000000000"));
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("the most is --calibration-samples 1000000000"), std::string::npos) << r.out;
  // No output in 300 s before: the estimate is days of PE evaluations.
  r = run_npusim(run("--fidelity pe --set array.rows=4096 --set array.cols=4096"));
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("over the 60 minutes of --max-sim-minutes (default: an hour); the time goes to pe fidelity "
                       "on a 4096x4096 array"),
            std::string::npos)
      << r.out;
  // An explicit, small --max-memory-mb refuses even the tiny network (32 MB for the process alone).
  r = run_npusim(run("--max-memory-mb 10"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("over the 10 MB of --max-memory-mb;"), std::string::npos) << r.out;
}

TEST_F(HostileCliTest, MillionPointSweepIsRefusedBeforeValidating) {
  // 4 axes of 32 values: 2^20 points, still validating after 300 s before.
  std::string values = "[";
  for (int i = 1; i <= 32; ++i) values += (i > 1 ? ", " : "") + std::to_string(i);
  values += "]";
  const std::string spec =
      write("big.json", "{\"format_version\": 1, \"base\": \"" + config() + "\", \"networks\": [\"" + tiny() +
                            "\"], \"axes\": {\"array.rows\": " + values + ", \"array.cols\": " + values +
                            ", \"memory.sram.weight.kb\": " + values + ", \"memory.sram.ifmap.kb\": " + values + "}}");
  const auto r = run_npusim("sweep " + spec + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.status, 1);
  expect_one_line(r);
  EXPECT_NE(r.out.find("$.axes: the sweep has over 100000 points"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace npusim
