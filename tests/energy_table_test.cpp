// Technology tables: the default 45 nm and 7 nm values, their derivations,
// SRAM interpolation, node interpolation, and the errors of bad tables.
#include "sim/energy/energy_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/input_error.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

const std::string kTechDir = std::string(NPUSIM_SOURCE_DIR) + "/configs/tech/";

MacFormat fmt(NumberFormat w, NumberFormat a, AccumulatorFormat acc, int lanes = 1) {
  return MacFormat{w, a, acc, lanes};
}

const MacFormat kInt8 = fmt(NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32);
const MacFormat kFp32 = fmt(NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32);

const EnergyTable& table45() {
  static const EnergyTable t = load_energy_table(kTechDir + "45nm.json");
  return t;
}
const EnergyTable& table7() {
  static const EnergyTable t = load_energy_table(kTechDir + "7nm.json");
  return t;
}

// Every MAC format the array accepts (accel/formats/number_format.h validate()).
std::vector<MacFormat> all_valid_formats() {
  const NumberFormat formats[] = {NumberFormat::fp32, NumberFormat::fp16, NumberFormat::bf16,
                                  NumberFormat::int8, NumberFormat::int4, NumberFormat::binary};
  const AccumulatorFormat accs[] = {AccumulatorFormat::int32, AccumulatorFormat::fp32, AccumulatorFormat::fp16};
  std::vector<MacFormat> out;
  for (auto w : formats)
    for (auto a : formats)
      for (auto acc : accs) {
        const MacFormat m = fmt(w, a, acc);
        if (!validate(m)) out.push_back(m);
      }
  return out;
}

double op_pj(const EnergyTable& t, const std::string& name) { return *t.ops.at(name).pj; }
double op_um2(const EnergyTable& t, const std::string& name) { return *t.ops.at(name).um2; }

TEST(EnergyTable, Horowitz45nmArithmeticAsPublished) {
  const auto& t = table45();
  EXPECT_EQ(t.node_nm, 45);
  // Horowitz ISSCC 2014 Fig. 1.1.9.
  EXPECT_EQ(op_pj(t, "int8_add"), 0.03);
  EXPECT_EQ(op_pj(t, "int32_add"), 0.1);
  EXPECT_EQ(op_pj(t, "int8_mult"), 0.2);
  EXPECT_EQ(op_pj(t, "int32_mult"), 3.1);
  EXPECT_EQ(op_pj(t, "fp16_add"), 0.4);
  EXPECT_EQ(op_pj(t, "fp32_add"), 0.9);
  EXPECT_EQ(op_pj(t, "fp16_mult"), 1.1);
  EXPECT_EQ(op_pj(t, "fp32_mult"), 3.7);
  // Dally/Han 45 nm areas (um2).
  EXPECT_EQ(op_um2(t, "int8_mult"), 282);
  EXPECT_EQ(op_um2(t, "fp32_mult"), 7700);
  EXPECT_EQ(op_um2(t, "fp32_add"), 4184);
  EXPECT_EQ(op_um2(t, "int32_add"), 137);
}

TEST(EnergyTable, Fp32ToInt8MacRatioIsWhatTheTableSays) {
  const auto& t = table45();
  // fp32 MAC = 32b FP mult + 32b FP add; int8 MAC = 8b int mult + 32b int add.
  const MacEnergy& fp32 = t.mac_energy(kFp32);
  const MacEnergy& int8 = t.mac_energy(kInt8);
  EXPECT_EQ(fp32.mult_pj, 3.7);
  EXPECT_EQ(fp32.add_pj, 0.9);
  EXPECT_EQ(int8.mult_pj, 0.2);
  EXPECT_EQ(int8.add_pj, 0.1);
  EXPECT_EQ(fp32.lane_pj() / int8.lane_pj(), (3.7 + 0.9) / (0.2 + 0.1));
  EXPECT_NEAR(fp32.lane_pj() / int8.lane_pj(), 15.333, 0.001);
}

