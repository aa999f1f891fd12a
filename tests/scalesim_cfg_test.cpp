// SCALE-Sim .cfg files read as accelerator configs (sim/config/scalesim_cfg.h).
// Expected values follow SCALE-Sim v2's scale_config.py and configparser's
// rules: sizes are KB of 1-byte words (x 1024 bytes), USER bandwidth is words
// (bytes) per cycle, which at the translation's 1 GHz is GB/s.
#include "sim/config/scalesim_cfg.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/input_error.h"
#include "sim/config/accelerator_config.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

// The shape of SCALE-Sim's configs/scale.cfg (keys, sections, USER mode),
// written for this test with other values.
const std::string kUserCfg = R"([general]
run_name = example_16x8_os

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1
IfmapCustomLayout: True

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block

[run_presets]
InterfaceBandwidth: USER
)";

// The shape of configs/google.cfg: CALC mode, keys SCALE-Sim does not read.
const std::string kCalcCfg = R"([general]
run_name = tpu_like_ws

[architecture_presets]
ArrayHeight:    256
ArrayWidth:     256
IfmapSramSzkB:    6144
FilterSramSzkB:   6144
OfmapSramSzkB:    2048
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : ws
Bandwidth : 10
MemoryBanks: 1

[run_presets]
InterfaceBandwidth: CALC
SRAM_row_size: 2
DRAM_bank_size: 5)";

class ScalesimCfg : public testing::TempDirTest {
 protected:
  std::string write(const std::string& text, const std::string& name = "scale.cfg") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
      load_accelerator_config(write(text), overrides);
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "no InputError for:\n" << text;
    return "";
  }

  std::string file() const { return (dir_ / "scale.cfg").string(); }
};

TEST_F(ScalesimCfg, UserModeMapsArraySramsAndBandwidth) {
  const AcceleratorConfig c = load_accelerator_config(write(kUserCfg), {});
  EXPECT_EQ(c.name, "example_16x8_os");
  EXPECT_EQ(c.array.rows, 16);
  EXPECT_EQ(c.array.cols, 8);
  EXPECT_EQ(c.array.dataflow, Dataflow::os);
  EXPECT_EQ(c.array.timing, TimingConvention::scalesim);
  EXPECT_EQ(c.array.mac.weight, NumberFormat::int8);
  EXPECT_EQ(c.array.mac.activation, NumberFormat::int8);
  EXPECT_DOUBLE_EQ(c.clock_mhz, 1000.0);
  ASSERT_TRUE(c.memory.modeled);
  EXPECT_EQ(c.memory.sram.ifmap.capacity_bytes, 64 * 1024);
  EXPECT_EQ(c.memory.sram.weight.capacity_bytes, 32 * 1024);
  EXPECT_EQ(c.memory.sram.ofmap.capacity_bytes, 16 * 1024);
  // Each buffer moves an int32 accumulator per PE of the longer edge (16) per cycle.
  EXPECT_GE(c.memory.sram.ifmap.read_bytes_per_cycle(), 4 * 16);
  EXPECT_GE(c.memory.sram.ofmap.write_bytes_per_cycle(), 4 * 16);
  EXPECT_EQ(c.memory.dram.kind, DramKind::ideal);
  EXPECT_DOUBLE_EQ(c.memory.dram.ideal.bandwidth_gbps, 10.0);  // 10 bytes per 1 ns cycle
  EXPECT_DOUBLE_EQ(c.memory.dram.ideal.latency_ns, 0.0);
}

TEST_F(ScalesimCfg, CalcModeHasNoMemoryAndOverridesApply) {
  const AcceleratorConfig c = load_accelerator_config(write(kCalcCfg), {"array.fidelity=pe", "clock_mhz=700"});
  EXPECT_EQ(c.name, "tpu_like_ws");
  EXPECT_EQ(c.array.rows, 256);
  EXPECT_EQ(c.array.dataflow, Dataflow::ws);
  EXPECT_FALSE(c.memory.modeled);  // CALC: the array never waits for memory
  EXPECT_EQ(c.fidelity, Fidelity::pe);
  EXPECT_DOUBLE_EQ(c.clock_mhz, 700.0);
  // The translated document is also what a sweep's base reads.
  EXPECT_EQ(read_config_document(file())["array"]["timing"], "scalesim");
}

TEST_F(ScalesimCfg, ConfigparserSyntax) {
  // '=' or ':', keys in any case, '#' and ';' comment lines, an indented
  // continuation line, no run_name (the file's stem names the config), CRLF.
  const std::string text =
      "; a SCALE-Sim config\r\n[architecture_presets]\r\narrayheight = 4\r\nARRAYWIDTH:\r\n    12\r\n"
      "# sizes\r\nIfmapSramSzkB=1\r\nFilterSramSzkB : 2\r\nOfmapSramSzkB:3\r\nDataflow = is\r\n"
      "[run_presets]\r\nInterfaceBandwidth = CALC\r\n";
  const AcceleratorConfig c = load_accelerator_config(write(text, "tiny.CFG"), {});
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.array.rows, 4);
  EXPECT_EQ(c.array.cols, 12);
  EXPECT_EQ(c.array.dataflow, Dataflow::is);
}

