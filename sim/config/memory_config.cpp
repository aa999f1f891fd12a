#include "sim/config/memory_config.h"

#include <string>

#include "accel/memory/dram_presets.h"
#include "models/input_error.h"

namespace npusim {
namespace {

constexpr std::int64_t kMaxSramKb = std::int64_t{1} << 22;  // 4 GiB

SramConfig read_sram(JsonObjectReader& buffer, const SramConfig& fallback) {
  SramConfig sram;
  sram.capacity_bytes = buffer.integer("kb", 1, kMaxSramKb) * 1024;
  sram.banks = static_cast<int>(buffer.integer_or("banks", 1, 1024, fallback.banks));
  sram.word_bytes = static_cast<int>(buffer.integer_or("word_bytes", 1, 1024, fallback.word_bytes));
  sram.read_ports = static_cast<int>(buffer.integer_or("read_ports", 1, 16, fallback.read_ports));
  sram.write_ports = static_cast<int>(buffer.integer_or("write_ports", 1, 16, fallback.write_ports));
  buffer.finish();
  return sram;
}

void read_timing(JsonObjectReader& timing, DramTimingCycles& t) {
  const auto field = [&](const char* key, int& value) {
    value = static_cast<int>(timing.integer_or(key, 0, 1 << 20, value));
  };
  field("CL", t.CL);
  field("CWL", t.CWL);
  field("tRCD", t.tRCD);
  field("tRP", t.tRP);
  field("tRAS", t.tRAS);
  field("tRC", t.tRC);
  field("tWR", t.tWR);
  field("tRTP", t.tRTP);
  field("tWTR_S", t.tWTR_S);
  field("tWTR_L", t.tWTR_L);
  field("tCCD_S", t.tCCD_S);
  field("tCCD_L", t.tCCD_L);
  field("tRRD_S", t.tRRD_S);
  field("tRRD_L", t.tRRD_L);
  field("tFAW", t.tFAW);
  field("tRFC", t.tRFC);
  field("tREFI", t.tREFI);
  field("tRTRS", t.tRTRS);
  field("tPPD", t.tPPD);
  field("tDQSS", t.tDQSS);
  field("tRFCpb", t.tRFCpb);
  field("tREFIpb", t.tREFIpb);
  field("tPBR2PBR", t.tPBR2PBR);
  field("tPBR2ACT", t.tPBR2ACT);
  timing.finish();
}

template <typename Enum, typename Parse>
Enum read_choice(JsonObjectReader& reader, const char* key, Enum fallback, Parse parse, const char* names) {
  if (!reader.has(key)) return fallback;
  const auto parsed = parse(reader.string(key));
  if (!parsed) reader.fail(key, names);
  return *parsed;
}

void read_controller(JsonObjectReader& controller, DramControllerConfig& k) {
  const auto count = [&](const char* key, int& value, std::int64_t min) {
    value = static_cast<int>(controller.integer_or(key, min, 1 << 20, value));
  };
  k.scheduler =
      read_choice(controller, "scheduler", k.scheduler, parse_dram_scheduler, "one of fcfs, frfcfs, frfcfs_cap");
  k.page_policy =
      read_choice(controller, "page_policy", k.page_policy, parse_dram_page_policy, "one of open, closed, adaptive");
  k.queue_structure = read_choice(controller, "queue_structure", k.queue_structure, parse_dram_queue_structure,
                                  "one of per_bank, per_rank");
  count("row_hit_cap", k.row_hit_cap, 1);
  count("transaction_queue_depth", k.transaction_queue_depth, 1);
  count("command_queue_depth", k.command_queue_depth, 1);
  count("write_buffer_depth", k.write_buffer_depth, 1);
  count("write_high_watermark", k.write_high_watermark, 1);
  count("write_low_watermark", k.write_low_watermark, 0);
  count("frontend_latency_cycles", k.frontend_latency_cycles, 0);
  count("commands_per_cycle", k.commands_per_cycle, 1);
  controller.finish();
}

void read_organization(JsonObjectReader& dram, DramConfig& c) {
  const auto count = [&](const char* key, int& value, std::int64_t max) {
    value = static_cast<int>(dram.integer_or(key, 1, max, value));
  };
  count("channels", c.channels, 1024);
  count("ranks", c.ranks, 64);
  count("bank_groups", c.bank_groups, 1024);
  count("banks_per_group", c.banks_per_group, 1024);
  c.rows = dram.integer_or("rows", 1, std::int64_t{1} << 30, c.rows);
  count("columns", c.columns, 1 << 20);
  count("bus_width_bits", c.bus_width_bits, 1 << 16);
  count("burst_length", c.burst_length, 1 << 12);
  count("transfers_per_clock", c.transfers_per_clock, 64);
  c.tCK_ps = dram.integer_or("tCK_ps", 1, 1'000'000, c.tCK_ps);
  if (dram.has("request_bytes")) {
    // The controller moves one burst per request; the field only confirms it.
    const std::int64_t bytes = dram.integer("request_bytes", 1, 1 << 20);
    if (bytes != std::int64_t{c.bus_width_bits} * c.burst_length / 8) {
      dram.fail("request_bytes", "bus_width_bits * burst_length / 8 = " +
                                     std::to_string(std::int64_t{c.bus_width_bits} * c.burst_length / 8));
    }
  }
}

}  // namespace

DramConfig read_dram_config(JsonObjectReader& dram) {
  const std::string preset = dram.string("preset");
  auto config = dram_preset(preset);
  if (!config) {
    std::string names;
    for (const auto name : dram_preset_names()) names += (names.empty() ? "" : ", ") + std::string(name);
    dram.fail("preset", "one of " + names);
  }
  DramConfig& c = *config;
  read_organization(dram, c);
  c.refresh = dram.boolean_or("refresh", c.refresh);
  c.refresh_mode =
      read_choice(dram, "refresh_mode", c.refresh_mode, parse_dram_refresh_mode, "one of all_bank, per_bank");
  c.per_bank_refresh_banks =
      static_cast<int>(dram.integer_or("per_bank_refresh_banks", 1, 1024, c.per_bank_refresh_banks));
  c.address_mapping = dram.string_or("address_mapping", c.address_mapping);
  c.interleave_bytes = static_cast<int>(dram.integer_or("interleave_bytes", 1, 1 << 20, c.interleave_bytes));
  c.ideal.bandwidth_gbps = dram.number_or("bandwidth_gbps", 1e-6, 1e6, c.ideal.bandwidth_gbps);
  c.ideal.latency_ns = dram.number_or("latency_ns", 0.0, 1e6, c.ideal.latency_ns);
  if (dram.has("timing")) {
    auto timing = dram.child("timing");
    read_timing(timing, c.timing);
  }
  if (dram.has("controller")) {
    auto controller = dram.child("controller");
    read_controller(controller, c.controller);
  }
  dram.finish();
  if (const std::string problem = validate(c); !problem.empty()) {
    throw InputError(dram.file() + ": " + dram.path() + ": " + problem);
  }
  return c;
}

MemoryConfig read_memory_config(JsonObjectReader& memory) {
  MemoryConfig config;
  config.modeled = true;
  auto sram = memory.child("sram");
  auto ifmap = sram.child("ifmap");
  config.sram.ifmap = read_sram(ifmap, config.sram.ifmap);
  auto weight = sram.child("weight");
  config.sram.weight = read_sram(weight, config.sram.weight);
  auto ofmap = sram.child("ofmap");
  config.sram.ofmap = read_sram(ofmap, config.sram.ofmap);
  sram.finish();
  auto dram = memory.child("dram");
  config.dram = read_dram_config(dram);
  if (memory.has("dma")) {
    auto dma = memory.child("dma");
    config.dma_burst_bytes = dma.integer_or("burst_bytes", 1, 1 << 24, config.dma_burst_bytes);
    dma.finish();
  }
  config.peak_window_ns = memory.integer_or("peak_window_ns", 1, 1'000'000'000, config.peak_window_ns);
  memory.finish();
  return config;
}

nlohmann::ordered_json to_json(const MemoryConfig& memory) {
  const auto sram = [](const SramConfig& s) {
    return nlohmann::ordered_json{{"kb", s.capacity_bytes / 1024},
                                  {"banks", s.banks},
                                  {"word_bytes", s.word_bytes},
                                  {"read_ports", s.read_ports},
                                  {"write_ports", s.write_ports}};
  };
  const DramConfig& d = memory.dram;
  const DramTimingCycles& t = d.timing;
  const DramControllerConfig& k = d.controller;
  return {
      {"sram",
       {{"ifmap", sram(memory.sram.ifmap)}, {"weight", sram(memory.sram.weight)}, {"ofmap", sram(memory.sram.ofmap)}}},
      {"dram",
       {{"preset", d.name},
        {"channels", d.channels},
        {"ranks", d.ranks},
        {"bank_groups", d.bank_groups},
        {"banks_per_group", d.banks_per_group},
        {"rows", d.rows},
        {"columns", d.columns},
        {"bus_width_bits", d.bus_width_bits},
        {"burst_length", d.burst_length},
        {"transfers_per_clock", d.transfers_per_clock},
        {"tCK_ps", d.tCK_ps},
        {"request_bytes", d.burst_bytes()},
        {"refresh", d.refresh},
        {"refresh_mode", to_string(d.refresh_mode)},
        {"per_bank_refresh_banks", d.per_bank_refresh_banks},
        {"address_mapping", d.address_mapping},
        {"interleave_bytes", d.interleave_bytes},
        {"controller",
         {{"scheduler", to_string(k.scheduler)},
          {"row_hit_cap", k.row_hit_cap},
          {"page_policy", to_string(k.page_policy)},
          {"queue_structure", to_string(k.queue_structure)},
          {"transaction_queue_depth", k.transaction_queue_depth},
          {"command_queue_depth", k.command_queue_depth},
          {"write_buffer_depth", k.write_buffer_depth},
          {"write_high_watermark", k.write_high_watermark},
          {"write_low_watermark", k.write_low_watermark},
          {"frontend_latency_cycles", k.frontend_latency_cycles},
          {"commands_per_cycle", k.commands_per_cycle}}},
        {"bandwidth_gbps", d.ideal.bandwidth_gbps},
        {"latency_ns", d.ideal.latency_ns},
        {"timing",
         {{"CL", t.CL},         {"CWL", t.CWL},         {"tRCD", t.tRCD},         {"tRP", t.tRP},
          {"tRAS", t.tRAS},     {"tRC", t.tRC},         {"tWR", t.tWR},           {"tRTP", t.tRTP},
          {"tWTR_S", t.tWTR_S}, {"tWTR_L", t.tWTR_L},   {"tCCD_S", t.tCCD_S},     {"tCCD_L", t.tCCD_L},
          {"tRRD_S", t.tRRD_S}, {"tRRD_L", t.tRRD_L},   {"tFAW", t.tFAW},         {"tRFC", t.tRFC},
          {"tREFI", t.tREFI},   {"tRTRS", t.tRTRS},     {"tPPD", t.tPPD},         {"tDQSS", t.tDQSS},
          {"tRFCpb", t.tRFCpb}, {"tREFIpb", t.tREFIpb}, {"tPBR2PBR", t.tPBR2PBR}, {"tPBR2ACT", t.tPBR2ACT}}}}},
      {"dma", {{"burst_bytes", memory.dma_burst_bytes}}},
      {"peak_window_ns", memory.peak_window_ns},
  };
}

}  // namespace npusim
