// The HTML report: chart geometry derived by hand, and end to end through the
// CLI (`npusim run --html`, `npusim compare --html`): charts by id, one
// roofline point per array layer, one table row per layer, no network
// references, same inputs give the same bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_support.h"
#include "sim/report/svg_chart.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::kSourceDir;
using testing::read_text;

const std::string kConfig = kSourceDir + "/configs/edge_int8_32x32.json";
const std::string kModel = kSourceDir + "/models/zoo/lenet5.json";

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("npusim_html_" + std::to_string(getpid()) + "_" + name);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// The <svg> element with this id, through its closing tag.
std::string svg_by_id(const std::string& html, const std::string& id) {
  const std::size_t start = html.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</svg>", start) + 6 - start);
}

// Every http(s) reference other than the SVG namespace name, which is an
// identifier and never fetched.
std::size_t network_references(std::string html) {
  const std::string xmlns = "http://www.w3.org/2000/svg";
  for (std::size_t at = html.find(xmlns); at != std::string::npos; at = html.find(xmlns, at))
    html.erase(at, xmlns.size());
  return count(html, "http://") + count(html, "https://");
}

TEST(SvgChart, RooflinePointsSitOnLogAxes) {
  // Peak 1000 GMAC/s, 100 GB/s: ridge at 10 MAC/B. x decades: floor(log10 1) - 1 = -1
  // to ceil(log10 10) + 1 = 2, over the 650 px plot from x = 80: intensity 1 sits
  // at 80 + 650 * 1/3 = 296.7. y decades: floor(log10 50) - 1 = 0 to log10 1000 = 3
  // over 230 px from y = 34: 100 GMAC/s sits at 34 + 230 - 230 * 2/3 = 110.7.
  RooflineSpec spec;
  spec.id = "r";
  spec.title = "t";
  spec.peak_gmac_per_s = 1000;
  spec.peak_dram_gbps = 100;
  spec.points = {{"conv<1>", 1.0, 100.0}, {"fc", 0.0, 50.0}};
  const std::string svg = roofline_svg(spec);
  EXPECT_NE(svg.find("<circle class=\"layer-point\" cx=\"296.7\" cy=\"110.7\""), std::string::npos) << svg;
  // No DRAM bytes: drawn at the right edge (80 + 650 - 4), at log10 50 = 1.699 decades.
  EXPECT_NE(svg.find("cx=\"726.0\" cy=\"" + std::string("133.7") + "\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>conv&lt;1&gt;: 1.00 MAC/B, 100.00 GMAC/s</title>"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 2u);
  // The roof bends at the ridge: (10 MAC/B, 1000 GMAC/s) = (80 + 650 * 2/3, 34).
  EXPECT_NE(svg.find(" 513.3,34.0 "), std::string::npos) << svg;
}

TEST(SvgChart, StackedBarsAddUp) {
  // Parts 1 and 3 of a 4-high bar; the axis tops out at 4 (step 1): heights
  // 230/4 and 3 * 230/4, the second stacked on the first.
  BarChartSpec spec;
  spec.id = "b";
  spec.title = "t";
  spec.y_label = "energy (uJ)";
  spec.part_names = {"a", "b"};
  spec.part_colors = {"#111", "#222"};
  spec.item_labels = {"x"};
  spec.item_parts = {{1.0, 3.0}};
  const std::string svg = bar_chart_svg(spec);
  EXPECT_NE(svg.find("y=\"206.5\" width=\"455.0\" height=\"57.5\" fill=\"#111\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("y=\"34.0\" width=\"455.0\" height=\"172.5\" fill=\"#222\""), std::string::npos) << svg;
}

class HtmlRunReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    html_path_ = temp_path("run.html");
    json_path_ = temp_path("run.json");
    const auto r = testing::run_npusim("run --config " + kConfig + " --model " + kModel + " --html " +
                                       html_path_.string() + " --json " + json_path_.string());
    ASSERT_EQ(r.status, 0) << r.out;
    html_ = read_text(html_path_);
    report_ = nlohmann::json::parse(read_text(json_path_));
  }
  static void TearDownTestSuite() {
    fs::remove(html_path_);
    fs::remove(json_path_);
  }
  static inline fs::path html_path_, json_path_;
  static inline std::string html_;
  static inline nlohmann::json report_;
};