struct BadCfg {
  const char* what;
  std::string text;
  std::string location;  // after "<file>"
  std::string expected;
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST_F(ScalesimCfg, BadFilesNameTheLine) {
  const std::vector<BadCfg> cases = {
      {"unknown section", kUserCfg + "[tiling]\nx = 1\n", ":24: ",
       "expected a SCALE-Sim section (architecture_presets, general, layout, network_presets, run_presets, "
       "sparsity), got [tiling]"},
      {"section in another case", replaced(kUserCfg, "[general]", "[General]"), ":1: ", "got [General]"},
      {"unknown key", replaced(kUserCfg, "Dataflow : os", "Dataflw : os"),
       ":14: Dataflw: ", "expected a key SCALE-Sim reads in [architecture_presets], got an unknown key"},
      {"bad integer", replaced(kUserCfg, "ArrayHeight:    16", "ArrayHeight:    16x"),
       ":5: ArrayHeight: ", "expected an integer of at least 1, got \"16x\""},
      {"invisible character", replaced(kUserCfg, "ArrayWidth:     8", "ArrayWidth:     8\u200b"),
       ":6: ArrayWidth: ", "got \"8\u200b\" (U+200B at column 18)"},
      {"array too large for npusim", replaced(kUserCfg, "ArrayHeight:    16", "ArrayHeight:    5000"),
       ":5: ArrayHeight: ", "expected an integer in [1, 4096], got 5000"},
      {"sram size zero", replaced(kUserCfg, "FilterSramSzkB:  32", "FilterSramSzkB:  0"),
       ":8: FilterSramSzkB: ", "expected an integer of at least 1, got \"0\""},
      {"bad offset", replaced(kUserCfg, "OfmapOffset:    20000000", "OfmapOffset:    2e7"),
       ":12: OfmapOffset: ", "got \"2e7\""},
      {"dataflow in upper case", replaced(kUserCfg, "Dataflow : os", "Dataflow : OS"),
       ":14: Dataflow: ", "expected os, ws or is (lower case, as SCALE-Sim compares it), got \"OS\""},
      {"bandwidth mode", replaced(kUserCfg, "InterfaceBandwidth: USER", "InterfaceBandwidth: user"),
       ":23: InterfaceBandwidth: ", "expected USER or CALC (upper case, as SCALE-Sim compares it), got \"user\""},
      {"two bandwidths", replaced(kUserCfg, "Bandwidth : 10", "Bandwidth : 10,20"),
       ":13: Bandwidth: ", "expected one bandwidth (npusim models one DRAM interface), got \"10,20\""},
      {"two memory banks", replaced(kUserCfg, "MemoryBanks:   1", "MemoryBanks:   2"),
       ":15: MemoryBanks: ", "expected 1, got \"2\" (npusim models one DRAM interface)"},
      {"sparsity on", replaced(kUserCfg, "SparsitySupport : false", "SparsitySupport : true"),
       ":19: SparsitySupport: ", "expected false, got \"true\" (npusim does not model SCALE-Sim's sparsity support)"},
      {"custom layout", kUserCfg + "[layout]\nIfmapCustomLayout: yes\n",
       ":25: IfmapCustomLayout: ", "(npusim does not model SCALE-Sim's custom SRAM bank layouts)"},
      {"not a boolean", kUserCfg + "[layout]\nFilterCustomLayout: maybe\n",
       ":25: FilterCustomLayout: ", "expected true or false (or yes/no, on/off, 1/0), got \"maybe\""},
      {"ramulator", kUserCfg + "UseRamulatorTrace: True\n", ":24: UseRamulatorTrace: ", "Ramulator"},
      {"time linear model", kUserCfg + "TimeLinearModel: TPUv4\n",
       ":24: TimeLinearModel: ", "expected None, got \"TPUv4\""},
      {"missing key", replaced(kUserCfg, "ArrayWidth:     8\n", ""),
       ":4: ", "expected [architecture_presets] to have ArrayWidth (SCALE-Sim requires it), got none"},
      {"missing bandwidth in USER mode", replaced(kUserCfg, "Bandwidth : 10\n", ""),
       ":4: ", "expected [architecture_presets] to have Bandwidth"},
      {"missing section", replaced(kUserCfg, "[run_presets]\nInterfaceBandwidth: USER\n", ""), ": ",
       "expected a [run_presets] section with InterfaceBandwidth (SCALE-Sim requires it), got none"},
      {"key twice", replaced(kUserCfg, "Dataflow : os", "Dataflow : os\ndataflow = ws"),
       ":15: ", "expected each key once in a section, got dataflow again (first at line 14)"},
      {"section twice", kUserCfg + "[general]\n", ":24: ", "expected each section once, got [general] again"},
      {"key before any section", "ArrayHeight: 4\n" + kUserCfg,
       ":1: ", "expected a section header such as [architecture_presets] first, got \"ArrayHeight: 4\""},
      {"no delimiter", replaced(kUserCfg, "Dataflow : os", "Dataflow os"),
       ":14: ", "expected \"key = value\" or \"key: value\", got \"Dataflow os\""},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.text);
    EXPECT_CONTAINS(message, file() + c.location) << c.what;
    EXPECT_CONTAINS(message, c.expected) << c.what;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.what;
  }
  // An override that breaks a value is named as the override, not as the file's line.
  EXPECT_CONTAINS(error_of(kUserCfg, {"array.rows=0"}), "--set array.rows=0: ");
}

TEST_F(ScalesimCfg, MissingFile) {
  const std::string absent = (dir_ / "absent.cfg").string();
  try {
    load_accelerator_config(absent, {});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), absent + ": cannot open");
  }
}

}  // namespace
}  // namespace npusim
