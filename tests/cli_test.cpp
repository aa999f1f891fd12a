// End-to-end tests of the built `npusim` binary (NPUSIM_BINARY).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = NPUSIM_SOURCE_DIR;
const std::string kInt8Config = kSourceDir + "/configs/edge_int8_32x32.json";

// Exercises groups, padding, pooling, a residual add and fc on a small input.
constexpr const char* kTinyNetwork = R"({
  "format_version": 1, "name": "tiny", "seed": 7,
  "input": {"shape": [1, 8, 8]},
  "layers": [
    {"name": "conv1", "type": "conv2d", "input": "input", "filters": 4, "kernel": [3, 3],
     "padding": [1, 1], "activation": "relu"},
    {"name": "pool1", "type": "maxpool", "input": "conv1", "kernel": [2, 2], "stride": [2, 2]},
    {"name": "conv2", "type": "conv2d", "input": "pool1", "filters": 4, "kernel": [3, 3],
     "padding": [1, 1], "groups": 2},
    {"name": "res", "type": "add", "inputs": ["pool1", "conv2"], "activation": "relu"},
    {"name": "fc", "type": "fc", "input": "res", "units": 10}
  ]
})";

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("npusim_cli_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tiny_ = write("tiny.json", kTinyNetwork);
    const std::string zoo = kSourceDir + "/models/zoo/lenet5.json";
    lenet_ = fs::exists(zoo) ? zoo : tiny_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // Runs npusim with `args` (already quoted), stdout and stderr captured.
  Result run(const std::string& args) {
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string command =
        quote(NPUSIM_BINARY) + " " + args + " >" + quote(out.string()) + " 2>" + quote(err.string());
    const int raw = std::system(command.c_str());
    Result result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_text(out);
    result.err = read_text(err);
    return result;
  }

  std::string run_args(const std::string& config, const std::string& model) {
    return "run --config " + quote(config) + " --model " + quote(model);
  }

  static int lines(const std::string& text) {
    int n = 0;
    for (char c : text) n += c == '\n';
    return n;
  }

  fs::path dir_;
  std::string tiny_;
  std::string lenet_;
};

void expect_consistent_report(const nlohmann::json& report, std::size_t layer_count) {
  EXPECT_EQ(report.at("schema"), "npusim.run/1");
  const auto& layers = report.at("layers");
  ASSERT_EQ(layers.size(), layer_count);
  std::int64_t cycles = 0, macs = 0;
  for (const auto& layer : layers) {
    cycles += layer.at("cycles").get<std::int64_t>();
    macs += layer.at("macs").get<std::int64_t>();
    EXPECT_TRUE(layer.at("check").at("bit_exact").get<bool>()) << layer.dump();
    EXPECT_EQ(layer.at("check").at("detail"), "bit-exact");
    EXPECT_GT(layer.at("cycles").get<std::int64_t>(), 0) << layer.dump();
  }
  const auto& totals = report.at("totals");
  EXPECT_EQ(totals.at("cycles").get<std::int64_t>(), cycles);
  EXPECT_EQ(totals.at("array_cycles").get<std::int64_t>() + totals.at("ppu_cycles").get<std::int64_t>(), cycles);
  EXPECT_EQ(totals.at("macs").get<std::int64_t>(), macs);
  EXPECT_TRUE(totals.at("bit_exact").get<bool>());
  const double clock_mhz = report.at("config").at("clock_mhz").get<double>();
  EXPECT_NEAR(totals.at("latency_us").get<double>(), static_cast<double>(cycles) / clock_mhz, 1e-6);
}