TEST_F(HtmlRunReport, HasEveryChart) {
  ASSERT_EQ(html_.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id :
       {"energy-chart", "dram-bandwidth-chart", "sram-bandwidth-chart", "utilization-chart", "roofline-chart"}) {
    const std::string svg = svg_by_id(html_, id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_EQ(svg.find("no memory system modeled"), std::string::npos) << id;
  }
  // Bandwidth: a read and a write line; SRAM: one line per buffer.
  EXPECT_EQ(count(svg_by_id(html_, "dram-bandwidth-chart"), "<polyline class=\"series\""), 2u);
  EXPECT_EQ(count(svg_by_id(html_, "sram-bandwidth-chart"), "<polyline class=\"series\""), 3u);
  EXPECT_EQ(count(svg_by_id(html_, "utilization-chart"), "<polyline class=\"series\""), 1u);
  EXPECT_NE(html_.find("time (us)"), std::string::npos);
  EXPECT_NE(html_.find("bandwidth (GB/s)"), std::string::npos);
  EXPECT_NE(html_.find("MAC/DRAM byte"), std::string::npos);
}

TEST_F(HtmlRunReport, OneRooflinePointPerArrayLayerAndOneRowPerLayer) {
  const auto& layers = report_.at("layers");
  std::size_t array_layers = 0;
  for (const auto& layer : layers) array_layers += layer.at("unit") == "array" ? 1 : 0;
  ASSERT_GT(array_layers, 2u);
  const std::string roofline = svg_by_id(html_, "roofline-chart");
  EXPECT_EQ(count(roofline, "<circle class=\"layer-point\""), array_layers);
  EXPECT_EQ(count(html_, "<circle"), array_layers);
  EXPECT_EQ(count(html_, "<tr class=\"layer-row"), layers.size());
  // Every layer's name is a tooltip or a table cell.
  for (const auto& layer : layers) {
    EXPECT_NE(html_.find("<td>" + layer.at("name").get<std::string>() + "</td>"), std::string::npos);
  }
  // The energy chart: one stacked bar per layer with energy.
  EXPECT_GE(count(svg_by_id(html_, "energy-chart"), "<rect class=\"bar\""), layers.size());
  const std::string total_cycles = std::to_string(report_.at("totals").at("cycles").get<std::int64_t>());
  EXPECT_NE(html_.find("<td class=\"num\">" + total_cycles + "</td>"), std::string::npos);
}

TEST_F(HtmlRunReport, SelfContainedAndDeterministic) {
  EXPECT_EQ(network_references(html_), 0u);
  EXPECT_EQ(html_.find("<script"), std::string::npos);
  EXPECT_EQ(html_.find("<link"), std::string::npos);
  EXPECT_EQ(html_.find("src="), std::string::npos);
  const fs::path again = temp_path("again.html");
  const auto r = testing::run_npusim("run --config " + kConfig + " --model " + kModel + " --html " + again.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(read_text(again), html_);
  fs::remove(again);
}

TEST(HtmlReport, WithoutMemorySystemTheBandwidthChartsSaySo) {
  auto config = nlohmann::json::parse(read_text(kConfig));
  config.erase("memory");
  const fs::path config_path = temp_path("nomem.json"), html_path = temp_path("nomem.html");
  std::ofstream(config_path) << config.dump();
  const auto r = testing::run_npusim("run --config " + config_path.string() + " --model " + kModel + " --html " +
                                     html_path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string html = read_text(html_path);
  for (const char* id : {"dram-bandwidth-chart", "sram-bandwidth-chart"}) {
    const std::string svg = svg_by_id(html, id);
    EXPECT_NE(svg.find("no memory system modeled"), std::string::npos) << id;
    EXPECT_EQ(svg.find("<polyline"), std::string::npos) << id;
  }
  // The array still works in intervals: the utilization chart is drawn.
  EXPECT_EQ(count(svg_by_id(html, "utilization-chart"), "<polyline class=\"series\""), 1u);
  fs::remove(config_path);
  fs::remove(html_path);
}

TEST(HtmlReport, UnwritableDirectoryFailsBeforeTheRun) {
  const auto r =
      testing::run_npusim("run --config " + kConfig + " --model " + kModel + " --html /nonexistent_npusim_dir/r.html");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("--html /nonexistent_npusim_dir/r.html"), std::string::npos) << r.out;
}

TEST(HtmlReport, CompareHasTablesAndFourBarChartsEnergyStacked) {
  const fs::path html_path = temp_path("cmp.html"), json_path = temp_path("cmp.json");
  const auto r =
      testing::run_npusim("compare --config " + kConfig + " --model " + kModel + " --formats int8,int4 --html " +
                          html_path.string() + " --json " + json_path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string html = read_text(html_path);
  for (const char* id : {"compare-latency-chart", "compare-dram-chart", "compare-area-chart"}) {
    EXPECT_EQ(count(svg_by_id(html, id), "<rect class=\"bar\""), 2u) << id;
  }
  // The energy bars are stacked: one rect per design and non-zero component,
  // the components being the energy_*_pj metrics of the same compare's JSON.
  std::size_t nonzero_parts = 0;
  const auto compare_json = nlohmann::json::parse(read_text(json_path));
  for (const auto& design : compare_json.at("designs")) {
    for (const auto& [name, value] : design.at("metrics").items()) {
      if (name.rfind("energy_", 0) == 0 && name.size() > 10 && name.substr(name.size() - 3) == "_pj") {
        nonzero_parts += value.get<double>() > 0 ? 1 : 0;
      }
    }
  }
  EXPECT_GT(nonzero_parts, 2u * 3u);  // MAC, SRAM and DRAM at least, per design
  EXPECT_EQ(count(svg_by_id(html, "compare-energy-chart"), "<rect class=\"bar\""), nonzero_parts);
  EXPECT_NE(svg_by_id(html, "compare-energy-chart").find(">SRAM weight</text>"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"compare-table\">"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"compare-energy-table\">"), std::string::npos);
  fs::remove(json_path);
  EXPECT_NE(html.find("<th>W8A8 32x32</th>"), std::string::npos) << html.substr(0, 3000);
  EXPECT_NE(html.find("latency (us)"), std::string::npos);
  EXPECT_NE(html.find("area (mm2)"), std::string::npos);
  EXPECT_EQ(network_references(html), 0u);
  fs::remove(html_path);
}

}  // namespace
}  // namespace npusim
