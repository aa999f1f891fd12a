// Sweep files: expansion (cartesian x zipped x networks), constraints, keys and
// the one-line errors of a bad spec.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "models/input_error.h"
#include "sim/energy/area_model.h"
#include "sim/energy/run_energy.h"
#include "sim/sweep/sweep_key.h"
#include "sim/sweep/sweep_spec.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

const std::string kSource = NPUSIM_SOURCE_DIR;

class SweepSpecTest : public testing::TempDirTest {
 protected:
  // Writes a sweep file in the temp dir whose base and network are the repo's.
  std::string write_spec(const std::string& body, const std::string& name = "s.json") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << body;
    return path;
  }
  std::string base() const { return "\"base\": \"" + kSource + "/configs/edge_int8_32x32.json\""; }
  std::string lenet() const { return "\"" + kSource + "/models/zoo/lenet5.json\""; }
  std::string tiny() const { return "\"" + kSource + "/models/zoo/tiny_mixed.json\""; }

  std::string error_of(const std::string& body) {
    try {
      expand_sweep(load_sweep_spec(write_spec(body)));
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  }
};

TEST(SweepKeyTest, FnvMatchesPublishedVectors) {
  // Test vectors of the FNV-1a 64-bit reference (Fowler/Noll/Vo).
  EXPECT_EQ(hex64(fnv1a_64("")), "cbf29ce484222325");
  EXPECT_EQ(hex64(fnv1a_64("a")), "af63dc4c8601ec8c");
  EXPECT_EQ(hex64(fnv1a_64("foobar")), "85944171f73967e8");
}

TEST(SweepKeyTest, SetTextKeepsStringsStrings) {
  EXPECT_EQ(set_text("array.rows", 64), "array.rows=64");
  EXPECT_EQ(set_text("memory.dram.preset", "ddr4-3200"), "memory.dram.preset=ddr4-3200");
  EXPECT_EQ(set_text("name", "64"), "name=\"64\"");
  EXPECT_EQ(set_text("x.flag", true), "x.flag=true");
}

TEST_F(SweepSpecTest, ExpandsNetworksTimesAxesTimesZippedGroups) {
  const auto spec = load_sweep_spec(
      write_spec("{" + base() + ", \"networks\": [" + lenet() + ", " + tiny() +
                 "], \"axes\": {\"array.rows\": [8, 16], \"formats\": [\"fp32\", \"int4\"]},"
                 " \"zip\": [{\"memory.sram.ifmap.kb\": [64, 128], \"memory.sram.weight.kb\": [32, 96]}]}"));
  const SweepPlan plan = expand_sweep(spec);
  ASSERT_EQ(plan.points.size(), 2u * 2 * 2 * 2);
  EXPECT_TRUE(plan.dropped.empty());
  // Networks outermost, then axes in file order, then the zip group, last fastest.
  const auto& p0 = plan.points[0];
  EXPECT_EQ(p0.config.array.rows, 8);
  EXPECT_EQ(p0.config.array.mac.weight, NumberFormat::fp32);
  EXPECT_EQ(p0.config.array.mac.accumulator, AccumulatorFormat::fp32);
  EXPECT_EQ(p0.config.memory.sram.ifmap.capacity_bytes, 64 * 1024);
  EXPECT_EQ(p0.config.memory.sram.weight.capacity_bytes, 32 * 1024);
  const auto& p1 = plan.points[1];
  EXPECT_EQ(p1.config.memory.sram.ifmap.capacity_bytes, 128 * 1024);
  EXPECT_EQ(p1.config.memory.sram.weight.capacity_bytes, 96 * 1024);  // zipped: moves with ifmap
  EXPECT_EQ(p1.config.array.mac.weight, NumberFormat::fp32);
  EXPECT_EQ(plan.points[2].config.array.mac.weight, NumberFormat::int4);
  EXPECT_EQ(plan.points[2].config.array.mac.activation, NumberFormat::int4);
  EXPECT_EQ(plan.points[2].config.array.mac.accumulator, AccumulatorFormat::int32);
  EXPECT_EQ(plan.points[4].config.array.rows, 16);
  EXPECT_EQ(plan.points[7].network, 0u);
  EXPECT_EQ(plan.points[8].network, 1u);
  EXPECT_EQ(plan.points[9].values["memory.sram.ifmap.kb"], 128);
  EXPECT_EQ(plan.points[9].values["network"], tiny().substr(1, tiny().size() - 2));
  for (std::size_t i = 0; i < plan.points.size(); ++i) EXPECT_EQ(plan.points[i].index, i);
  // Columns a constraint reads: the three buffers' KB summed.
  EXPECT_DOUBLE_EQ(p0.sram_kb, 64 + 32 + 128);
  // "formats" expands to the same overrides `npusim compare --formats` uses.
  EXPECT_EQ(p0.overrides.size(), 1u + 3 + 2);
  EXPECT_EQ(p0.overrides[1], "formats.weight=fp32");
  EXPECT_EQ(p0.overrides[3], "formats.accumulator=fp32");
}

