#include "sim/sweep/sweep_outputs.h"

#include <cmath>
#include <limits>
#include <set>

#include "sim/report/atomic_file.h"
#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_pareto.h"
#include "sim/sweep/sweep_plots.h"

namespace npusim {
namespace {

using ojson = nlohmann::ordered_json;

const ojson* result_of(const StoredResults& results, const SweepPoint& point) {
  const auto it = results.by_key.find(point.key);
  return it == results.by_key.end() ? nullptr : &it->second;
}

std::string cell(const ojson& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return csv_field(value.get<std::string>());
  return value.dump();
}

double number_or_nan(const ojson& metrics, const std::string& name) {
  if (!metrics.is_object() || !metrics.contains(name)) return std::numeric_limits<double>::quiet_NaN();
  const ojson& value = metrics.at(name);
  if (value.is_number()) return value.get<double>();
  if (value.is_null() && name == "network_sqnr_db") return std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

std::string file_safe(const std::string& name) {
  std::string safe;
  for (const char c : name) {
    safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  }
  return safe.empty() ? "network" : safe;
}

std::string point_label(const ojson& values) {
  std::string label;
  for (const auto& [name, value] : values.items()) {
    if (name == "network") continue;
    label += (label.empty() ? "" : " ") + name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return label.empty() ? "base config" : label;
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

namespace {

// Under the spec's SQNR floor; an SQNR not measured counts as under it.
bool below_min_sqnr(const SweepSpec& spec, const ojson& metrics) {
  if (!spec.constraints.min_sqnr_db) return false;
  const double db = number_or_nan(metrics, "network_sqnr_db");  // null: infinite
  return std::isnan(db) || db < *spec.constraints.min_sqnr_db;
}

}  // namespace

std::vector<bool> sweep_pareto_flags(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results) {
  std::vector<bool> flags(plan.points.size(), false);
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    std::vector<std::size_t> members;
    std::vector<std::vector<double>> vectors;
    for (const auto& point : plan.points) {
      const ojson* result = result_of(results, point);
      if (point.network != n || !result || result->value("status", "") != "ok") continue;
      const ojson metrics = result->value("metrics", ojson());
      if (below_min_sqnr(spec, metrics)) continue;
      std::vector<double> v;
      for (const auto& objective : spec.objectives) {
        const double value = number_or_nan(metrics, objective.metric);
        v.push_back(objective.maximize ? -value : value);
      }
      members.push_back(point.index);
      vectors.push_back(v);
    }
    const std::vector<bool> front = pareto_front(vectors);
    for (std::size_t i = 0; i < members.size(); ++i) flags[members[i]] = front[i];
  }
  return flags;
}

namespace {

// What the outputs hold, gathered in one pass over the plan's points.
struct SweepTables {
  std::string jsonl, csv;
  std::vector<std::vector<SweepPlotPoint>> plot_points;  // per network
  std::vector<ojson> fronts;                             // per network
};

std::vector<std::string> axis_names_of(const SweepSpec& spec) {
  std::vector<std::string> names;
  for (const auto& dimension : spec.dimensions) {
    for (const auto& axis : dimension.axes) names.push_back(axis.name);
  }
  return names;
}

std::string csv_header(const std::vector<std::string>& axis_names) {
  std::string csv = "index,key,network";
  for (const auto& name : axis_names) csv += "," + csv_field(name);
  csv += ",format,array_rows,array_cols,sram_kb,status,pareto";
  for (const auto& name : sweep_metric_names()) csv += "," + name;
  return csv + ",error,below_min_sqnr\n";
}

std::string csv_row(const SweepSpec& spec, const SweepPoint& point, const std::vector<std::string>& axis_names,
                    const ojson& line) {
  const auto& config = point.config;
  const ojson& metrics = line["metrics"];
  std::string csv =
      std::to_string(point.index) + "," + point.key + "," + csv_field(spec.networks[point.network].as_written);
  for (const auto& name : axis_names) csv += "," + cell(point.values.value(name, ojson()));
  csv += "," + csv_field(config.array.mac.label()) + "," + std::to_string(config.array.rows) + "," +
         std::to_string(config.array.cols) + "," + ojson(point.sram_kb).dump() + "," +
         line["status"].get<std::string>() + "," + (line["pareto"].get<bool>() ? "true" : "false");
  for (const auto& name : sweep_metric_names()) {
    csv += "," + (metrics.is_object() && metrics.contains(name) ? cell(metrics.at(name)) : std::string());
  }
  return csv + "," + cell(line["error"]) + "," + (line["below_min_sqnr"].get<bool>() ? "true" : "false") + "\n";
}

void count_status(SweepTally& tally, const std::string& status) {
  if (status == "ok")
    ++tally.ok;
  else if (status == "timeout")
    ++tally.timeout;
  else
    ++tally.failed;
}

SweepTables tabulate(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results, SweepTally& tally) {
  const std::vector<bool> pareto = sweep_pareto_flags(spec, plan, results);
  const std::vector<std::string> axis_names = axis_names_of(spec);
  SweepTables tables;
  tables.csv = csv_header(axis_names);
  tables.plot_points.resize(spec.networks.size());
  tables.fronts.assign(spec.networks.size(), ojson::array());
  for (const auto& point : plan.points) {
    const ojson* result = result_of(results, point);
    if (!result) {
      ++tally.missing;
      continue;
    }
    const std::string status = result->value("status", "");
    count_status(tally, status);
    const bool on_front = pareto[point.index];
    const ojson metrics = result->value("metrics", ojson());
    const bool below = status == "ok" && below_min_sqnr(spec, metrics);
    tally.pareto += on_front ? 1 : 0;
    tally.below_min_sqnr += below ? 1 : 0;
    ojson line;
    line["index"] = point.index;
    line["key"] = point.key;
    line["point"] = point.values;
    line["status"] = status;
    line["error"] = result->value("error", ojson());
    line["metrics"] = metrics;
    line["pareto"] = on_front;
    line["below_min_sqnr"] = below;
    tables.jsonl += line.dump() + "\n";
    tables.csv += csv_row(spec, point, axis_names, line);
    if (status == "ok") {
      SweepPlotPoint p;
      p.format = point.config.array.mac.label();
      p.rows = point.config.array.rows;
      p.cols = point.config.array.cols;
      p.latency_us = number_or_nan(metrics, "latency_us");
      p.energy_uj = number_or_nan(metrics, "energy_per_inference_uj");
      p.below_sqnr_floor = below;
      p.label = point_label(point.values);
      tables.plot_points[point.network].push_back(p);
    }
    if (on_front) {
      ojson objectives;
      for (const auto& objective : spec.objectives)
        objectives[objective.metric] = metrics.value(objective.metric, ojson());
      tables.fronts[point.network].push_back(
          {{"index", point.index}, {"key", point.key}, {"point", point.values}, {"objectives", objectives}});
    }
  }
  return tables;
}

std::string pareto_json_text(const SweepSpec& spec, const std::vector<ojson>& fronts) {
  ojson pareto_json;
  pareto_json["schema"] = "npusim.sweep-pareto/1";
  ojson objective_names = ojson::array();
  for (const auto& objective : spec.objectives) {
    objective_names.push_back(objective.maximize ? "max:" + objective.metric : objective.metric);
  }
  pareto_json["objectives"] = objective_names;
  std::string definition =
      "minimise each objective (max: ones are maximised); a point is on the front when no other ok point of the "
      "same network is no worse in every objective and strictly better in at least one";
  if (spec.constraints.min_sqnr_db) {
    pareto_json["min_sqnr_db"] = *spec.constraints.min_sqnr_db;
    definition += "; points with network_sqnr_db below min_sqnr_db take no part";
  }
  pareto_json["definition"] = definition;
  ojson networks = ojson::array();
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    networks.push_back(
        {{"network", spec.networks[n].as_written}, {"name", spec.networks[n].name}, {"front", fronts[n]}});
  }
  pareto_json["networks"] = networks;
  return pareto_json.dump(2) + "\n";
}

// File-safe network names, made distinct.
std::vector<std::string> plot_names_of(const SweepSpec& spec) {
  std::vector<std::string> plot_names;
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    std::string name = file_safe(spec.networks[n].name);
    for (const auto& used : plot_names) {
      if (used == name) name += "_" + std::to_string(n);
    }
    plot_names.push_back(name);
  }
  return plot_names;
}

}  // namespace

SweepOutputs write_sweep_outputs(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results,
                                 const std::filesystem::path& dir) {
  SweepOutputs outputs;
  SweepTally& tally = outputs.tally;
  std::set<std::string> plan_keys;
  for (const auto& point : plan.points) plan_keys.insert(point.key);
  for (const auto& [key, line] : results.by_key) tally.stale += plan_keys.count(key) ? 0 : 1;
  const SweepTables tables = tabulate(spec, plan, results, tally);

  const auto write = [&](const std::string& name, const std::string& content) {
    write_file_atomically((dir / name).string(), content);
    outputs.files.push_back((dir / name).string());
  };
  write("merged.jsonl", tables.jsonl);
  write("results.csv", tables.csv);
  write("pareto.json", pareto_json_text(spec, tables.fronts));
  std::string dropped;
  for (const auto& d : plan.dropped) dropped += ojson{{"point", d.values}, {"reason", d.reason}}.dump() + "\n";
  write("dropped.jsonl", dropped);

  const std::vector<std::string> plot_names = plot_names_of(spec);
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    const std::string& net = spec.networks[n].name;
    const auto& points = tables.plot_points[n];
    write("energy_vs_latency_" + plot_names[n] + ".svg",
          energy_latency_svg(net + ": energy vs latency by format (ringed: Pareto front of the two)", points));
    write("energy_vs_array_" + plot_names[n] + ".svg",
          metric_vs_array_svg(net + ": energy per inference vs array size", points, true));
    write("latency_vs_array_" + plot_names[n] + ".svg",
          metric_vs_array_svg(net + ": latency vs array size", points, false));
  }
  return outputs;
}

}  // namespace npusim
