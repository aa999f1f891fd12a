// Bad $.memory.dram input: one InputError naming the file and the JSON path,
// never a model built from it (issue 12, "Bad input").
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "models/input_error.h"
#include "models/json_reader.h"
#include "sim/config/memory_config.h"

namespace npusim {
namespace {

std::string error_of(const std::string& dram_json) {
  const nlohmann::json node = nlohmann::json::parse(dram_json);
  JsonObjectReader reader(node, "c.json", "$.memory.dram");
  try {
    read_dram_config(reader);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(DramJson, OrganizationAndControllerKnobsAreRead) {
  const nlohmann::json node = nlohmann::json::parse(
      R"({"preset": "ddr4-3200", "ranks": 2, "rows": 32768, "tCK_ps": 630, "address_mapping": "ro-ch-ra-ba-bg-co",
          "controller": {"scheduler": "frfcfs", "page_policy": "closed", "queue_structure": "per_rank",
                         "write_high_watermark": 20, "write_low_watermark": 4}})");
  JsonObjectReader reader(node, "c.json", "$.memory.dram");
  const DramConfig c = read_dram_config(reader);
  EXPECT_EQ(c.ranks, 2);
  EXPECT_EQ(c.rows, 32768);
  EXPECT_EQ(c.tCK_ps, 630);
  EXPECT_EQ(c.controller.scheduler, DramScheduler::frfcfs);
  EXPECT_EQ(c.controller.page_policy, DramPagePolicy::closed);
  EXPECT_EQ(c.controller.queue_structure, DramQueueStructure::per_rank);
  EXPECT_EQ(c.controller.write_high_watermark, 20);
  EXPECT_EQ(c.timing.CL, 22);  // the rest stays the preset's
}

TEST(DramJson, PerBankRefreshIsRead) {
  const nlohmann::json node = nlohmann::json::parse(
      R"({"preset": "lpddr4-4266", "refresh_mode": "per_bank", "timing": {"tRFCpb": 280, "tREFIpb": 1000}})");
  JsonObjectReader reader(node, "c.json", "$.memory.dram");
  const DramConfig c = read_dram_config(reader);
  EXPECT_EQ(c.refresh_mode, DramRefreshMode::per_bank);
  EXPECT_EQ(c.timing.tRFCpb, 280);
  EXPECT_EQ(c.timing.tREFIpb, 1000);
  EXPECT_EQ(c.timing.tPBR2PBR, 193);  // the preset's: 90 ns at tCK 468 ps, rounded up
}

TEST(DramJson, BadInputIsOneLineNamingFileAndPath) {
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "controller": {"scheduler": "lifo"}})"),
                          "c.json: $.memory.dram.controller.scheduler: expected one of fcfs, frfcfs, frfcfs_cap"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "controller": {"page_policy": "ajar"}})"),
                          "c.json: $.memory.dram.controller.page_policy: expected one of open, closed, adaptive"));
  EXPECT_TRUE(starts_with(
      error_of(R"({"preset": "ddr4-3200", "controller": {"write_high_watermark": 8, "write_low_watermark": 8}})"),
      "c.json: $.memory.dram: controller.write_low_watermark: expected an integer in [0, write_high_watermark - 1"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "controller": {"command_queue_depth": 0}})"),
                          "c.json: $.memory.dram.controller.command_queue_depth: expected"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "address_mapping": "RoRoBaRaCoCh"})"),
                          "c.json: $.memory.dram: address_mapping: expected each of Ro, Ba, Ra, Co, Ch once"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "address_mapping": "RoBaRaCo"})"),
                          "c.json: $.memory.dram: address_mapping: expected each of Ro, Ba, Ra, Co, Ch once"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "rows": 60000})"),
                          "c.json: $.memory.dram: rows: expected a power of two"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "rows": 16777216, "ranks": 16, "channels": 1024})"),
                          "c.json: $.memory.dram: rows: expected a capacity of at most 2^48 bytes"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "request_bytes": 32})"),
                          "c.json: $.memory.dram.request_bytes: expected bus_width_bits * burst_length / 8 = 64"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "lpddr4-4266", "refresh_mode": "sometimes"})"),
                          "c.json: $.memory.dram.refresh_mode: expected one of all_bank, per_bank"));
  EXPECT_TRUE(starts_with(error_of(R"({"preset": "ddr4-3200", "refresh_mode": "per_bank"})"),
                          "c.json: $.memory.dram: timing.tRFCpb: expected a positive cycle count"));
  EXPECT_TRUE(
      starts_with(error_of(R"({"preset": "lpddr4-4266", "refresh_mode": "per_bank", "per_bank_refresh_banks": 3})"),
                  "c.json: $.memory.dram: per_bank_refresh_banks: expected a power of two in [1, banks per rank = 8]"));
  for (const char* bad : {R"({"preset": "ddr4-3200", "controller": {"scheduler": "lifo"}})",
                          R"({"preset": "ddr4-3200", "rows": 60000})"}) {
    EXPECT_EQ(error_of(bad).find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace npusim