TEST_F(SweepSpecTest, ConstraintsDropPointsBeforeTheyRunAndCountThem) {
  const std::string axes = "\"axes\": {\"array.rows\": [8, 16, 32, 64], \"array.cols\": [16]}";
  const auto all =
      expand_sweep(load_sweep_spec(write_spec("{" + base() + ", \"networks\": [" + lenet() + "], " + axes + "}")));
  ASSERT_EQ(all.points.size(), 4u);
  // The area of each point from the area model directly, independent of the sweep.
  std::vector<double> areas;
  for (const int rows : {8, 16, 32, 64}) {
    AcceleratorConfig config = all.points[0].config;
    config.array.rows = rows;
    areas.push_back(
        compute_area(config.array, capacities_of(config.memory.sram), load_config_energy_table(config)).total_mm2);
    EXPECT_DOUBLE_EQ(all.points[areas.size() - 1].area_mm2, areas.back());
  }
  ASSERT_LT(areas[1], areas[2]);
  const double budget = (areas[1] + areas[2]) / 2;
  const auto limited = expand_sweep(
      load_sweep_spec(write_spec("{" + base() + ", \"networks\": [" + lenet() + "], " + axes +
                                 ", \"constraints\": {\"max_area_mm2\": " + std::to_string(budget) + "}}")));
  ASSERT_EQ(limited.points.size(), 2u);
  ASSERT_EQ(limited.dropped.size(), 2u);
  EXPECT_EQ(limited.dropped[0].values["array.rows"], 32);
  EXPECT_NE(limited.dropped[0].reason.find("max_area_mm2"), std::string::npos);
  // Kept points keep their keys; indices count only kept points.
  EXPECT_EQ(limited.points[1].key, all.points[1].key);
  EXPECT_EQ(limited.points[1].index, 1u);

  const auto pes = expand_sweep(load_sweep_spec(write_spec("{" + base() + ", \"networks\": [" + lenet() + "], " + axes +
                                                           ", \"constraints\": {\"max_pes\": 512}}")));
  EXPECT_EQ(pes.points.size(), 3u);  // 8x16, 16x16 and 32x16 = 512 PEs fit; 64x16 does not
  EXPECT_EQ(pes.dropped.size(), 1u);
  const auto sram = expand_sweep(load_sweep_spec(write_spec("{" + base() + ", \"networks\": [" + lenet() +
                                                            "], \"axes\": {\"memory.sram.weight.kb\": [64, 256]}, "
                                                            "\"constraints\": {\"max_sram_kb\": 512}}")));
  ASSERT_EQ(sram.points.size(), 1u);  // 256 + 64 + 128 = 448 fits; 256 + 256 + 128 = 640 does not
  EXPECT_EQ(sram.dropped.size(), 1u);
}

