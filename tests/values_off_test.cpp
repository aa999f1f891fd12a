// `--values off` (timing only, issue 19): the same cycles, stalls, traffic,
// energy and area as a values run, with no value computed and memory that
// does not grow with the tensors.
//
// The expected values of the equality tests are the values-on run of the same
// command: an independent path through the value computation (calibration,
// the engine's GEMMs on real operands, the PPU on real tensors, the reference
// check), whose report the timing-only path must reproduce field for field
// without any of it.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_test_support.h"
#include "sim/commands/run_values_off.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::kSourceDir;
using testing::run_npusim;

const std::string kInt8 = kSourceDir + "/configs/edge_int8_32x32.json";
const std::string kBinary = kSourceDir + "/configs/edge_binary_32x32.json";
const std::string kFp16 = kSourceDir + "/configs/edge_fp16_32x32.json";
const std::string kZoo = kSourceDir + "/models/zoo/";

// The fields a values-off report writes as null (docs/cli.md#values-off-timing-only):
// JSON pointers with "*" for any array index.
const std::set<std::string> kValueFields{"/reference_check",
                                         "/layers/*/overflow_outputs",
                                         "/layers/*/check",
                                         "/layers/*/quantization",
                                         "/totals/overflow_outputs",
                                         "/totals/layers_checked",
                                         "/totals/layers_mismatched",
                                         "/totals/bit_exact",
                                         "/totals/network_sqnr_db",
                                         "/designs/*/metrics/bit_exact",
                                         "/designs/*/metrics/network_sqnr_db"};

// Walks both documents together: the same keys in the same order, every leaf
// equal, except the mode marker "values", the quantization summary (which
// says how the formats were chosen) and the value fields, which must be null
// when values are off. Counts the leaves compared.
// The fields a --check none report writes as null.
const std::set<std::string> kCheckFields{"/reference_check", "/layers/*/check", "/totals/layers_checked",
                                         "/totals/layers_mismatched", "/totals/bit_exact"};

void expect_same_timing(const nlohmann::json& on, const nlohmann::json& off, const std::string& path,
                        const std::string& pattern, int& compared, const std::set<std::string>& nulls = kValueFields) {
  if (nulls.count(pattern)) {
    EXPECT_TRUE(off.is_null()) << path << " should be null with values off, got " << off.dump();
    return;
  }
  if (pattern == "/values" || pattern == "/check" || pattern == "/quantization" || pattern == "/designs/*/quantization")
    return;
  ASSERT_EQ(on.type(), off.type()) << path << ": " << on.dump().substr(0, 200) << " vs " << off.dump().substr(0, 200);
  if (on.is_object()) {
    std::vector<std::string> on_keys, off_keys;
    for (auto it = on.begin(); it != on.end(); ++it) on_keys.push_back(it.key());
    for (auto it = off.begin(); it != off.end(); ++it) off_keys.push_back(it.key());
    ASSERT_EQ(on_keys, off_keys) << path;
    for (const auto& key : on_keys)
      expect_same_timing(on[key], off[key], path + "/" + key, pattern + "/" + key, compared, nulls);
    return;
  }
  if (on.is_array()) {
    ASSERT_EQ(on.size(), off.size()) << path;
    for (std::size_t i = 0; i < on.size(); ++i) {
      expect_same_timing(on[i], off[i], path + "/" + std::to_string(i), pattern + "/*", compared, nulls);
    }
    return;
  }
  EXPECT_EQ(on.dump(), off.dump()) << path;  // the dumped text: byte-identical numbers
  ++compared;
}

class ValuesOff : public testing::TempDirTest {
 protected:
  nlohmann::json json_of(const std::string& args) {
    const fs::path path = dir_ / ("report" + std::to_string(++count_) + ".json");
    const testing::CommandResult r = run_npusim(args + " --json " + path.string());
    EXPECT_EQ(r.status, 0) << args << "\n" << r.out;
    std::ifstream in(path);
    return in ? nlohmann::json::parse(in) : nlohmann::json{};
  }

  // `run` with values on and off; returns how many leaves were compared.
  int compare_run(const std::string& args) {
    const nlohmann::json on = json_of("run " + args);
    const nlohmann::json off = json_of("run " + args + " --values off");
    EXPECT_EQ(on["values"], "on");
    EXPECT_EQ(off["values"], "off");
    EXPECT_EQ(on["totals"]["bit_exact"], true) << "the values run is the reference: it must pass its own check";
    int compared = 0;
    expect_same_timing(on, off, "", "", compared);
    return compared;
  }

