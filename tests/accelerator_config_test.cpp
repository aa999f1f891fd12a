#include "sim/config/accelerator_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "models/input_error.h"
#include "sim/config/set_override.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

const std::string kPresetDir = std::string(NPUSIM_SOURCE_DIR) + "/configs/";

// A scratch directory unique to the running test, removed afterwards.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("npusim_config_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "cfg.json") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A valid config with every optional field left out.
  nlohmann::json minimal() const {
    return nlohmann::json::parse(R"({
      "format_version": 1, "name": "mini", "clock_mhz": 800,
      "array": {"rows": 8, "cols": 4, "dataflow": "os"},
      "formats": {"weight": "int8", "activation": "int8"}
    })");
  }

  // The InputError message of loading `document` with `overrides`; fails the
  // test when loading succeeds.
  std::string error_of(const nlohmann::json& document, const std::vector<std::string>& overrides = {}) {
    const std::string path = write(document.dump());
    try {
      load_accelerator_config(path, overrides);
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "no InputError for " << document.dump();
    return "";
  }

  std::string cfg_path() const { return (dir_ / "cfg.json").string(); }

  fs::path dir_;
};

TEST_F(ConfigFiles, PresetInt8HasTheDocumentedValues) {
  const auto c = load_accelerator_config(kPresetDir + "edge_int8_32x32.json", {});
  EXPECT_EQ(c.name, "edge-int8-32x32");
  EXPECT_EQ(c.clock_mhz, 1000.0);
  EXPECT_EQ(c.array.rows, 32);
  EXPECT_EQ(c.array.cols, 32);
  EXPECT_EQ(c.array.dataflow, Dataflow::ws);
  EXPECT_EQ(c.array.timing, TimingConvention::overlapped);
  EXPECT_EQ(c.fidelity, Fidelity::tile);
  EXPECT_EQ(c.array.mac.weight, NumberFormat::int8);
  EXPECT_EQ(c.array.mac.activation, NumberFormat::int8);
  EXPECT_EQ(c.array.mac.accumulator, AccumulatorFormat::int32);
  EXPECT_EQ(c.array.mac.lanes, 1);
  EXPECT_EQ(c.ppu.elements_per_cycle, 16);
}

TEST_F(ConfigFiles, EveryPresetLoadsWithItsFormatAndLanes) {
  struct Expected {
    const char* file;
    NumberFormat format;
    AccumulatorFormat accumulator;
    int lanes;
  };
  const Expected presets[] = {
      {"edge_int8_32x32.json", NumberFormat::int8, AccumulatorFormat::int32, 1},
      {"edge_fp32_32x32.json", NumberFormat::fp32, AccumulatorFormat::fp32, 1},
      {"edge_fp16_32x32.json", NumberFormat::fp16, AccumulatorFormat::fp32, 1},
      {"edge_int4_32x32.json", NumberFormat::int4, AccumulatorFormat::int32, 2},
      {"edge_binary_32x32.json", NumberFormat::binary, AccumulatorFormat::int32, 64},
  };
  for (const auto& p : presets) {
    SCOPED_TRACE(p.file);
    const auto c = load_accelerator_config(kPresetDir + p.file, {});
    EXPECT_EQ(c.array.mac.weight, p.format);
    EXPECT_EQ(c.array.mac.activation, p.format);
    EXPECT_EQ(c.array.mac.accumulator, p.accumulator);
    EXPECT_EQ(c.array.mac.lanes, p.lanes);
    EXPECT_EQ(c.array.rows, 32);
    EXPECT_EQ(c.array.cols, 32);
  }
}

TEST_F(ConfigFiles, OptionalFieldsTakeTheirDefaults) {
  const auto c = load_accelerator_config(write(minimal().dump()), {});
  EXPECT_EQ(c.array.rows, 8);
  EXPECT_EQ(c.array.cols, 4);
  EXPECT_EQ(c.array.dataflow, Dataflow::os);
  EXPECT_EQ(c.array.mac.lanes, 1);
  EXPECT_EQ(c.array.timing, TimingConvention::overlapped);
  EXPECT_EQ(c.fidelity, Fidelity::tile);
  EXPECT_EQ(c.ppu.elements_per_cycle, 16);
  EXPECT_EQ(c.array.mac.accumulator, AccumulatorFormat::int32);

  auto fp16 = minimal();
  fp16["formats"] = {{"weight", "fp16"}, {"activation", "fp16"}};
  EXPECT_EQ(load_accelerator_config(write(fp16.dump()), {}).array.mac.accumulator, AccumulatorFormat::fp32);
  fp16["formats"]["accumulator"] = "fp16";
  EXPECT_EQ(load_accelerator_config(write(fp16.dump()), {}).array.mac.accumulator, AccumulatorFormat::fp16);
}

