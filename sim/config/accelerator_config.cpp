#include "sim/config/accelerator_config.h"

#include <optional>
#include <string_view>

#include "accel/formats/number_format.h"
#include "models/input_error.h"
#include "models/json_reader.h"
#include "sim/config/scalesim_cfg.h"
#include "sim/config/set_override.h"

namespace npusim {
namespace {

constexpr std::int64_t kFormatVersion = 1;
constexpr std::int64_t kMaxArrayDim = 4096;
constexpr double kMaxClockMhz = 100000.0;
constexpr std::int64_t kMaxLanes = 1024;
constexpr std::int64_t kMaxPpuElementsPerCycle = 1 << 20;

// Reads an enumerated string field through `parse` (parse_dataflow ...).
template <typename Parse>
auto read_enum(JsonObjectReader& reader, const std::string& key, const std::optional<std::string>& fallback,
               Parse parse, const char* choices) {
  const std::string text = fallback ? reader.string_or(key, *fallback) : reader.string(key);
  const auto value = parse(text);
  if (!value) reader.fail(key, std::string("one of ") + choices);
  return *value;
}

MacFormat read_formats(JsonObjectReader& formats) {
  MacFormat mac;
  mac.weight = read_enum(formats, "weight", std::nullopt, parse_number_format, "fp32, fp16, bf16, int8, int4, binary");
  mac.activation =
      read_enum(formats, "activation", std::nullopt, parse_number_format, "fp32, fp16, bf16, int8, int4, binary");
  const std::string fallback(to_string(default_accumulator(mac.weight, mac.activation)));
  mac.accumulator = read_enum(formats, "accumulator", fallback, parse_accumulator_format, "int32, fp32, fp16");
  formats.finish();
  return mac;
}

AcceleratorConfig read_config(const nlohmann::json& document, const std::string& file) {
  JsonObjectReader root(document, file, "$");
  if (!root.has("format_version")) root.fail("format_version", "the integer 1");
  if (root.integer("format_version", 0, 1 << 30) != kFormatVersion) {
    root.fail("format_version", "1 (the only config format this npusim reads)");
  }

  AcceleratorConfig config;
  config.name = root.string("name");
  if (config.name.empty()) root.fail("name", "a non-empty string");
  config.description = root.string_or("description", "");
  // The reader's ranges are closed; a clock of 0 MHz must fail, so check first.
  const auto clock = document.find("clock_mhz");
  if (clock == document.end() || !clock->is_number() || !(clock->get<double>() > 0.0) ||
      !(clock->get<double>() <= kMaxClockMhz)) {
    root.fail("clock_mhz", "a number in (0, 100000]");
  }
  config.clock_mhz = root.number("clock_mhz", 0.0, kMaxClockMhz);

  auto array = root.child("array");
  config.array.rows = static_cast<int>(array.integer("rows", 1, kMaxArrayDim));
  config.array.cols = static_cast<int>(array.integer("cols", 1, kMaxArrayDim));
  config.array.dataflow = read_enum(array, "dataflow", std::nullopt, parse_dataflow, "ws, os, is");
  const int lanes = static_cast<int>(array.integer_or("lanes", 1, kMaxLanes, 1));
  config.array.timing =
      read_enum(array, "timing", std::string("overlapped"), parse_timing_convention, "overlapped, scalesim");
  config.fidelity = read_enum(array, "fidelity", std::string("tile"), parse_fidelity, "tile, pe");
  array.finish();

  auto formats = root.child("formats");
  config.array.mac = read_formats(formats);
  config.array.mac.lanes = lanes;
  if (const auto problem = validate(config.array.mac)) {
    throw InputError(file + ": $.formats: " + *problem);
  }

  if (root.has("ppu")) {
    auto ppu = root.child("ppu");
    config.ppu.elements_per_cycle = static_cast<int>(
        ppu.integer_or("elements_per_cycle", 1, kMaxPpuElementsPerCycle, config.ppu.elements_per_cycle));
    ppu.finish();
  }
  if (root.has("memory")) {
    auto memory = root.child("memory");
    config.memory = read_memory_config(memory);
  }
  config.energy.config_file = file;
  if (root.has("energy")) {
    auto energy = root.child("energy");
    config.energy.technology = energy.string_or("technology", config.energy.technology);
    config.energy.idle_pe_dynamic_fraction =
        energy.number_or("idle_pe_dynamic_fraction", 0.0, 1.0, config.energy.idle_pe_dynamic_fraction);
    config.energy.ideal_dram_type = energy.string_or("ideal_dram_type", config.energy.ideal_dram_type);
    energy.finish();
  }
  root.finish();
  return config;
}

}  // namespace

AcceleratorConfig parse_accelerator_config(nlohmann::json document, const std::string& file,
                                           const std::vector<std::string>& set_overrides) {
  if (!document.is_object()) {
    // Throws the reader's own "expected an object" message, before overrides index it.
    JsonObjectReader not_an_object(document, file, "$");
  }
  std::vector<SetOverride> overrides;
  for (const auto& text : set_overrides) {
    overrides.push_back(parse_set_override(text));
    apply_set_override(document, overrides.back());
  }
  try {
    return read_config(document, file);
  } catch (const InputError& error) {
    const std::string message = error.what();
    // The last override of a path is the one that took effect.
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
      if (message_concerns_path(message, it->json_path())) {
        throw InputError("--set " + it->text + ": " + message);
      }
    }
    throw;
  }
}

nlohmann::json read_config_document(const std::string& path) {
  return is_scalesim_cfg_path(path) ? read_scalesim_cfg(path).document : read_json_file(path);
}

AcceleratorConfig load_accelerator_config(const std::string& path, const std::vector<std::string>& set_overrides) {
  if (!is_scalesim_cfg_path(path)) return parse_accelerator_config(read_json_file(path), path, set_overrides);
  const TranslatedConfig cfg = read_scalesim_cfg(path);
  try {
    return parse_accelerator_config(cfg.document, path, set_overrides);
  } catch (const InputError& error) {
    throw InputError(locate_in_cfg(error.what(), path, cfg.origins));
  }
}

namespace {

// The array, formats and PPU part of the config.
nlohmann::ordered_json core_json(const AcceleratorConfig& config) {
  const auto& mac = config.array.mac;
  return {
      {"format_version", kFormatVersion},
      {"name", config.name},
      {"description", config.description},
      {"clock_mhz", config.clock_mhz},
      {"array",
       {{"rows", config.array.rows},
        {"cols", config.array.cols},
        {"dataflow", std::string(to_string(config.array.dataflow))},
        {"lanes", mac.lanes},
        {"timing", std::string(to_string(config.array.timing))},
        {"fidelity", std::string(to_string(config.fidelity))}}},
      {"formats",
       {{"weight", std::string(to_string(mac.weight))},
        {"activation", std::string(to_string(mac.activation))},
        {"accumulator", std::string(to_string(mac.accumulator))}}},
      {"ppu", {{"elements_per_cycle", config.ppu.elements_per_cycle}}},
  };
}

}  // namespace

nlohmann::ordered_json to_json(const AcceleratorConfig& config) {
  nlohmann::ordered_json json = core_json(config);
  if (config.memory.modeled) json["memory"] = to_json(config.memory);
  json["energy"] = {{"technology", config.energy.technology},
                    {"idle_pe_dynamic_fraction", config.energy.idle_pe_dynamic_fraction},
                    {"ideal_dram_type", config.energy.ideal_dram_type}};
  return json;
}

}  // namespace npusim