  // A config without a memory section: the array's closed-form timing alone.
  std::string no_memory_config() {
    nlohmann::json config = nlohmann::json::parse(std::ifstream(kInt8));
    config.erase("memory");
    const fs::path path = dir_ / "no_memory.json";
    std::ofstream(path) << config.dump();
    return path.string();
  }

  int count_ = 0;
};

TEST_F(ValuesOff, LenetTimingTrafficAndEnergyEqualTheValuesRun) {
  // LPDDR4 memory model: cycles and stalls come from the whole-network netlist.
  EXPECT_GT(compare_run("--config " + kInt8 + " --model " + kZoo + "lenet5.json"), 500);
  // The trace files too: every fold, DMA transfer and DRAM command at the same time.
  for (const char* values : {"on", "off"}) {
    const testing::CommandResult r = run_npusim("run --config " + kInt8 + " --model " + kZoo + "lenet5.json --values " +
                                                values + " --trace " + (dir_ / values).string());
    ASSERT_EQ(r.status, 0) << r.out;
  }
  for (const char* file : {"trace.json", "timeline.csv", "trace.vcd"}) {
    const std::string on = slurp(dir_ / "on" / file);
    EXPECT_GT(on.size(), 500u) << file;  // not empty: LeNet has thousands of cycles of events
    EXPECT_TRUE(on == slurp(dir_ / "off" / file)) << file << " differs";
  }
}

TEST_F(ValuesOff, TinyMixedEqualsTheValuesRunInEveryFormatPlan) {
  // tiny_mixed has every layer type; binary keeps its ends at W8A8 (the
  // format plan), fp16 is a float graph, int8 with 8-bit layers named.
  for (const std::string& config : {kInt8, kBinary, kFp16}) {
    SCOPED_TRACE(config);
    EXPECT_GT(compare_run("--config " + config + " --model " + kZoo + "tiny_mixed.json"), 500);
  }
}

TEST_F(ValuesOff, ResNet18EqualsTheValuesRunOnDdr4) {
  // The whole ResNet-18 (residual adds read from DRAM, row-granular
  // dependencies, prefetch across layers), DDR4-3200 timing.
  EXPECT_GT(compare_run("--config " + kInt8 + " --model " + kZoo + "resnet18.json --set memory.dram.preset=ddr4-3200"),
            2000);
}

TEST_F(ValuesOff, ScalesimCsvEqualsTheValuesRunWithAndWithoutMemory) {
  const std::string csv = kSourceDir + "/tests/data/scalesim/row_depthwise_dp.csv";
  EXPECT_GT(compare_run("--config " + kInt8 + " --model " + csv), 50);
  EXPECT_GT(compare_run("--config " + no_memory_config() + " --model " + csv + " --set array.timing=scalesim"), 20);
  EXPECT_GT(compare_run("--config " + kInt8 + " --model " + kZoo + "scalesim/gemm.csv --set array.dataflow=ws"), 100);
}

TEST_F(ValuesOff, QuantizedOnnxFileEqualsTheValuesRun) {
  // The file's own formats (QDQ from PyTorch): no calibration in either mode.
  EXPECT_GT(compare_run("--config " + kInt8 + " --model " + kZoo + "fashion_mnist_cnn_int8_torch.onnx"), 200);
}

TEST_F(ValuesOff, CompareEqualsTheValuesRun) {
  const std::string args =
      "compare --config " + kInt8 + " --model " + kZoo + "tiny_mixed.json --formats fp32,int8,int4,binary";
  const nlohmann::json on = json_of(args);
  const nlohmann::json off = json_of(args + " --values off");
  EXPECT_EQ(off["values"], "off");
  int compared = 0;
  expect_same_timing(on, off, "", "", compared);
  EXPECT_GT(compared, 100);
}