TEST_F(SweepSpecTest, KeysAreStableAndFollowTheResolvedConfig) {
  const std::string body = "{" + base() + ", \"networks\": [" + lenet() + "], \"axes\": {\"array.rows\": [8, 16]}}";
  const auto a = expand_sweep(load_sweep_spec(write_spec(body)));
  const auto b = expand_sweep(load_sweep_spec(write_spec(body, "copy.json")));
  ASSERT_EQ(a.points.size(), 2u);
  EXPECT_EQ(a.points[0].key, b.points[0].key);
  EXPECT_EQ(a.points[1].key, b.points[1].key);
  EXPECT_NE(a.points[0].key, a.points[1].key);
  EXPECT_EQ(a.points[0].key.size(), 16u);
  // The key is the hash of the documented identity document.
  EXPECT_EQ(a.points[0].key, point_key(point_identity(a.points[0].config, kSource + "/models/zoo/lenet5.json",
                                                      file_fnv1a_64(kSource + "/models/zoo/lenet5.json"))));
  // A changed config field outside the axes changes every key.
  const auto c =
      expand_sweep(load_sweep_spec(write_spec("{" + base() + ", \"set\": {\"clock_mhz\": 900}, \"networks\": [" +
                                              lenet() + "], \"axes\": {\"array.rows\": [8, 16]}}")));
  EXPECT_NE(c.points[0].key, a.points[0].key);
  // Writing the same value another way (an axis instead of the base) does not.
  const auto d = expand_sweep(
      load_sweep_spec(write_spec("{" + base() + ", \"set\": {\"array.rows\": 8}, \"networks\": [" + lenet() + "]}")));
  EXPECT_EQ(d.points[0].key, a.points[0].key);
  // Extra run options are part of the key; none keeps the plain key.
  const auto e = expand_sweep(
      load_sweep_spec(write_spec("{" + base() + ", \"run_args\": [\"--calibration\", \"percentile\"], \"networks\": [" +
                                 lenet() + "], \"axes\": {\"array.rows\": [8, 16]}}")));
  EXPECT_NE(e.points[0].key, a.points[0].key);
  EXPECT_EQ(e.points[0].key, point_key(point_identity(e.points[0].config, kSource + "/models/zoo/lenet5.json",
                                                      file_fnv1a_64(kSource + "/models/zoo/lenet5.json"),
                                                      {"--calibration", "percentile"})));
  // A changed network file (same path) changes the key.
  std::filesystem::copy_file(kSource + "/models/zoo/lenet5.json", dir_ / "net.json");
  const std::string local = "{" + base() + ", \"networks\": [\"net.json\"]}";
  const std::string before = expand_sweep(load_sweep_spec(write_spec(local))).points[0].key;
  std::string text = slurp(dir_ / "net.json");
  text.replace(text.find("\"seed\": 7"), 9, "\"seed\": 8");
  std::ofstream(dir_ / "net.json") << text;
  EXPECT_NE(expand_sweep(load_sweep_spec(write_spec(local))).points[0].key, before);
}

TEST_F(SweepSpecTest, BadSpecsFailInOneLineNamingFileAndPath) {
  const std::string net = "\"networks\": [" + lenet() + "]";
  const auto expect_error = [&](const std::string& body, const std::vector<std::string>& parts) {
    const std::string message = error_of(body);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find((dir_ / "s.json").string() + ": "), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
  };
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"array.rowz\": [8]}}", {"$.axes[\"array.rowz\"][0]", "rowz"});
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"array.rows\": []}}",
               {"$.axes[\"array.rows\"]", "non-empty"});
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"array.rows\": [8, -1]}}", {"$.axes[\"array.rows\"][1]"});
  expect_error("{" + base() + ", " + net + ", \"zip\": [{\"array.rows\": [8, 16], \"array.cols\": [8]}]}",
               {"$.zip[0]", "equal lengths", "array.cols has 1"});
  expect_error("{" + base() + ", \"networks\": [\"missing.json\"]}", {"$.networks[0]", "missing.json"});
  expect_error("{" + base() + ", \"networks\": []}", {"$.networks"});
  expect_error("{\"base\": \"nope.json\", " + net + "}", {"$.base", "nope.json"});
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"formats\": [\"int3\"]}}",
               {"$.axes[\"formats\"][0]", "int3"});
  expect_error("{" + base() + ", " + net + ", \"objectives\": [\"speed\"]}", {"$.objectives[0]", "speed"});
  expect_error("{" + base() + ", " + net + ", \"axis\": {}}", {"$.axis", "unknown key"});
  expect_error("{" + base() + ", " + net + ", \"constraints\": {\"max_area_mm2\": -1}}",
               {"$.constraints.max_area_mm2"});
  expect_error("{" + base() + ", " + net + ", \"constraints\": {\"min_sqnr_db\": \"20\"}}",
               {"$.constraints.min_sqnr_db", "expected a number of dB"});
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"array.rows\": [8]}, \"zip\": [{\"array.rows\": [8]}]}",
               {"appears twice"});
  expect_error("{" + base() + ", " + net + ", \"axes\": {\"array.rows\": [8, 8]}}", {"same config"});
  expect_error("{" + base() + ", " + net + ", \"run_args\": [\"--json\", \"x.json\"]}", {"$.run_args[0]", "--json"});
}

}  // namespace
}  // namespace npusim