TEST_F(ConfigFiles, OverridesChangeFieldsBeforeValidation) {
  const std::string path = write(minimal().dump());
  const auto c = load_accelerator_config(
      path, {"array.rows=64", "formats.weight=int4", "name=foo", "array.fidelity=pe", "array.timing=scalesim",
             "ppu.elements_per_cycle=32", "array.lanes=4", "clock_mhz=1500.5"});
  EXPECT_EQ(c.array.rows, 64);
  EXPECT_EQ(c.array.cols, 4);
  EXPECT_EQ(c.array.mac.weight, NumberFormat::int4);
  EXPECT_EQ(c.array.mac.activation, NumberFormat::int8);
  EXPECT_EQ(c.array.mac.label(), "W4A8");
  EXPECT_EQ(c.name, "foo");
  EXPECT_EQ(c.fidelity, Fidelity::pe);
  EXPECT_EQ(c.array.timing, TimingConvention::scalesim);
  EXPECT_EQ(c.ppu.elements_per_cycle, 32);  // the "ppu" object did not exist before
  EXPECT_EQ(c.array.mac.lanes, 4);
  EXPECT_EQ(c.clock_mhz, 1500.5);
}

TEST_F(ConfigFiles, LaterOverrideOfTheSameFieldWins) {
  const auto c = load_accelerator_config(write(minimal().dump()), {"array.rows=2", "array.rows=3"});
  EXPECT_EQ(c.array.rows, 3);
}

TEST_F(ConfigFiles, OverrideValuesParseAsJsonElseAsStrings) {
  EXPECT_EQ(parse_set_override("array.rows=64").value, nlohmann::json(64));
  EXPECT_EQ(parse_set_override("a=true").value, nlohmann::json(true));
  EXPECT_EQ(parse_set_override("a=1.5").value, nlohmann::json(1.5));
  EXPECT_EQ(parse_set_override("a=int4").value, nlohmann::json("int4"));
  EXPECT_EQ(parse_set_override("a=\"64\"").value, nlohmann::json("64"));
  EXPECT_EQ(parse_set_override("a=").value, nlohmann::json(""));
  EXPECT_EQ(parse_set_override("a=x=y").value, nlohmann::json("x=y"));
  const auto o = parse_set_override("formats.weight=int4");
  EXPECT_EQ(o.keys, (std::vector<std::string>{"formats", "weight"}));
  EXPECT_EQ(o.json_path(), "$.formats.weight");
}

TEST_F(ConfigFiles, ConfigRoundTripsThroughItsJsonEcho) {
  const auto c = load_accelerator_config(kPresetDir + "edge_binary_32x32.json", {"array.dataflow=is"});
  const auto again = parse_accelerator_config(nlohmann::json::parse(to_json(c).dump()), "echo", {});
  EXPECT_EQ(to_json(again).dump(), to_json(c).dump());
  EXPECT_EQ(again.array.dataflow, Dataflow::is);
  EXPECT_EQ(again.array.mac.lanes, 64);
}

