#include "sim/sweep/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include "accel/formats/number_format.h"
#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/json_reader.h"
#include "models/network_json.h"
#include "sim/energy/area_model.h"
#include "sim/energy/run_energy.h"
#include "sim/report/text_table.h"
#include "sim/sweep/sweep_key.h"
#include "sim/sweep/sweep_metrics.h"

namespace npusim {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFormatsAxis = "formats";
constexpr const char* kFormatChoices = "fp32, fp16, bf16, int8, int4, binary";

std::string quoted_key(const std::string& key) { return "[" + nlohmann::json(key).dump() + "]"; }

// Errors name the sweep file and the JSON path inside it.
class SpecContext {
 public:
  explicit SpecContext(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw InputError(file_ + ": " + path + ": " + message);
  }
  std::string resolve(const std::string& relative) const {
    const std::filesystem::path p(relative);
    if (p.is_absolute()) return p.lexically_normal().string();
    return (std::filesystem::path(file_).parent_path() / p).lexically_normal().string();
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

ojson read_ordered(const std::string& path) {
  read_json_file(path);  // its messages for a missing file, a size or depth limit, or a syntax error
  return ojson::parse(read_file_bounded(path, kMaxTextInputBytes, "JSON"));
}

std::string describe(const ojson& value) { return describe_json(nlohmann::json::parse(value.dump())); }

// A dotted --set path: non-empty segments of letters, digits, '_' and '-'.
bool valid_axis_name(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.' && name[i + 1] == '.') return false;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

SweepAxis read_axis(const SpecContext& spec, const std::string& name, const ojson& values, const std::string& path) {
  if (!valid_axis_name(name)) spec.fail(path, "expected a dotted config path such as array.rows as the axis name");
  if (!values.is_array() || values.empty()) {
    spec.fail(path, "expected a non-empty list of values, got " + describe(values));
  }
  SweepAxis axis{name, {}, path};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const ojson& value = values[i];
    if (value.is_null()) spec.fail(path + "[" + std::to_string(i) + "]", "expected a value, got null");
    if (name == kFormatsAxis && !(value.is_string() && parse_number_format(value.get<std::string>()))) {
      spec.fail(path + "[" + std::to_string(i) + "]",
                std::string("expected a format name (") + kFormatChoices + "), got " + describe(value));
    }
    axis.values.push_back(value);
  }
  return axis;
}

std::optional<double> positive_number(const SpecContext& spec, const ojson& object, const std::string& key,
                                      const std::string& path) {
  if (!object.contains(key)) return std::nullopt;
  const ojson& value = object.at(key);
  if (!value.is_number() || !(value.get<double>() > 0)) {
    spec.fail(path + "." + key, "expected a positive number, got " + describe(value));
  }
  return value.get<double>();
}

void check_keys(const SpecContext& spec, const ojson& object, const std::string& path,
                const std::set<std::string>& known) {
  for (const auto& [key, value] : object.items()) {
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      spec.fail(path + "." + key, "unknown key (expected one of " + list + ")");
    }
  }
}

std::vector<SweepObjective> read_objectives(const SpecContext& spec, const ojson& root) {
  if (!root.contains("objectives")) {
    return {{"energy_per_inference_uj", false}, {"latency_us", false}, {"area_mm2", false}};
  }
  const ojson& list = root.at("objectives");
  if (!list.is_array() || list.empty()) spec.fail("$.objectives", "expected a non-empty list of metric names");
  std::vector<SweepObjective> objectives;
  const auto& names = sweep_metric_names();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "$.objectives[" + std::to_string(i) + "]";
    if (!list[i].is_string()) spec.fail(path, "expected a metric name, got " + describe(list[i]));
    std::string text = list[i].get<std::string>();
    SweepObjective objective;
    for (const char* prefix : {"max:", "min:"}) {
      if (text.rfind(prefix, 0) == 0) {
        objective.maximize = std::string(prefix) == "max:";
        text = text.substr(4);
      }
    }
    if (std::find(names.begin(), names.end(), text) == names.end() || text == "bit_exact") {
      std::string choices;
      for (const auto& n : names) {
        if (n != "bit_exact") choices += (choices.empty() ? "" : ", ") + n;
      }
      spec.fail(path, "unknown metric '" + text + "' (expected one of " + choices + ", optionally prefixed max:)");
    }
    objective.metric = text;
    objectives.push_back(objective);
  }
  return objectives;
}

// $.base and $.set; the base config must load with the fixed overrides.
void read_base(const SpecContext& spec, const ojson& root, SweepSpec& result) {
  if (!root.contains("base") || !root.at("base").is_string() || root.at("base").get<std::string>().empty()) {
    spec.fail("$.base", "expected the path of the base accelerator config (relative to the sweep file)");
  }
  result.base_config = spec.resolve(root.at("base").get<std::string>());
  if (root.contains("set")) {
    const ojson& set = root.at("set");
    if (!set.is_object()) spec.fail("$.set", "expected an object of config path: value");
    for (const auto& [key, value] : set.items()) {
      if (!valid_axis_name(key))
        spec.fail("$.set" + quoted_key(key), "expected a dotted config path such as array.rows");
      result.base_set.push_back(set_text(key, value));
      result.base_set_paths.push_back("$.set" + quoted_key(key));
    }
  }
  try {
    load_accelerator_config(result.base_config, result.base_set);
  } catch (const InputError& error) {
    spec.fail("$.base", error.what());
  }
}

std::vector<SweepNetwork> read_networks(const SpecContext& spec, const ojson& root) {
  if (!root.contains("networks") || !root.at("networks").is_array() || root.at("networks").empty()) {
    spec.fail("$.networks", "expected a non-empty list of network files (relative to the sweep file)");
  }
  std::vector<SweepNetwork> networks;
  std::set<std::string> seen_networks;
  for (std::size_t i = 0; i < root.at("networks").size(); ++i) {
    const ojson& entry = root.at("networks")[i];
    const std::string where = "$.networks[" + std::to_string(i) + "]";
    if (!entry.is_string()) spec.fail(where, "expected a network file path, got " + describe(entry));
    SweepNetwork network;
    network.as_written = entry.get<std::string>();
    network.path = spec.resolve(network.as_written);
    if (!seen_networks.insert(network.path).second) spec.fail(where, "network listed twice: " + network.as_written);
    try {
      network.name = load_network_json(network.path).name;
      network.content_hash = file_fnv1a_64(network.path);
    } catch (const InputError& error) {
      spec.fail(where, error.what());
    }
    networks.push_back(network);
  }
  return networks;
}

// $.axes (one dimension each) then $.zip (one dimension per group).
std::vector<SweepDimension> read_dimensions(const SpecContext& spec, const ojson& root) {
  std::vector<SweepDimension> dimensions;
  std::set<std::string> axis_names;
  const auto add_name = [&](const SweepAxis& axis) {
    if (!axis_names.insert(axis.name).second) spec.fail(axis.json_path, "axis '" + axis.name + "' appears twice");
  };
  if (root.contains("axes")) {
    const ojson& axes = root.at("axes");
    if (!axes.is_object()) spec.fail("$.axes", "expected an object of config path: [values]");
    for (const auto& [name, values] : axes.items()) {
      SweepDimension dimension;
      dimension.axes.push_back(read_axis(spec, name, values, "$.axes" + quoted_key(name)));
      add_name(dimension.axes.back());
      dimensions.push_back(dimension);
    }
  }
  if (!root.contains("zip")) return dimensions;
  const ojson& zip = root.at("zip");
  if (!zip.is_array()) spec.fail("$.zip", "expected a list of objects of config path: [values]");
  for (std::size_t g = 0; g < zip.size(); ++g) {
    const std::string group_path = "$.zip[" + std::to_string(g) + "]";
    if (!zip[g].is_object() || zip[g].empty()) {
      spec.fail(group_path, "expected an object of config path: [values] (axes that vary together)");
    }
    SweepDimension dimension;
    for (const auto& [name, values] : zip[g].items()) {
      dimension.axes.push_back(read_axis(spec, name, values, group_path + quoted_key(name)));
      add_name(dimension.axes.back());
      const SweepAxis& first = dimension.axes.front();
      const SweepAxis& last = dimension.axes.back();
      if (last.values.size() != first.values.size()) {
        spec.fail(group_path, "zipped axes need equal lengths: " + first.name + " has " +
                                  std::to_string(first.values.size()) + " values, " + last.name + " has " +
                                  std::to_string(last.values.size()));
      }
    }
    dimensions.push_back(dimension);
  }
  return dimensions;
}

SweepConstraints read_constraints(const SpecContext& spec, const ojson& root) {
  SweepConstraints result;
  if (!root.contains("constraints")) return result;
  const ojson& constraints = root.at("constraints");
  if (!constraints.is_object()) spec.fail("$.constraints", "expected an object");
  check_keys(spec, constraints, "$.constraints", {"max_area_mm2", "max_sram_kb", "max_pes", "min_sqnr_db"});
  result.max_area_mm2 = positive_number(spec, constraints, "max_area_mm2", "$.constraints");
  result.max_sram_kb = positive_number(spec, constraints, "max_sram_kb", "$.constraints");
  if (constraints.contains("max_pes")) {
    const ojson& value = constraints.at("max_pes");
    if (!value.is_number_integer() || value.get<std::int64_t>() < 1) {
      spec.fail("$.constraints.max_pes", "expected a positive integer, got " + describe(value));
    }
    result.max_pes = value.get<std::int64_t>();
  }
  if (constraints.contains("min_sqnr_db")) {
    const ojson& value = constraints.at("min_sqnr_db");
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      spec.fail("$.constraints.min_sqnr_db", "expected a number of dB, got " + describe(value));
    }
    result.min_sqnr_db = value.get<double>();
  }
  return result;
}

