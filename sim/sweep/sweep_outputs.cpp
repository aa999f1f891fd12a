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

std::vector<bool> sweep_pareto_flags(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results) {
  std::vector<bool> flags(plan.points.size(), false);
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    std::vector<std::size_t> members;
    std::vector<std::vector<double>> vectors;
    for (const auto& point : plan.points) {
      const ojson* result = result_of(results, point);
      if (point.network != n || !result || result->value("status", "") != "ok") continue;
      std::vector<double> v;
      for (const auto& objective : spec.objectives) {
        const double value = number_or_nan(result->value("metrics", ojson()), objective.metric);
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

SweepOutputs write_sweep_outputs(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results,
                                 const std::filesystem::path& dir) {
  SweepOutputs outputs;
  SweepTally& tally = outputs.tally;
  const std::vector<bool> pareto = sweep_pareto_flags(spec, plan, results);
  std::set<std::string> plan_keys;
  for (const auto& point : plan.points) plan_keys.insert(point.key);
  for (const auto& [key, line] : results.by_key) tally.stale += plan_keys.count(key) ? 0 : 1;

  std::vector<std::string> axis_names;
  for (const auto& dimension : spec.dimensions) {
    for (const auto& axis : dimension.axes) axis_names.push_back(axis.name);
  }
  const auto& metric_names = sweep_metric_names();
  std::string jsonl;
  std::string csv = "index,key,network";
  for (const auto& name : axis_names) csv += "," + csv_field(name);
  csv += ",format,array_rows,array_cols,sram_kb,status,pareto";
  for (const auto& name : metric_names) csv += "," + name;
  csv += ",error\n";

  // Per network: the plot points and the front.
  std::vector<std::vector<SweepPlotPoint>> plot_points(spec.networks.size());
  std::vector<ojson> fronts(spec.networks.size(), ojson::array());
  for (const auto& point : plan.points) {
    const ojson* result = result_of(results, point);
    if (!result) {
      ++tally.missing;
      continue;
    }
    const std::string status = result->value("status", "");
    if (status == "ok") ++tally.ok;
    else if (status == "timeout") ++tally.timeout;
    else ++tally.failed;
    const bool on_front = pareto[point.index];
    tally.pareto += on_front ? 1 : 0;
    const ojson metrics = result->value("metrics", ojson());
    const ojson error = result->value("error", ojson());

    ojson line;
    line["index"] = point.index;
    line["key"] = point.key;
    line["point"] = point.values;
    line["status"] = status;
    line["error"] = error;
    line["metrics"] = metrics;
    line["pareto"] = on_front;
    jsonl += line.dump() + "\n";

    const auto& config = point.config;
    csv += std::to_string(point.index) + "," + point.key + "," + csv_field(spec.networks[point.network].as_written);
    for (const auto& name : axis_names) csv += "," + cell(point.values.value(name, ojson()));
    csv += "," + csv_field(config.array.mac.label()) + "," + std::to_string(config.array.rows) + "," +
           std::to_string(config.array.cols) + "," + ojson(point.sram_kb).dump() + "," + status + "," +
           (on_front ? "true" : "false");
    for (const auto& name : metric_names) {
      csv += "," + (metrics.is_object() && metrics.contains(name) ? cell(metrics.at(name)) : std::string());
    }
    csv += "," + cell(error) + "\n";

    if (status == "ok") {
      SweepPlotPoint p;
      p.format = config.array.mac.label();
      p.rows = config.array.rows;
      p.cols = config.array.cols;
      p.latency_us = number_or_nan(metrics, "latency_us");
      p.energy_uj = number_or_nan(metrics, "energy_per_inference_uj");
      p.pareto = on_front;
      p.label = point_label(point.values);
      plot_points[point.network].push_back(p);
    }
    if (on_front) {
      ojson objectives;
      for (const auto& objective : spec.objectives) objectives[objective.metric] = metrics.value(objective.metric, ojson());
      fronts[point.network].push_back(
          {{"index", point.index}, {"key", point.key}, {"point", point.values}, {"objectives", objectives}});
    }
  }

  const auto write = [&](const std::string& name, const std::string& content) {
    write_file_atomically((dir / name).string(), content);
    outputs.files.push_back((dir / name).string());
  };
  write("merged.jsonl", jsonl);
  write("results.csv", csv);

  ojson pareto_json;
  pareto_json["schema"] = "npusim.sweep-pareto/1";
  ojson objective_names = ojson::array();
  for (const auto& objective : spec.objectives) {
    objective_names.push_back(objective.maximize ? "max:" + objective.metric : objective.metric);
  }
  pareto_json["objectives"] = objective_names;
  pareto_json["definition"] =
      "minimise each objective (max: ones are maximised); a point is on the front when no other ok point of the "
      "same network is no worse in every objective and strictly better in at least one";
  ojson networks = ojson::array();
  std::vector<std::string> plot_names;
  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    networks.push_back({{"network", spec.networks[n].as_written}, {"name", spec.networks[n].name}, {"front", fronts[n]}});
    std::string name = file_safe(spec.networks[n].name);
    for (const auto& used : plot_names) {
      if (used == name) name += "_" + std::to_string(n);
    }
    plot_names.push_back(name);
  }
  pareto_json["networks"] = networks;
  write("pareto.json", pareto_json.dump(2) + "\n");

  std::string dropped;
  for (const auto& d : plan.dropped) dropped += ojson{{"point", d.values}, {"reason", d.reason}}.dump() + "\n";
  write("dropped.jsonl", dropped);

  for (std::size_t n = 0; n < spec.networks.size(); ++n) {
    const std::string& net = spec.networks[n].name;
    write("energy_vs_latency_" + plot_names[n] + ".svg",
          energy_latency_svg(net + ": energy vs latency by format (ringed: Pareto front)", plot_points[n]));
    write("energy_vs_array_" + plot_names[n] + ".svg",
          metric_vs_array_svg(net + ": energy per inference vs array size", plot_points[n], true));
    write("latency_vs_array_" + plot_names[n] + ".svg",
          metric_vs_array_svg(net + ": latency vs array size", plot_points[n], false));
  }
  return outputs;
}

}  // namespace npusim