TEST(EnergyTable, Jouppi7nmValues) {
  const auto& t = table7();
  EXPECT_EQ(t.node_nm, 7);
  // Jouppi et al. ISCA 2021 Table 2, 7 nm column.
  const MacEnergy& fp32 = t.mac_energy(kFp32);
  EXPECT_EQ(fp32.mult_pj, 1.31);
  EXPECT_EQ(fp32.add_pj, 0.38);
  const MacEnergy& int8 = t.mac_energy(kInt8);
  EXPECT_EQ(int8.mult_pj, 0.07);
  EXPECT_EQ(int8.add_pj, 0.03);
  EXPECT_EQ(fp32.lane_pj() / int8.lane_pj(), (1.31 + 0.38) / (0.07 + 0.03));
  const MacEnergy& bf16 = t.mac_energy(fmt(NumberFormat::bf16, NumberFormat::bf16, AccumulatorFormat::fp32));
  EXPECT_EQ(bf16.mult_pj, 0.21);
  EXPECT_EQ(bf16.add_pj, 0.38);
  const MacEnergy& fp16 = t.mac_energy(fmt(NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp16));
  EXPECT_EQ(fp16.mult_pj, 0.34);
  EXPECT_EQ(fp16.add_pj, 0.16);
  EXPECT_EQ(op_pj(t, "int8_add"), 0.007);
  EXPECT_EQ(op_pj(t, "int32_mult"), 1.48);
  EXPECT_EQ(op_pj(t, "fp16_add"), 0.16);
  // SRAM, 64-bit access.
  EXPECT_EQ(t.sram_access_pj(8 * 1024, 8, false), 7.5);
  EXPECT_EQ(t.sram_access_pj(32 * 1024, 8, false), 8.5);
  EXPECT_EQ(t.sram_access_pj(1024 * 1024, 8, false), 14);
  // DDR3/4: 1300 pJ per 64-bit access at both nodes.
  EXPECT_EQ(t.dram_energy("ddr4").pj_per_bit, 1300.0 / 64);
  EXPECT_EQ(table45().dram_energy("ddr4").pj_per_bit, 1300.0 / 64);
}

// The derived entries are what their source formulas say, from $.ops.
void expect_derivations(const EnergyTable& t) {
  SCOPED_TRACE(t.name);
  const double reg = op_um2(t, "register_bit");
  for (const MacFormat& m : all_valid_formats()) {
    SCOPED_TRACE(mac_key(m));
    const MacEnergy& e = t.mac_energy(m);
    const PeArea& a = t.pe_area_of(m);
    EXPECT_NE(e.source.find("[D]"), std::string::npos);
    EXPECT_NE(a.source.find("[D]"), std::string::npos);
    const int wb = storage_bits(m.weight), ab = storage_bits(m.activation);
    const double lane_reg = (2 * wb + ab) * reg;
    EXPECT_DOUBLE_EQ(a.register_um2, lane_reg);
    if (m.integer() && wb == 1 && ab == 1) {
      EXPECT_EQ(e.mult_pj, op_pj(t, "xnor_1b"));
      EXPECT_EQ(e.add_pj, op_pj(t, "popcount_bit"));
      EXPECT_EQ(e.group_add_pj, op_pj(t, "int32_add"));
      EXPECT_DOUBLE_EQ(a.pe_um2, 32 * reg + op_um2(t, "int32_add"));
    } else if (m.integer()) {
      EXPECT_DOUBLE_EQ(e.mult_pj, op_pj(t, "int8_mult") * wb * ab / 64);
      EXPECT_EQ(e.add_pj, op_pj(t, "int32_add"));
      EXPECT_EQ(e.group_add_pj, 0);
      EXPECT_DOUBLE_EQ(a.mult_um2, op_um2(t, "int8_mult") * wb * ab / 64);
      EXPECT_EQ(a.add_um2, op_um2(t, "int32_add"));
      EXPECT_DOUBLE_EQ(a.pe_um2, 32 * reg);
    } else {
      const bool fp32 = m.weight == NumberFormat::fp32 || m.activation == NumberFormat::fp32;
      const bool bf16 = m.weight == NumberFormat::bf16 && m.activation == NumberFormat::bf16;
      const std::string mult = fp32 ? "fp32_mult" : bf16 ? "bf16_mult" : "fp16_mult";
      const std::string add = m.accumulator == AccumulatorFormat::fp32 ? "fp32_add" : "fp16_add";
      EXPECT_EQ(e.mult_pj, op_pj(t, mult));
      EXPECT_EQ(e.add_pj, op_pj(t, add));
      EXPECT_EQ(a.mult_um2, op_um2(t, mult));
      EXPECT_EQ(a.add_um2, op_um2(t, add));
      const int acc_bits = m.accumulator == AccumulatorFormat::fp32 ? 32 : 16;
      EXPECT_DOUBLE_EQ(a.pe_um2, acc_bits * reg);
    }
  }
}

