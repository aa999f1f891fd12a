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
  field("CL", t.CL); field("CWL", t.CWL); field("tRCD", t.tRCD); field("tRP", t.tRP);
  field("tRAS", t.tRAS); field("tRC", t.tRC); field("tWR", t.tWR); field("tRTP", t.tRTP);
  field("tWTR_S", t.tWTR_S); field("tWTR_L", t.tWTR_L); field("tCCD_S", t.tCCD_S);
  field("tCCD_L", t.tCCD_L); field("tRRD_S", t.tRRD_S); field("tRRD_L", t.tRRD_L);
  field("tFAW", t.tFAW); field("tRFC", t.tRFC); field("tREFI", t.tREFI); field("tRTRS", t.tRTRS);
  timing.finish();
}

DramConfig read_dram(JsonObjectReader& dram) {
  const std::string preset = dram.string("preset");
  auto config = dram_preset(preset);
  if (!config) {
    std::string names;
    for (const auto name : dram_preset_names()) names += (names.empty() ? "" : ", ") + std::string(name);
    dram.fail("preset", "one of " + names);
  }
  DramConfig& c = *config;
  c.channels = static_cast<int>(dram.integer_or("channels", 1, 1024, c.channels));
  c.ranks = static_cast<int>(dram.integer_or("ranks", 1, 64, c.ranks));
  c.refresh = dram.boolean_or("refresh", c.refresh);
  c.address_mapping = dram.string_or("address_mapping", c.address_mapping);
  c.interleave_bytes = static_cast<int>(dram.integer_or("interleave_bytes", 1, 1 << 20, c.interleave_bytes));
  c.queue_depth = static_cast<int>(dram.integer_or("queue_depth", 1, 4096, c.queue_depth));
  c.ideal.bandwidth_gbps = dram.number_or("bandwidth_gbps", 1e-6, 1e6, c.ideal.bandwidth_gbps);
  c.ideal.latency_ns = dram.number_or("latency_ns", 0.0, 1e6, c.ideal.latency_ns);
  if (dram.has("timing")) {
    auto timing = dram.child("timing");
    read_timing(timing, c.timing);
  }
  dram.finish();
  if (const std::string problem = validate(c); !problem.empty()) {
    throw InputError(dram.file() + ": " + dram.path() + ": " + problem);
  }
  return c;
}

}  // namespace

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
  config.dram = read_dram(dram);
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
    return nlohmann::ordered_json{{"kb", s.capacity_bytes / 1024}, {"banks", s.banks},
                                  {"word_bytes", s.word_bytes}, {"read_ports", s.read_ports},
                                  {"write_ports", s.write_ports}};
  };
  const DramConfig& d = memory.dram;
  const DramTimingCycles& t = d.timing;
  return {
      {"sram", {{"ifmap", sram(memory.sram.ifmap)}, {"weight", sram(memory.sram.weight)},
                {"ofmap", sram(memory.sram.ofmap)}}},
      {"dram",
       {{"preset", d.name}, {"channels", d.channels}, {"ranks", d.ranks}, {"refresh", d.refresh},
        {"address_mapping", d.address_mapping}, {"interleave_bytes", d.interleave_bytes},
        {"queue_depth", d.queue_depth}, {"bandwidth_gbps", d.ideal.bandwidth_gbps},
        {"latency_ns", d.ideal.latency_ns},
        {"timing",
         {{"CL", t.CL}, {"CWL", t.CWL}, {"tRCD", t.tRCD}, {"tRP", t.tRP}, {"tRAS", t.tRAS},
          {"tRC", t.tRC}, {"tWR", t.tWR}, {"tRTP", t.tRTP}, {"tWTR_S", t.tWTR_S},
          {"tWTR_L", t.tWTR_L}, {"tCCD_S", t.tCCD_S}, {"tCCD_L", t.tCCD_L}, {"tRRD_S", t.tRRD_S},
          {"tRRD_L", t.tRRD_L}, {"tFAW", t.tFAW}, {"tRFC", t.tRFC}, {"tREFI", t.tREFI},
          {"tRTRS", t.tRTRS}}}}},
      {"dma", {{"burst_bytes", memory.dma_burst_bytes}}},
      {"peak_window_ns", memory.peak_window_ns},
  };
}

}  // namespace npusim