std::vector<std::string> read_run_args(const SpecContext& spec, const ojson& root) {
  std::vector<std::string> run_args;
  if (!root.contains("run_args")) return run_args;
  const ojson& args = root.at("run_args");
  if (!args.is_array())
    spec.fail("$.run_args", "expected a list of npusim run options, e.g. [\"--calibration\", \"percentile\"]");
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string where = "$.run_args[" + std::to_string(i) + "]";
    if (!args[i].is_string()) spec.fail(where, "expected a string, got " + describe(args[i]));
    const std::string arg = args[i].get<std::string>();
    for (const char* owned : {"--config", "--model", "--set", "--json", "--html", "--trace"}) {
      if (arg == owned || arg.rfind(std::string(owned) + "=", 0) == 0) {
        spec.fail(where, std::string(owned) + " is set by the sweep itself (use base, networks, set and axes)");
      }
    }
    run_args.push_back(arg);
  }
  return run_args;
}

// A point's axis values and --set overrides from its digit in each dimension;
// `owners` gets the JSON path that wrote each override.
SweepPoint point_from_digits(const SweepSpec& spec, std::size_t network, const std::vector<std::size_t>& digits,
                             std::vector<std::string>& owners) {
  SweepPoint point;
  point.network = network;
  point.values["network"] = spec.networks[network].as_written;
  point.overrides = spec.base_set;
  owners = spec.base_set_paths;
  for (std::size_t d = 0; d < spec.dimensions.size(); ++d) {
    for (const auto& axis : spec.dimensions[d].axes) {
      const ojson& value = axis.values[digits[d]];
      point.values[axis.name] = value;
      const std::string owner = axis.json_path + "[" + std::to_string(digits[d]) + "]";
      if (axis.name == kFormatsAxis) {
        const std::string name = value.get<std::string>();
        const NumberFormat format = *parse_number_format(name);
        for (const std::string& text :
             {"formats.weight=" + name, "formats.activation=" + name,
              "formats.accumulator=" + std::string(to_string(default_accumulator(format, format)))}) {
          point.overrides.push_back(text);
          owners.push_back(owner);
        }
      } else {
        point.overrides.push_back(set_text(axis.name, value));
        owners.push_back(owner);
      }
    }
  }
  return point;
}