TEST(EnergyTable, DerivedEntriesFollowTheirFormulas) {
  expect_derivations(table45());
  expect_derivations(table7());
  // int4 multiplier: quadratic scaling of int8 (0.2 x 16/64); bf16 at 45 nm from the 7 nm bf16/fp16 ratio.
  EXPECT_DOUBLE_EQ(op_pj(table45(), "int4_mult"), 0.05);
  EXPECT_NEAR(op_pj(table45(), "bf16_mult"), 1.1 * 0.21 / 0.34, 1e-12);  // stored to 12 digits
  // 7 nm areas: 45 nm areas x the Stillmaker-Baas factor 0.059.
  EXPECT_DOUBLE_EQ(op_um2(table7(), "int8_mult"), 282 * 0.059);
}

TEST(EnergyTable, EveryValidFormatAndPresetDramHasEntriesInBothTables) {
  for (const EnergyTable* t : {&table45(), &table7()}) {
    for (const MacFormat& m : all_valid_formats()) EXPECT_NO_THROW(require_entries(*t, m, "")) << mac_key(m);
    for (const char* type : {"ddr3", "ddr4", "lpddr4", "lpddr5", "hbm2"}) {
      EXPECT_NO_THROW(t->dram_energy(type)) << type;
    }
  }
  EXPECT_EQ(all_valid_formats().size(), 19u);
}

TEST(EnergyTable, SramEnergyIsExactAtTheTablePointsAndPowerLawBetween) {
  const auto& t = table45();
  EXPECT_EQ(t.sram_access_pj(8 * 1024, 8, false), 10);
  EXPECT_EQ(t.sram_access_pj(32 * 1024, 8, false), 20);
  EXPECT_EQ(t.sram_access_pj(1024 * 1024, 8, false), 100);
  EXPECT_EQ(t.sram_access_pj(32 * 1024, 8, true), 20);
  // Word width scales linearly from 64 bits: 128-bit and 32-bit accesses.
  EXPECT_EQ(t.sram_access_pj(8 * 1024, 16, false), 20);
  EXPECT_EQ(t.sram_access_pj(8 * 1024, 4, false), 5);
  // 16 KB: halfway (in log size) from 8 to 32 KB: 10 x (20/10)^(1/2).
  EXPECT_DOUBLE_EQ(t.sram_access_pj(16 * 1024, 8, false), 10 * std::sqrt(2.0));
  // 2 KB: the 8-32 KB power law continued: 10 x (20/10)^(log(2/8)/log(4)) = 10 x 2^-1.
  EXPECT_DOUBLE_EQ(t.sram_access_pj(2 * 1024, 8, false), 5);
  // 4 MB: the 32 KB-1 MB law continued: 100 x 5^(log(4)/log(32)) = 100 x 5^0.4.
  EXPECT_DOUBLE_EQ(t.sram_access_pj(4 * 1024 * 1024, 8, false), 100 * std::pow(5.0, 0.4));
}

TEST(EnergyTable, SramAreaIsExactAtTheTablePointsAndHeldBeyond) {
  const auto& t = table45();
  EXPECT_EQ(t.sram_um2_per_kb(64 * 1024), 199065.0 / 64);
  EXPECT_EQ(t.sram_um2_per_kb(128 * 1024), 429746.0 / 128);
  EXPECT_EQ(t.sram_um2_per_kb(8 * 1024), 199065.0 / 64);
  EXPECT_EQ(t.sram_um2_per_kb(24 * 1024 * 1024), 429746.0 / 128);
  const double lo = 199065.0 / 64, hi = 429746.0 / 128;
  EXPECT_DOUBLE_EQ(t.sram_um2_per_kb(96 * 1024), lo * std::pow(hi / lo, std::log(1.5) / std::log(2.0)));
}

// The table's values with everything that names or explains them removed.
nlohmann::ordered_json values_of(const EnergyTable& t) {
  auto j = to_json(t);
  j.erase("name");
  j.erase("description");
  std::function<void(nlohmann::ordered_json&)> strip = [&](nlohmann::ordered_json& node) {
    if (node.is_object()) {
      node.erase("source");
      node.erase("note");
      for (auto& [key, child] : node.items()) strip(child);
    } else if (node.is_array()) {
      for (auto& child : node) strip(child);
    }
  };
  strip(j);
  return j;
}