// Each bad field -> an InputError naming the file and the field's JSON path.
TEST_F(ConfigFiles, BadFieldsNameFileAndJsonPath) {
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string path;
  };
  const std::vector<Case> cases = {
      {[](auto& j) { j.erase("format_version"); }, "$.format_version"},
      {[](auto& j) { j["format_version"] = 2; }, "$.format_version"},
      {[](auto& j) { j.erase("name"); }, "$.name"},
      {[](auto& j) { j["name"] = ""; }, "$.name"},
      {[](auto& j) { j["name"] = 7; }, "$.name"},
      {[](auto& j) { j["clock_mhz"] = 0; }, "$.clock_mhz"},
      {[](auto& j) { j["clock_mhz"] = -5; }, "$.clock_mhz"},
      {[](auto& j) { j["clock_mhz"] = 100001; }, "$.clock_mhz"},
      {[](auto& j) { j["clock_mhz"] = "fast"; }, "$.clock_mhz"},
      {[](auto& j) { j.erase("array"); }, "$.array"},
      {[](auto& j) { j["array"] = 3; }, "$.array"},
      {[](auto& j) { j["array"]["rows"] = 0; }, "$.array.rows"},
      {[](auto& j) { j["array"]["rows"] = 4097; }, "$.array.rows"},
      {[](auto& j) { j["array"]["rows"] = "32"; }, "$.array.rows"},
      {[](auto& j) { j["array"]["rows"] = 3.5; }, "$.array.rows"},
      {[](auto& j) { j["array"].erase("cols"); }, "$.array.cols"},
      {[](auto& j) { j["array"]["cols"] = -1; }, "$.array.cols"},
      {[](auto& j) { j["array"]["dataflow"] = "xs"; }, "$.array.dataflow"},
      {[](auto& j) { j["array"].erase("dataflow"); }, "$.array.dataflow"},
      {[](auto& j) { j["array"]["lanes"] = 0; }, "$.array.lanes"},
      {[](auto& j) { j["array"]["timing"] = "fast"; }, "$.array.timing"},
      {[](auto& j) { j["array"]["fidelity"] = "rtl"; }, "$.array.fidelity"},
      {[](auto& j) { j["array"]["extra"] = 1; }, "$.array.extra"},
      {[](auto& j) { j["formats"]["weight"] = "int3"; }, "$.formats.weight"},
      {[](auto& j) { j["formats"].erase("activation"); }, "$.formats.activation"},
      {[](auto& j) { j["formats"]["accumulator"] = "int64"; }, "$.formats.accumulator"},
      {[](auto& j) { j["formats"]["weight"] = "fp16"; }, "$.formats"},       // mixed classes
      {[](auto& j) { j["formats"]["accumulator"] = "fp32"; }, "$.formats"},  // int operands
      {[](auto& j) {
         j["ppu"] = {{"elements_per_cycle", 0}};
       },
       "$.ppu.elements_per_cycle"},
      {[](auto& j) {
         j["ppu"] = {{"elements", 4}};
       },
       "$.ppu.elements"},
      {[](auto& j) { j["ppu"] = 16; }, "$.ppu"},
      {[](auto& j) { j["colour"] = "blue"; }, "$.colour"},
  };
  for (const auto& c : cases) {
    auto document = minimal();
    c.edit(document);
    SCOPED_TRACE(document.dump());
    const std::string message = error_of(document);
    EXPECT_EQ(message.rfind(cfg_path() + ": " + c.path + ":", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(ConfigFiles, MixedFormatsReportTheValidationMessageAtFormats) {
  auto document = minimal();
  document["formats"]["weight"] = "fp32";
  const std::string message = error_of(document);
  EXPECT_NE(message.find("$.formats: "), std::string::npos) << message;
  EXPECT_NE(message.find("fp32"), std::string::npos) << message;
  EXPECT_NE(message.find("int8"), std::string::npos) << message;
}

TEST_F(ConfigFiles, UnreadableDocumentsNameTheFile) {
  EXPECT_NE(error_of(nlohmann::json::array({1, 2})).find(cfg_path() + ": $: expected an object"), std::string::npos);
  const std::string missing = (dir_ / "nope.json").string();
  try {
    load_accelerator_config(missing, {});
    ADD_FAILURE() << "missing file accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  const std::string broken = write("{\n  \"name\": \"x\",\n  \"array\": {,}\n}");
  try {
    load_accelerator_config(broken, {});
    ADD_FAILURE() << "syntax error accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(broken + ":3:", 0), 0u) << error.what();
  }
}

TEST_F(ConfigFiles, OverrideOfAnUnknownFieldNamesTheOverride) {
  const std::string message = error_of(minimal(), {"array.rowz=64"});
  EXPECT_EQ(message.rfind("--set array.rowz=64: ", 0), 0u) << message;
  EXPECT_NE(message.find("$.array.rowz: unknown field"), std::string::npos) << message;
  EXPECT_NE(message.find(cfg_path()), std::string::npos) << message;

  const std::string section = error_of(minimal(), {"arrayy.rows=64"});
  EXPECT_EQ(section.rfind("--set arrayy.rows=64: ", 0), 0u) << section;
  EXPECT_NE(section.find("$.arrayy"), std::string::npos) << section;
}

TEST_F(ConfigFiles, OverrideWithABadValueNamesTheOverride) {
  const std::string rows = error_of(minimal(), {"name=ok", "array.rows=0"});
  EXPECT_EQ(rows.rfind("--set array.rows=0: " + cfg_path() + ": $.array.rows: expected", 0), 0u) << rows;
  const std::string name = error_of(minimal(), {"name=64"});  // parses as a number
  EXPECT_EQ(name.rfind("--set name=64: ", 0), 0u) << name;
  EXPECT_NE(name.find("$.name: expected a string"), std::string::npos) << name;
  // The override made the operand classes disagree: reported at $.formats.
  const std::string formats = error_of(minimal(), {"formats.weight=fp16"});
  EXPECT_EQ(formats.rfind("--set formats.weight=fp16: ", 0), 0u) << formats;
  EXPECT_NE(formats.find("$.formats: "), std::string::npos) << formats;
}

TEST_F(ConfigFiles, ErrorElsewhereIsNotBlamedOnAnOverride) {
  auto document = minimal();
  document["array"]["cols"] = 0;
  const std::string message = error_of(document, {"array.rows=64", "name=x"});
  EXPECT_EQ(message.rfind(cfg_path() + ": $.array.cols:", 0), 0u) << message;
}

TEST_F(ConfigFiles, MalformedOverridesAreInputErrors) {
  for (const std::string text : {"array.rows", "=64", "array..rows=1", ".rows=1", "array.=1"}) {
    SCOPED_TRACE(text);
    const std::string message = error_of(minimal(), {text});
    EXPECT_EQ(message.rfind("--set " + text + ": expected", 0), 0u) << message;
  }
  const std::string through_string = error_of(minimal(), {"name.first=a"});
  EXPECT_EQ(through_string.rfind("--set name.first=a: $.name is a string", 0), 0u) << through_string;
}

}  // namespace
}  // namespace npusim