// Resolves the point's config; a bad override is reported at the JSON path that wrote it.
void resolve_config(const SpecContext& context, const nlohmann::json& base_document, const std::string& base_config,
                    const std::vector<std::string>& owners, SweepPoint& point) {
  try {
    point.config = parse_accelerator_config(base_document, base_config, point.overrides);
  } catch (const InputError& error) {
    const std::string message = error.what();
    for (std::size_t i = point.overrides.size(); i-- > 0;) {
      if (message.rfind("--set " + point.overrides[i] + ":", 0) == 0) context.fail(owners[i], message);
    }
    context.fail("point " + point.values.dump(), message);
  }
}

// The point's SRAM capacity and area, its technology table loaded once per technology.
void measure_point(const SpecContext& context, std::map<std::string, EnergyTable>& tables, SweepPoint& point) {
  const auto& config = point.config;
  const auto& sram = config.memory.sram;
  point.sram_kb =
      config.memory.modeled
          ? static_cast<double>(sram.ifmap.capacity_bytes + sram.weight.capacity_bytes + sram.ofmap.capacity_bytes) /
                1024.0
          : 0.0;
  auto table = tables.find(config.energy.technology);
  if (table == tables.end()) {
    try {
      table = tables.emplace(config.energy.technology, load_config_energy_table(config)).first;
    } catch (const InputError& error) {
      context.fail("$.base", error.what());
    }
  }
  try {
    point.area_mm2 = compute_area(config.array, capacities_of(sram), table->second).total_mm2;
  } catch (const InputError& error) {
    context.fail("point " + point.values.dump(), error.what());
  }
}