TEST(EnergyTable, InterpolationAtTheEndNodesGivesTheEndTables) {
  const auto at45 = interpolate_energy_tables(table45(), table7(), 45);
  const auto at7 = interpolate_energy_tables(table45(), table7(), 7);
  // Every value equal, bit for bit. The 16b int add has no 7 nm figure, so
  // interpolation leaves it out.
  auto expected45 = values_of(table45());
  expected45["ops"].erase("int16_add");
  EXPECT_EQ(values_of(at45).dump(), expected45.dump());
  EXPECT_EQ(values_of(at7).dump(), values_of(table7()).dump());
  EXPECT_EQ(at7.mac_energy(kFp32).mult_pj, 1.31);
}

TEST(EnergyTable, InterpolationBetweenNodesIsLogLinear) {
  const auto t16 = interpolate_energy_tables(table45(), table7(), 16);
  EXPECT_EQ(t16.node_nm, 16);
  const double t = std::log(16.0 / 45) / std::log(7.0 / 45);
  EXPECT_NEAR(t, 0.556, 0.001);  // energy.md section 8
  EXPECT_DOUBLE_EQ(t16.mac_energy(kInt8).mult_pj, 0.2 * std::pow(0.07 / 0.2, t));
  EXPECT_DOUBLE_EQ(t16.mac_energy(kInt8).add_pj, 0.1 * std::pow(0.03 / 0.1, t));
  // energy.md section 8, 16 nm column: SRAM 8.5 / 12.4 / 33.5 pJ; FP32 MAC 2.64 pJ.
  EXPECT_NEAR(t16.sram_access_pj(8 * 1024, 8, false), 8.5, 0.05);
  EXPECT_NEAR(t16.sram_access_pj(32 * 1024, 8, false), 12.4, 0.05);
  EXPECT_NEAR(t16.sram_access_pj(1024 * 1024, 8, false), 33.5, 0.05);
  EXPECT_NEAR(t16.mac_energy(kFp32).lane_pj(), 2.64, 0.01);
  // DRAM: the same in both tables, so the same here; a 0 at both ends stays 0.
  EXPECT_DOUBLE_EQ(t16.dram_energy("hbm2").activation_pj, 909);
  EXPECT_EQ(t16.dram_energy("ddr4").activation_pj, 0);
  EXPECT_NE(t16.mac_energy(kInt8).source.find("interpolated"), std::string::npos);
  // The default-table entry point: end nodes load the files unchanged.
  EXPECT_EQ(tech_table_for_node(45, kTechDir).mac_energy(kInt8).source, table45().mac_energy(kInt8).source);
  EXPECT_EQ(tech_table_for_node(7, kTechDir).name, "7nm");
  EXPECT_DOUBLE_EQ(tech_table_for_node(16, kTechDir).mac_energy(kInt8).mult_pj, 0.2 * std::pow(0.07 / 0.2, t));
}

TEST(EnergyTable, InterpolationOutsideTheNodesIsAnInputError) {
  try {
    interpolate_energy_tables(table45(), table7(), 5);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("technology node 5 nm: outside [7, 45] nm"), std::string::npos) << e.what();
  }
}

TEST(EnergyTable, JsonRoundTrip) {
  const auto again = parse_energy_table(nlohmann::json::parse(to_json(table45()).dump()), "again.json");
  EXPECT_EQ(to_json(again).dump(), to_json(table45()).dump());
  const auto t16 = interpolate_energy_tables(table45(), table7(), 16);
  const auto t16_again = parse_energy_table(nlohmann::json::parse(to_json(t16).dump()), "t16.json");
  EXPECT_EQ(to_json(t16_again).dump(), to_json(t16).dump());
}

TEST(EnergyTable, DramTypeOfAPreset) {
  EXPECT_EQ(dram_energy_type("ddr4-3200"), "ddr4");
  EXPECT_EQ(dram_energy_type("lpddr4-4266"), "lpddr4");
  EXPECT_EQ(dram_energy_type("lpddr5-6400"), "lpddr5");
  EXPECT_EQ(dram_energy_type("hbm2"), "hbm2");
  EXPECT_EQ(dram_energy_type("ideal"), std::nullopt);
}

// ---- bad tables ------------------------------------------------------------

nlohmann::json default_document() {
  std::ifstream in(kTechDir + "45nm.json");
  return nlohmann::json::parse(in);
}

std::string parse_error(const nlohmann::json& document) {
  try {
    parse_energy_table(document, "tech.json");
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

TEST(EnergyTableErrors, MissingMacEntryNamesFilePathAndFormat) {
  auto doc = default_document();
  doc["mac"].erase("int4_int8_int32");
  const auto t = parse_energy_table(doc, "tech.json");
  const MacFormat w4a8 = fmt(NumberFormat::int4, NumberFormat::int8, AccumulatorFormat::int32);
  try {
    t.mac_energy(w4a8);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "tech.json: $.mac.int4_int8_int32: missing (needed for W4A8)");
  }
  try {
    require_entries(t, w4a8, "ddr4");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "tech.json: $.mac.int4_int8_int32: missing (needed for W4A8)");
  }
  try {
    t.mac_energy(fmt(NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp16));
    SUCCEED();
  } catch (...) {
    FAIL() << "fp16 entry should be there";
  }
}

