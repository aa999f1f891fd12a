#include "sim/commands/compare_command.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "models/input_error.h"
#include "models/model_loader.h"
#include "sim/commands/resource_estimate.h"
#include "sim/commands/run_command.h"
#include "sim/commands/simulation.h"
#include "sim/config/accelerator_config.h"
#include "sim/report/atomic_file.h"
#include "sim/report/html_report.h"
#include "sim/report/output_paths.h"
#include "sim/report/report.h"
#include "sim/report/report_energy.h"
#include "sim/report/text_table.h"
#include "sim/run/memory_system.h"

namespace npusim {
namespace {

struct Design {
  std::string label;
  AcceleratorConfig config;
  Simulation sim;
  RunTotals totals;
  std::int64_t dram_bytes = 0;
};

// The largest square array of this design's formats and buffers within the area.
int array_side_for_area(const AcceleratorConfig& config, const EnergyTable& table, double area_mm2,
                        const std::string& file) {
  const auto area_of = [&](int side) {
    ArrayConfig array = config.array;
    array.rows = array.cols = side;
    return compute_area(array, capacities_of(config.memory.sram), table).total_mm2;
  };
  if (area_of(1) > area_mm2) {
    throw InputError(file + ": --iso-area " + fixed(area_mm2, 4) + " mm2 is smaller than a 1x1 " +
                     config.array.mac.label() + " array with its buffers (" + fixed(area_of(1), 4) + " mm2)");
  }
  int lo = 1, hi = 4096;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (area_of(mid) <= area_mm2)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

std::vector<std::pair<std::string, std::vector<std::string>>> design_list(const CompareOptions& options) {
  std::vector<std::pair<std::string, std::vector<std::string>>> designs;  // config path, overrides
  if (options.formats.empty()) {
    for (const auto& path : options.config_paths) designs.push_back({path, options.set_overrides});
    return designs;
  }
  for (const auto& format : options.formats) {
    const auto parsed = parse_number_format(format);
    if (!parsed) {
      throw InputError("--formats: unknown format '" + format + "' (expected fp32, fp16, bf16, int8, int4, binary)");
    }
    auto overrides = options.set_overrides;
    overrides.push_back("formats.weight=" + format);
    overrides.push_back("formats.activation=" + format);
    overrides.push_back("formats.accumulator=" + std::string(to_string(default_accumulator(*parsed, *parsed))));
    designs.push_back({options.config_paths.front(), overrides});
  }
  return designs;
}

std::string ratio(double value, double base) {
  if (base == 0.0) return value == 0.0 ? "1.00x" : "-";
  return fixed(value / base, 2) + "x";
}

// One network on one design: build it from its config, simulate, summarize.
Design simulate_design(const std::string& path, const std::vector<std::string>& overrides,
                       const CompareOptions& options, const std::vector<LoadedModel>& models,
                       const std::string& model_name, std::ostream& progress) {
  Design d;
  d.config = load_accelerator_config(path, overrides);
  if (d.config.fidelity == Fidelity::pe) {
    throw InputError(path + ": $.array.fidelity: compare runs every design in one process, so it needs tile fidelity");
  }
  const EnergyTable table = load_config_energy_table(d.config);
  if (options.iso_area_mm2) {
    const int side = array_side_for_area(d.config, table, *options.iso_area_mm2, path);
    d.config.array.rows = d.config.array.cols = side;
  }
  if (options.values == Values::on) {  // the estimate prices values: a timing run holds none
    std::vector<const Graph*> graphs;
    for (const LoadedModel& model : models) graphs.push_back(&model.graph);
    ResourceOptions resources;
    resources.quantization = options.quantization;
    resources.max_memory_bytes = options.max_memory_mb << 20;
    check_resources(d.config, graphs, resources);
  }
  for (const LoadedModel& model : models) {
    check_memory_fits(d.config, model.graph, path);
    if (const auto mismatch = file_quantization_mismatch(d.config, model)) {
      throw InputError(options.model_path + ": " + *mismatch + " (design " + path + ")");
    }
  }
  if (options.show_progress) {
    progress << "npusim: simulating " << d.config.name << " (" << d.config.array.mac.label() << ")" << std::endl;
  }
  auto engine = make_engine(d.config);
  d.sim = simulate_all(d.config, models, model_name, *engine, table, options.quantization, {}, nullptr, nullptr,
                       SimulationMode{options.values, Check::full});
  d.totals = summarize(RunReport{d.config, d.sim.qgraph.graph, d.sim.run, d.sim.checks, &d.sim.metrics, &d.sim.energy,
                                 options.values, d.sim.check});
  for (const auto& layer : d.sim.run.layers) {
    if (layer.memory) d.dram_bytes += layer.memory->dram_read_bytes + layer.memory->dram_write_bytes;
  }
  d.label = (options.formats.empty() ? d.config.name + " " : std::string()) + d.config.array.mac.label() + " " +
            std::to_string(d.config.array.rows) + "x" + std::to_string(d.config.array.cols);
  return d;
}

// One metric across the designs. decimals 0: an integer count, printed and
// written as one.
struct Row {
  std::string name;
  std::vector<double> values;
  int decimals;
};

template <typename Get>
Row metric(const std::vector<Design>& designs, std::string name, int decimals, Get get) {
  Row row{std::move(name), {}, decimals};
  for (const auto& d : designs) row.values.push_back(get(d));
  return row;
}

std::vector<Row> summary_rows(const std::vector<Design>& designs) {
  const auto& ds = designs;
  return {
      metric(ds, "latency_us", 3, [](const Design& d) { return d.totals.latency_us; }),
      metric(ds, "cycles", 0, [](const Design& d) { return static_cast<double>(d.totals.cycles); }),
      metric(ds, "energy_uj", 3, [](const Design& d) { return d.sim.energy.total.total_pj / 1e6; }),
      metric(ds, "pj_per_mac", 3, [](const Design& d) { return d.sim.energy.pj_per_mac; }),
      metric(ds, "compute_pj_per_mac", 3, [](const Design& d) { return d.sim.energy.compute_pj_per_mac; }),
      metric(ds, "dram_bytes", 0, [](const Design& d) { return static_cast<double>(d.dram_bytes); }),
      metric(ds, "area_mm2", 4, [](const Design& d) { return d.sim.energy.area.total_mm2; }),
      metric(ds, "average_power_mw", 2, [](const Design& d) { return d.sim.energy.average_power_mw; }),
      metric(ds, "tops_per_w", 3, [](const Design& d) { return d.sim.energy.tops_per_watt; }),
      metric(ds, "inferences_per_s", 1, [](const Design& d) { return d.sim.energy.inferences_per_s; }),
      metric(ds, "utilization_pct", 2, [](const Design& d) { return 100.0 * d.totals.utilization; }),
  };
}

// energy_<component>_pj per design, the run report's breakdown; they sum to energy_uj x 1e6.
std::vector<Row> breakdown_rows(const std::vector<Design>& designs) {
  std::vector<Row> rows;
  for (const EnergyPart& part : energy_parts()) {
    rows.push_back(metric(designs, std::string("energy_") + part.key, 1,
                          [&](const Design& d) { return d.sim.energy.total.*part.pj; }));
  }
  return rows;
}

std::string sqnr_cell(double db, double base, bool with_delta) {
  std::string cell = std::isinf(db) ? std::string(db > 0 ? "inf" : "-inf") : fixed(db, 1);
  if (with_delta && std::isfinite(db) && std::isfinite(base)) cell += " (" + fixed(db - base, 1) + " dB)";
  return cell;
}

// The printed table, header row first: each row's values with ratios against the first design.
std::vector<std::vector<std::string>> summary_table(const std::vector<Design>& designs, const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> table{{"metric"}};
  for (const auto& d : designs) table[0].push_back(d.label);
  for (const auto& row : rows) {
    std::vector<std::string> line{row.name};
    for (std::size_t c = 0; c < designs.size(); ++c) {
      std::string cell = fixed(row.values[c], row.decimals);
      if (c > 0) cell += " (" + ratio(row.values[c], row.values[0]) + ")";
      line.push_back(cell);
    }
    table.push_back(line);
  }
  const bool values = designs[0].sim.values == Values::on;
  std::vector<std::string> sqnr{"network_sqnr_db"};
  const double base = designs[0].sim.metrics.network_sqnr_db;
  for (std::size_t c = 0; c < designs.size(); ++c) {
    sqnr.push_back(values ? sqnr_cell(designs[c].sim.metrics.network_sqnr_db, base, c > 0) : "-");
  }
  table.push_back(sqnr);
  std::vector<std::string> check{"check"};
  for (const auto& d : designs) {
    check.push_back(!values ? "- (values off)" : d.totals.layers_mismatched == 0 ? "bit-exact" : "MISMATCH");
  }
  table.push_back(check);
  return table;
}

// The breakdown group, header row first: pJ and the share of the design's energy.
std::vector<std::vector<std::string>> breakdown_table(const std::vector<Design>& designs,
                                                      const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> table{{"energy_component"}};
  for (const auto& d : designs) table[0].push_back(d.label);
  for (const auto& row : rows) {
    std::vector<std::string> line{row.name};
    for (std::size_t c = 0; c < designs.size(); ++c) {
      const double total = designs[c].sim.energy.total.total_pj;
      line.push_back(fixed(row.values[c], 1) + " (" + fixed(total > 0 ? 100.0 * row.values[c] / total : 0.0, 1) + "%)");
    }
    table.push_back(line);
  }
  return table;
}

void print_with_header(std::ostream& out, const std::vector<std::vector<std::string>>& table) {
  const std::vector<std::vector<std::string>> body(table.begin() + 1, table.end());
  print_table(out, table_columns(table[0], 1), body);
}

nlohmann::ordered_json row_value(const Row& row, std::size_t design) {
  if (row.decimals == 0) return static_cast<std::int64_t>(std::llround(row.values[design]));
  return rounded(row.values[design], 6);
}

std::string csv_value(const Row& row, std::size_t design) {
  return fixed(row.values[design], row.decimals == 0 ? 0 : 6);
}

struct CompareModel {
  std::string name;
  std::int64_t macs = 0;
  std::size_t scalesim_rows = 1;
};

void write_compare_json(const std::string& path, const CompareOptions& options, const CompareModel& model,
                        const std::vector<Design>& designs, const std::vector<Row>& rows) {
  nlohmann::ordered_json json;
  json["schema"] = "npusim.compare/1";
  json["values"] = to_string(options.values);
  json["model"] = {{"name", model.name}, {"macs", model.macs}};
  if (model.scalesim_rows > 1) json["model"]["scalesim_rows"] = model.scalesim_rows;
  if (options.iso_area_mm2) json["iso_area_mm2"] = *options.iso_area_mm2;
  auto list = nlohmann::ordered_json::array();
  for (std::size_t c = 0; c < designs.size(); ++c) {
    const Design& d = designs[c];
    nlohmann::ordered_json entry;
    entry["label"] = d.label;
    entry["config"] = to_json(d.config);
    nlohmann::ordered_json metrics;
    for (const auto& row : rows) metrics[row.name] = row_value(row, c);
    const double db = d.sim.metrics.network_sqnr_db;
    const bool values = options.values == Values::on;
    metrics["network_sqnr_db"] =
        values && std::isfinite(db) ? nlohmann::ordered_json(rounded(db, 4)) : nlohmann::ordered_json(nullptr);
    metrics["bit_exact"] =
        values ? nlohmann::ordered_json(d.totals.layers_mismatched == 0) : nlohmann::ordered_json(nullptr);
    entry["metrics"] = metrics;
    entry["quantization"] = quantization_json(d.sim, options.quantization);
    list.push_back(entry);
  }
  json["designs"] = list;
  write_file_atomically(path, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void write_compare_csv(const std::string& path, const std::vector<Design>& designs, const std::vector<Row>& rows) {
  std::string csv = "design";
  for (const auto& row : rows) csv += "," + row.name;
  csv += ",network_sqnr_db,bit_exact\n";
  for (std::size_t c = 0; c < designs.size(); ++c) {
    csv += designs[c].label;
    for (const auto& row : rows) {
      csv += ',';
      csv += csv_value(row, c);
    }
    const double db = designs[c].sim.metrics.network_sqnr_db;
    csv += ',';
    if (designs[c].sim.values == Values::off) {  // values off: no SQNR, no check
      csv += ",\n";
      continue;
    }
    if (std::isfinite(db)) csv += fixed(db, 4);
    csv += designs[c].totals.layers_mismatched == 0 ? ",true\n" : ",false\n";
  }
  write_file_atomically(path, csv);
}

CompareHtml compare_html(const std::string& title, const std::vector<Design>& designs,
                         std::vector<std::vector<std::string>> table,
                         std::vector<std::vector<std::string>> energy_table) {
  CompareHtml html;
  html.title = title;
  html.table = std::move(table);
  html.energy_table = std::move(energy_table);
  for (const EnergyPart& part : energy_parts()) html.energy_part_names.push_back(part.label);
  for (const auto& d : designs) {
    html.design_labels.push_back(d.label);
    std::vector<double> parts_uj;
    for (const EnergyPart& part : energy_parts()) parts_uj.push_back(d.sim.energy.total.*part.pj / 1e6);
    html.energy_parts_uj.push_back(parts_uj);
    html.latency_us.push_back(d.totals.latency_us);
    html.dram_bytes.push_back(static_cast<double>(d.dram_bytes));
    html.area_mm2.push_back(d.sim.energy.area.total_mm2);
  }
  return html;
}

}  // namespace

int compare_command(const CompareOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.config_paths.empty()) throw InputError("compare needs at least one --config");
  if (!options.formats.empty() && options.config_paths.size() > 1) {
    throw InputError("--formats varies one config: give exactly one --config with it");
  }
  if (options.values == Values::off) {
    const QuantizationOptions d;
    const QuantizationOptions& q = options.quantization;
    if (q.method != d.method || q.percentile != d.percentile || q.per_channel != d.per_channel ||
        q.calibration_samples != d.calibration_samples) {
      throw InputError(
          "the calibration options need tensor values, but --values is off (nothing is calibrated); "
          "drop one of them");
    }
  }
  const std::vector<LoadedModel> models =
      load_models_checked(options.model_path, options.quantization, {}, options.values, options.model_load);
  {
    // Before any design is simulated: no output over an input or another output, each creatable.
    std::vector<NamedPath> inputs{{"--model", options.model_path}};
    for (const auto& path : options.config_paths) inputs.push_back({"--config", path});
    std::vector<NamedPath> outputs;
    if (options.json_path) outputs.push_back({"--json", *options.json_path});
    if (options.csv_path) outputs.push_back({"--csv", *options.csv_path});
    if (options.html_path) outputs.push_back({"--html", *options.html_path});
    check_output_paths(inputs, outputs);
  }
  // A SCALE-Sim CSV: its rows run one after another as one network (simulate_all()).
  CompareModel model;
  model.name =
      models.size() == 1 ? models.front().graph.name : std::filesystem::path(options.model_path).stem().string();
  model.scalesim_rows = models.size();
  for (const LoadedModel& m : models) model.macs += m.graph.total_macs();

  std::vector<Design> designs;
  for (const auto& [path, overrides] : design_list(options)) {
    designs.push_back(simulate_design(path, overrides, options, models, model.name, progress));
  }

  std::vector<Row> rows = summary_rows(designs);
  const std::vector<Row> breakdown = breakdown_rows(designs);
  const auto table = summary_table(designs, rows);
  const auto energy_table = breakdown_table(designs, breakdown);
  const std::string title =
      "npusim compare: " + model.name + " (" + std::to_string(model.macs) + " MACs), ratios against the first column";
  out << title << "\n\n";
  print_with_header(out, table);
  out << "\nenergy breakdown, pJ (share of the design's energy):\n\n";
  print_with_header(out, energy_table);
  out.flush();

  rows.insert(rows.end(), breakdown.begin(), breakdown.end());
  if (options.json_path) write_compare_json(*options.json_path, options, model, designs, rows);
  if (options.csv_path) write_compare_csv(*options.csv_path, designs, rows);
  if (options.html_path) write_compare_html(*options.html_path, compare_html(title, designs, table, energy_table));
  for (const auto& d : designs) {
    if (d.totals.layers_mismatched != 0) return kRunMismatch;
  }
  return kRunOk;
}

}  // namespace npusim