TEST_F(Cli, RunReportsBitExactAndWritesConsistentJson) {
  const std::string json_path = (dir_ / "report.json").string();
  const Result r = run(run_args(kInt8Config, lenet_) + " --json " + quote(json_path));
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("bit-exact"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check: all"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // stderr is not a terminal here: no progress lines
  const auto report = nlohmann::json::parse(read_text(json_path));
  const auto network = nlohmann::json::parse(read_text(lenet_));
  expect_consistent_report(report, network.at("layers").size());
  EXPECT_EQ(report.at("config").at("name"), "edge-int8-32x32");
  EXPECT_EQ(report.at("model").at("name"), network.at("name"));
  EXPECT_FALSE(fs::exists(json_path + ".tmp"));
}

TEST_F(Cli, TinyNetworkWithGroupsAndAddIsBitExact) {
  const std::string json_path = (dir_ / "tiny_report.json").string();
  const Result r =
      run(run_args(kInt8Config, tiny_) + " --set array.rows=4 --set array.cols=3" + " --json " + quote(json_path));
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const auto report = nlohmann::json::parse(read_text(json_path));
  expect_consistent_report(report, 5);
  EXPECT_EQ(report.at("config").at("array").at("rows"), 4);
  const auto& conv2 = report.at("layers").at(2);
  EXPECT_EQ(conv2.at("gemm").at("count"), 2);  // one GEMM per group
  EXPECT_EQ(conv2.at("gemm").at("m"), 16);     // 4x4 output pixels
  EXPECT_EQ(conv2.at("gemm").at("n"), 2);      // 4 filters / 2 groups
  EXPECT_EQ(conv2.at("gemm").at("k"), 18);     // 2 channels x 3 x 3
  EXPECT_EQ(conv2.at("macs"), 2 * 16 * 2 * 18);
  // add reads two 4x4x4 tensors on a 16-wide PPU: ceil(64 * 2 / 16) cycles of
  // work; the preset's memory system adds the time to fetch the inputs.
  const auto& add = report.at("layers").at(3);
  EXPECT_EQ(add.at("unit"), "ppu");
  EXPECT_EQ(add.at("memory").at("compute_cycles"), 8);
  EXPECT_EQ(add.at("cycles").get<std::int64_t>(),
            8 + add.at("memory").at("stall_cycles").at("total").get<std::int64_t>());
  EXPECT_TRUE(add.at("gemm").is_null());
}

TEST_F(Cli, SameInputsGiveIdenticalBytes) {
  const std::string a = (dir_ / "a.json").string(), b = (dir_ / "b.json").string();
  const Result first = run(run_args(kInt8Config, lenet_) + " --json " + quote(a));
  const Result second = run(run_args(kInt8Config, lenet_) + " --json " + quote(b));
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(read_text(a), read_text(b));
  EXPECT_EQ(first.out, second.out);
}

TEST_F(Cli, BadConfigExitsOneWithOneLineNamingFileAndPath) {
  const std::string config = write("bad.json", R"({
    "format_version": 1, "name": "bad", "clock_mhz": 1000,
    "array": {"rows": 0, "cols": 32, "dataflow": "ws"},
    "formats": {"weight": "int8", "activation": "int8"}
  })");
  const Result r = run(run_args(config, lenet_));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("npusim: error: " + config + ": $.array.rows: expected", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(Cli, SetTypoNamesTheOverride) {
  const Result r = run(run_args(kInt8Config, lenet_) + " --set array.rowz=64");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("npusim: error: --set array.rowz=64: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("$.array.rowz"), std::string::npos) << r.err;
}

TEST_F(Cli, BadNetworkExitsOne) {
  const std::string model = write("net.json", R"({"format_version": 1, "name": "n",
    "input": {"shape": [1, 4, 4]}, "layers": [{"name": "fc", "type": "fc", "input": "input"}]})");
  const Result r = run(run_args(kInt8Config, model));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(model + ": $.layers[0].units"), std::string::npos) << r.err;
}

TEST_F(Cli, JsonIntoMissingDirectoryFailsAndLeavesNoFile) {
  const fs::path target = dir_ / "no_such_dir" / "report.json";
  const Result r = run(run_args(kInt8Config, lenet_) + " --json " + quote(target.string()));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("npusim: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(target.string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(target.string() + ".tmp"));
  EXPECT_FALSE(fs::exists(target.parent_path()));
}

TEST_F(Cli, CommandLineMistakesExitTwoWithOneLine) {
  for (const std::string& args : {std::string("frobnicate"), std::string(""), run_args(kInt8Config, tiny_) + " --bogus",
                                  "run --config " + quote(kInt8Config), run_args(kInt8Config, tiny_) + " extra"}) {
    SCOPED_TRACE(args);
    const Result r = run(args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

// docs/cli.md: a value an option cannot take is bad input, exit 1, one line.
TEST_F(Cli, BadOptionValueExitsOneWithOneLine) {
  const Result r = run(run_args(kInt8Config, tiny_) + " --fidelity rtl");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "npusim: error: --fidelity expects tile or pe, got 'rtl'\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(Cli, HelpPrintsUsageAndExitsZero) {
  const Result top = run("--help");
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.out.find("run"), std::string::npos);
  const Result sub = run("run --help");
  EXPECT_EQ(sub.status, 0);
  for (const char* option : {"--config", "--model", "--set", "--json", "--fidelity"}) {
    EXPECT_NE(sub.out.find(option), std::string::npos) << option;
  }
}

// --version names the commit the binary was built from (git describe of the
// source tree, -dirty when it had local changes) and the flags, so a result
// can be traced to its binary.
TEST_F(Cli, VersionNamesTheCommitBuildTypeAndFlags) {
  const Result r = run("--version");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("npusim 0.1.0 (git ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nbuild: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-ffp-contract=off"), std::string::npos) << r.out;  // always among the flags
  EXPECT_NE(r.out.find("NPUSIM_NATIVE: O"), std::string::npos) << r.out;
  FILE* git = popen(("git -C " + quote(kSourceDir) + " describe --tags --always 2>/dev/null").c_str(), "r");
  char line[256] = {};
  const bool described = git && std::fgets(line, sizeof line, git) != nullptr;
  if (git) pclose(git);
  if (described) {
    std::string commit = line;
    while (!commit.empty() && commit.back() == '\n') commit.pop_back();
    EXPECT_EQ(r.out.rfind("npusim 0.1.0 (git " + commit, 0), 0u) << r.out << " vs " << commit;
  }
}

TEST_F(Cli, PresetsHelpPrintsUsageAndAStrayWordIsAUsageError) {
  const Result help = run("presets --help");
  EXPECT_EQ(help.status, 0) << help.err;
  EXPECT_NE(help.out.find("npusim presets"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("configs/presets"), std::string::npos) << help.out;
  const Result stray = run("presets extra");
  EXPECT_EQ(stray.status, 2);
  EXPECT_EQ(lines(stray.err), 1) << stray.err;
}

// The pe engine steps every register; its report must equal tile's apart from
// the fidelity it names (same cycles, same values).
TEST_F(Cli, PeFidelityReportsTheSameRunAsTile) {
  const std::string tile = (dir_ / "tile.json").string(), pe = (dir_ / "pe.json").string();
  const std::string args = run_args(kInt8Config, tiny_) + " --set array.rows=4 --set array.cols=3";
  const Result t = run(args + " --json " + quote(tile));
  const Result p = run(args + " --fidelity pe --json " + quote(pe));
  ASSERT_EQ(t.status, 0) << t.err;
  ASSERT_EQ(p.status, 0) << p.err;
  auto tile_report = nlohmann::json::parse(read_text(tile));
  auto pe_report = nlohmann::json::parse(read_text(pe));
  EXPECT_EQ(pe_report.at("config").at("array").at("fidelity"), "pe");
  pe_report["config"]["array"]["fidelity"] = "tile";
  EXPECT_EQ(pe_report, tile_report);
}

}  // namespace