TEST(EnergyTableErrors, MissingDramTypeAndPeArea) {
  auto doc = default_document();
  doc["pe_area"].erase("fp16_fp16_fp16");
  const auto t = parse_energy_table(doc, "tech.json");
  try {
    t.dram_energy("gddr6");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "tech.json: $.dram.gddr6: missing (needed for DRAM type gddr6)");
  }
  try {
    t.pe_area_of(fmt(NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp16));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "tech.json: $.pe_area.fp16_fp16_fp16: missing (needed for the PE area of fp16/fp16 with fp16 "
                 "accumulation)");
  }
}

TEST(EnergyTableErrors, MissingSectionNamesTheAction) {
  auto doc = default_document();
  doc.erase("ppu_op");
  EXPECT_EQ(parse_error(doc), "tech.json: $.ppu_op: missing (the energy of one post-processing element operation)");
  doc = default_document();
  doc["leakage"].erase("sram");
  EXPECT_EQ(parse_error(doc), "tech.json: $.leakage.sram: missing (leakage power per mm2 of SRAM)");
  doc = default_document();
  doc.erase("sram");
  EXPECT_EQ(parse_error(doc), "tech.json: $.sram: missing (SRAM energy per access and area per KB by capacity)");
}

TEST(EnergyTableErrors, MalformedEntriesNameTheirPath) {
  auto doc = default_document();
  doc["mac"]["int8_int8_int32"].erase("add_pj");
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.mac.int8_int8_int32.add_pj: expected a number", 0), 0u);

  doc = default_document();
  doc["mac"]["int8_int8_int32"]["mult_pj"] = "0.2";
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.mac.int8_int8_int32.mult_pj: expected a number", 0), 0u);

  doc = default_document();
  doc["mac"]["int8_int8_int32"]["mult_pj"] = -1;
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.mac.int8_int8_int32.mult_pj: expected a number", 0), 0u);

  doc = default_document();
  doc["dram"]["ddr4"].erase("source");
  EXPECT_EQ(parse_error(doc), "tech.json: $.dram.ddr4.source: expected a string, got nothing (the field is missing)");

  doc = default_document();
  doc["ops"]["int8_mult"]["source"] = "";
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.ops.int8_mult.source: expected a non-empty string", 0), 0u);

  doc = default_document();
  doc["mac"]["int8_int8_int32"]["mult_pJ"] = 0.2;
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.mac.int8_int8_int32.mult_pJ: unknown field", 0), 0u);

  doc = default_document();
  doc["mac"]["int8_int8_in32"] = doc["mac"]["int8_int8_int32"];
  EXPECT_EQ(
      parse_error(doc).rfind("tech.json: $.mac.int8_int8_in32: expected a key <weight>_<activation>_<accumulator>", 0),
      0u);

  doc = default_document();
  doc["mac"]["int8_fp16_fp32"] = doc["mac"]["int8_int8_int32"];  // mixed integer/float: no such MAC
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.mac.int8_fp16_fp32: expected a key", 0), 0u);

  doc = default_document();
  doc["sram"]["energy"][1]["kb"] = 4;
  EXPECT_EQ(parse_error(doc),
            "tech.json: $.sram.energy[1].kb: expected more than the previous point's 8 (points in increasing "
            "capacity), got 4");

  doc = default_document();
  doc["sram"]["energy"] = nlohmann::json::array();
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.sram.energy: expected a list of at least one point", 0), 0u);

  doc = default_document();
  doc["format_version"] = 2;
  EXPECT_EQ(parse_error(doc).rfind("tech.json: $.format_version: expected an integer in [1, 1]", 0), 0u);
}

TEST(EnergyTableErrors, UnreadableFileNamesIt) {
  const fs::path path = fs::temp_directory_path() / ("npusim_tech_" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << "{\"format_version\": 1,\n \"name\": }";
  try {
    load_energy_table(path.string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + ":2:", 0), 0u) << e.what();
  }
  fs::remove(path);
  EXPECT_THROW(load_energy_table(path.string()), InputError);
}

}  // namespace
}  // namespace npusim