// Why the constraints known before the run drop the point ("" when they keep it).
std::string drop_reason(const SweepConstraints& limits, const SweepPoint& point) {
  const std::int64_t pes = std::int64_t{point.config.array.rows} * point.config.array.cols;
  if (limits.max_area_mm2 && point.area_mm2 > *limits.max_area_mm2) {
    return "area_mm2 " + fixed(point.area_mm2, 4) + " > max_area_mm2 " + fixed(*limits.max_area_mm2, 4);
  }
  if (limits.max_sram_kb && point.sram_kb > *limits.max_sram_kb) {
    return "sram_kb " + fixed(point.sram_kb, 1) + " > max_sram_kb " + fixed(*limits.max_sram_kb, 1);
  }
  if (limits.max_pes && pes > *limits.max_pes) {
    return "pes " + std::to_string(pes) + " > max_pes " + std::to_string(*limits.max_pes);
  }
  return "";
}

}  // namespace

std::string set_text(const std::string& path, const nlohmann::ordered_json& value) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    // "ddr4-3200" stays a string; a string that reads as JSON ("64", "true")
    // is passed quoted so --set keeps it a string.
    const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return path + "=" + text;
  }
  return path + "=" + value.dump();
}

namespace {

// "run_args": ["--values", "off"] times the points only (docs/cli.md#values-off-timing-only):
// they have no SQNR, so a floor or an objective on it is an error rather than
// a filter that every point passes (a null SQNR otherwise means infinite).
void check_values_off(const SpecContext& spec, const SweepSpec& result) {
  const auto& args = result.run_args;
  bool off = std::find(args.begin(), args.end(), "--values=off") != args.end();
  for (std::size_t i = 0; i + 1 < args.size(); ++i) off = off || (args[i] == "--values" && args[i + 1] == "off");
  if (!off) return;
  if (result.constraints.min_sqnr_db) {
    spec.fail("$.constraints.min_sqnr_db",
              "needs tensor values, but $.run_args has --values off (no SQNR is measured)");
  }
  for (std::size_t i = 0; i < result.objectives.size(); ++i) {
    if (result.objectives[i].metric == "network_sqnr_db" || result.objectives[i].metric == "bit_exact") {
      spec.fail("$.objectives[" + std::to_string(i) + "]",
                result.objectives[i].metric + " needs tensor values, but $.run_args has --values off");
    }
  }
}

}  // namespace