TEST_F(ValuesOff, ReportsSayValuesWereOff) {
  const fs::path html = dir_ / "r.html";
  const testing::CommandResult r =
      run_npusim("run --config " + kInt8 + " --model " + kZoo + "lenet5.json --values off --html " + html.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("values: off (timing only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check: none (--values off)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quantization: none: --values off"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
  const std::string page = slurp(html);
  EXPECT_NE(page.find("off: timing only"), std::string::npos);
  EXPECT_EQ(page.find("bit-exact"), std::string::npos);

  const fs::path csv = dir_ / "c.csv";
  const testing::CommandResult c = run_npusim("compare --config " + kInt8 + " --model " + kZoo +
                                              "lenet5.json --formats int8,int4 --values off --csv " + csv.string());
  ASSERT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("- (values off)"), std::string::npos) << c.out;
  // The last two columns, network_sqnr_db and bit_exact, are empty.
  const std::string text = slurp(csv);
  const std::string first_row =
      text.substr(text.find('\n') + 1, text.find('\n', text.find('\n') + 1) - text.find('\n') - 1);
  EXPECT_EQ(first_row.substr(first_row.size() - 2), ",,") << first_row;
}

TEST_F(ValuesOff, StructureIsReadWithoutWeights) {
  // The loader's own read draws every conv2d / fc weight; the structure read
  // draws none and keeps every other field.
  for (const std::string& model : {kZoo + "lenet5.json", kSourceDir + "/tests/data/scalesim/row_depthwise_dp.csv"}) {
    const std::vector<LoadedModel> full = load_models(model);
    const std::vector<LoadedModel> bare = load_model_structures(model);
    ASSERT_EQ(full.size(), bare.size());
    for (std::size_t m = 0; m < full.size(); ++m) {
      ASSERT_EQ(full[m].graph.layers.size(), bare[m].graph.layers.size());
      EXPECT_EQ(full[m].graph.input_dims, bare[m].graph.input_dims);
      for (std::size_t i = 0; i < full[m].graph.layers.size(); ++i) {
        const Layer& a = full[m].graph.layers[i];
        const Layer& b = bare[m].graph.layers[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.output_dims, b.output_dims);
        if (a.type == LayerType::conv2d || a.type == LayerType::fc) {
          EXPECT_FALSE(a.weights.empty());
        }
        EXPECT_TRUE(b.weights.empty()) << b.name;
        EXPECT_TRUE(b.bias.empty()) << b.name;
      }
    }
  }
}

// Peak resident set of `npusim <args>` in a child process (getrusage of the
// child, in KB), and its exit status.
std::pair<long, int> child_peak_rss_kb(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(NPUSIM_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execv(NPUSIM_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {usage.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_F(ValuesOff, PeakMemoryDoesNotGrowWithTheTensors) {
  // 2^30-element tensors (the JSON format's limit per tensor): the input
  // [4, 16384, 16384], a 1x1 conv to 4 channels, a relu and a 2x2 maxpool.
  // In int8 that is 3.25 GiB of activations alone (4 x 2^30 + 2^28 bytes);
  // a values run would hold them several times over (the resource estimate
  // refuses it). Timing only, the run holds the records of 3 layers.
  const fs::path net = dir_ / "huge.json";
  std::ofstream(net) << R"({"format_version": 1, "name": "huge", "input": {"name": "input", "shape": [4, 16384, 16384]},
    "layers": [
      {"name": "conv", "type": "conv2d", "input": "input", "filters": 4, "kernel": [1, 1]},
      {"name": "act", "type": "relu", "input": "conv"},
      {"name": "pool", "type": "maxpool", "input": "act", "kernel": [2, 2], "stride": [2, 2]}]})";
  const std::string config = no_memory_config();
  const fs::path json = dir_ / "huge_report.json";
  const auto [rss_kb, status] = child_peak_rss_kb(
      {"run", "--config", config, "--model", net.string(), "--values", "off", "--json", json.string()});
  ASSERT_EQ(status, 0);
  EXPECT_LT(rss_kb, 64 * 1024) << "peak RSS " << rss_kb << " KB";
  const nlohmann::json report = nlohmann::json::parse(std::ifstream(json));
  // Hand-derived: M = 16384^2 pixels, N = 4, K = 4 per output.
  EXPECT_EQ(report["totals"]["macs"], (std::int64_t{1} << 28) * 4 * 4);
  EXPECT_EQ(report["layers"][2]["output_dims"], nlohmann::json::parse("[4, 8192, 8192]"));
  // The values run of the same network is refused by the resource estimate.
  const testing::CommandResult refused =
      run_npusim("run --config " + config + " --model " + net.string() + " --max-memory-mb 2048");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find("resource estimate"), std::string::npos) << refused.out;
}

TEST_F(ValuesOff, OptionsThatNeedValuesAreOneLineErrors) {
  const std::string run = "run --config " + kInt8 + " --model " + kZoo + "lenet5.json ";
  const fs::path npy = dir_ / "x.npy";
  std::ofstream(npy) << "not read";
  struct Case {
    std::string args;
    int status;
    std::string message;
  };
  const std::vector<Case> cases{
      {run + "--values maybe", 1, "--values expects on or off, got 'maybe'"},
      {run + "--values off --input " + npy.string(), 1, "--input needs tensor values, but --values is off"},
      {run + "--values off --outputs " + (dir_ / "o").string(), 1, "--outputs needs tensor values"},
      {run + "--values off --outputs " + (dir_ / "o").string() + " --dump-layers all", 1,
       "--outputs needs tensor values"},
      {run + "--values off --dump-layers all", 1, "--dump-layers needs tensor values"},
      {run + "--values off --calibration-data " + npy.string(), 1, "--calibration-data needs tensor values"},
      {run + "--values off --calibration percentile", 1, "--calibration needs tensor values"},
      {run + "--values off --calibration-samples 4", 1, "--calibration-samples needs tensor values"},
      {run + "--values off --fidelity pe", 1, "$.array.fidelity: pe steps values through the PE registers"},
      {"compare --config " + kInt8 + " --model " + kZoo + "lenet5.json --values off --per-tensor-weights", 1,
       "the calibration options need tensor values, but --values is off"},
      {"compare --config " + kInt8 + " --model " + kZoo + "lenet5.json --values on-ish", 1,
       "--values expects on or off"},
      {"accuracy --config " + kInt8 + " --model " + kZoo + "fashion_mnist_cnn.onnx --values off", 2, "--values"},
  };
  for (const Case& c : cases) {
    const testing::CommandResult r = run_npusim(c.args);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "o"));  // nothing created for a refused run
}

std::vector<nlohmann::json> jsonl(const fs::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

TEST_F(ValuesOff, SweepRunArgsTimePointsOnlyWithTheValuesRunsMetrics) {
  // The same sweep with values on is the expected value of every metric but
  // the value ones, which are null with values off.
  const auto spec = [&](const std::string& name, const std::string& extra) {
    std::ofstream(dir_ / name) << "{\"base\": \"" << kInt8 << "\", \"networks\": [\"" << kZoo
                               << "lenet5.json\"], \"axes\": {\"array.rows\": [8, 16], \"formats\": [\"int8\", "
                                  "\"binary\"]}"
                               << extra << "}";
    return (dir_ / name).string();
  };
  const std::string on = spec("on.json", "");
  const std::string off = spec("off.json", ", \"run_args\": [\"--values\", \"off\"]");
  for (const auto& [file, out] : {std::pair{on, "on"}, std::pair{off, "off"}}) {
    const testing::CommandResult r = run_npusim("sweep " + file + " -j 2 --quiet --out " + (dir_ / out).string());
    ASSERT_EQ(r.status, 0) << r.out;
  }
  const auto a = jsonl(dir_ / "on" / "merged.jsonl");
  const auto b = jsonl(dir_ / "off" / "merged.jsonl");
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(b[i]["status"], "ok") << b[i].dump();
    for (const auto& [metric, value] : a[i]["metrics"].items()) {
      if (metric == "network_sqnr_db" || metric == "bit_exact") {
        EXPECT_TRUE(b[i]["metrics"][metric].is_null()) << metric;
      } else {
        EXPECT_EQ(b[i]["metrics"][metric], value) << metric << " of point " << i;
      }
    }
  }
  // A floor or an objective on the SQNR cannot hold without values.
  const std::string floor =
      spec("floor.json", ", \"run_args\": [\"--values\", \"off\"], \"constraints\": {\"min_sqnr_db\": 20}");
  const testing::CommandResult r = run_npusim("sweep " + floor + " --out " + (dir_ / "floor").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("$.constraints.min_sqnr_db: needs tensor values, but $.run_args has --values off"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(ValuesOff, CheckNoneKeepsValuesAndSqnrAndNullsOnlyTheCheck) {
  // Expected: the --check full run of the same command; only the check
  // fields may differ (null), the SQNR, overflows and quantization stay.
  const std::string args = "run --config " + kInt8 + " --model " + kZoo + "tiny_mixed.json";
  const nlohmann::json full = json_of(args);
  const nlohmann::json none = json_of(args + " --check none");
  EXPECT_EQ(full["check"], "full");
  EXPECT_EQ(none["check"], "none");
  EXPECT_EQ(none["values"], "on");
  EXPECT_EQ(none["quantization"], full["quantization"]);
  ASSERT_TRUE(full["totals"]["network_sqnr_db"].is_number());
  int compared = 0;
  expect_same_timing(full, none, "", "", compared, kCheckFields);
  EXPECT_GT(compared, 500);
  const testing::CommandResult text = run_npusim(args + " --check none");
  EXPECT_NE(text.out.find("check: none (--check none"), std::string::npos) << text.out;
  // Values off implies no check, and says so.
  EXPECT_EQ(json_of(args + " --values off")["check"], "none");
  for (const auto& [extra, message] :
       {std::pair{" --values off --check full", "--check full needs tensor values, but --values is off"},
        std::pair{" --check sampled", "--check sampled is not built yet"},
        std::pair{" --check most", "--check expects full or none, got 'most'"}}) {
    const testing::CommandResult r = run_npusim(args + extra);
    EXPECT_NE(r.out.find(message), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_EQ(r.status, 1) << r.out;  // each is a value the option cannot take: bad input
  }
}

}  // namespace
}  // namespace npusim