SweepSpec load_sweep_spec(const std::string& path) {
  const SpecContext spec(path);
  const ojson root = read_ordered(path);
  if (!root.is_object()) spec.fail("$", "expected an object with base, networks and axes");
  check_keys(spec, root, "$",
             {"format_version", "name", "description", "base", "set", "networks", "axes", "zip", "constraints",
              "objectives", "timeout_s", "run_args"});
  if (root.contains("format_version") && root.at("format_version") != 1) {
    spec.fail("$.format_version", "expected 1 (the only sweep format this npusim reads)");
  }
  SweepSpec result;
  result.file = path;
  read_base(spec, root, result);
  result.networks = read_networks(spec, root);
  result.dimensions = read_dimensions(spec, root);
  result.constraints = read_constraints(spec, root);
  result.objectives = read_objectives(spec, root);
  result.timeout_s = positive_number(spec, root, "timeout_s", "$");
  result.run_args = read_run_args(spec, root);
  check_values_off(spec, result);
  return result;
}

SweepPlan expand_sweep(const SweepSpec& spec) {
  const SpecContext context(spec.file);
  const nlohmann::json base_document = read_config_document(spec.base_config);
  std::map<std::string, EnergyTable> tables;  // by technology: loading one reads a file
  std::unordered_map<std::string, std::size_t> key_owner;
  SweepPlan plan;

  // Counted (overflow-checked) before any point is expanded or validated:
  // a million-point sweep spent minutes validating before it could fail.
  std::size_t combinations = 1;
  std::size_t points = spec.networks.size();
  for (const auto& dimension : spec.dimensions) {
    if (__builtin_mul_overflow(combinations, dimension.size(), &combinations) ||
        __builtin_mul_overflow(points, dimension.size(), &points) || points > kMaxSweepPoints) {
      context.fail("$.axes", "the sweep has over " + std::to_string(kMaxSweepPoints) +
                                 " points (networks x axis values); split it into several sweeps");
    }
  }

  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    for (std::size_t combination = 0; combination < combinations; ++combination) {
      // Mixed-radix digits, the last dimension fastest.
      std::vector<std::size_t> digits(spec.dimensions.size());
      std::size_t rest = combination;
      for (std::size_t d = spec.dimensions.size(); d-- > 0;) {
        digits[d] = rest % spec.dimensions[d].size();
        rest /= spec.dimensions[d].size();
      }
      std::vector<std::string> owners;
      SweepPoint point = point_from_digits(spec, n, digits, owners);
      resolve_config(context, base_document, spec.base_config, owners, point);
      measure_point(context, tables, point);
      const std::string reason = drop_reason(spec.constraints, point);
      if (!reason.empty()) {
        plan.dropped.push_back({point.values, reason});
        continue;
      }
      point.key = point_key(
          point_identity(point.config, spec.networks[n].as_written, spec.networks[n].content_hash, spec.run_args));
      point.index = plan.points.size();
      const auto [owner, fresh] = key_owner.emplace(point.key, point.index);
      if (!fresh) {
        context.fail("point " + point.values.dump(), "resolves to the same config as point " +
                                                         plan.points[owner->second].values.dump() +
                                                         " (two axes set the same field?)");
      }
      plan.points.push_back(std::move(point));
    }
  }
  return plan;
}

}  // namespace npusim
