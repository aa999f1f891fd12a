// The HTML report in a real browser: Debian's chromium, headless, loads the
// page with no console errors, the charts are in the DOM after load, and a
// screenshot of it is far from blank. Chromium is a test dependency
// (scripts/install_deps.sh): without it this test fails rather than skips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::kSourceDir;
using testing::read_text;

constexpr const char* kChromium = "/usr/bin/chromium";

struct Browser {
  int status = -1;
  std::string out;  // stdout
};

// Runs headless chromium with a fresh profile, nothing fetched in the
// background; stderr (the console log) goes to `log`.
Browser chromium(const std::string& args, const fs::path& profile, const fs::path& log) {
  const std::string command = std::string(kChromium) +
                              " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                              " --disable-background-networking --disable-component-update --disable-sync"
                              " --user-data-dir=" +
                              profile.string() + " " + args + " 2>" + log.string();
  Browser b;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) b.out += buffer;
  b.status = pclose(pipe);
  return b;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

TEST(HtmlBrowser, ChromiumLoadsTheReportAndDrawsTheCharts) {
  ASSERT_TRUE(fs::exists(kChromium)) << kChromium
                                     << " is missing: run scripts/install_deps.sh (CI installs Debian's chromium)";
  const fs::path dir = fs::temp_directory_path() / ("npusim_browser_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path html = dir / "report.html";
  const auto r = testing::run_npusim("run --config " + kSourceDir + "/configs/edge_int8_32x32.json --model " +
                                     kSourceDir + "/models/zoo/lenet5.json --html " + html.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string url = "file://" + html.string();

  // The DOM after load, with the console on stderr.
  const Browser dom = chromium("--enable-logging=stderr --v=0 --dump-dom " + url, dir / "profile-dom", dir / "dom.log");
  ASSERT_EQ(dom.status, 0) << read_text(dir / "dom.log");
  for (const char* id :
       {"energy-chart", "dram-bandwidth-chart", "sram-bandwidth-chart", "utilization-chart", "roofline-chart"}) {
    EXPECT_NE(dom.out.find("id=\"" + std::string(id) + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(count(dom.out, "<circle"), count(read_text(html), "<circle"));
  EXPECT_GT(count(dom.out, "<circle"), 2u);
  EXPECT_GT(count(dom.out, "<polyline class=\"series\""), 5u);
  const std::string console = read_text(dir / "dom.log");
  EXPECT_EQ(console.find("Uncaught"), std::string::npos) << console;
  EXPECT_EQ(console.find("ERROR:CONSOLE"), std::string::npos) << console;

  // Screenshots of the report and of an empty page of the same size: charts,
  // tables and text compress far worse than a white page.
  const fs::path blank_html = dir / "blank.html";
  {
    std::FILE* f = std::fopen(blank_html.c_str(), "w");
    std::fputs("<!DOCTYPE html><html><body></body></html>", f);
    std::fclose(f);
  }
  const fs::path shot = dir / "report.png", blank_shot = dir / "blank.png";
  const std::string size = " --window-size=1200,3000 --hide-scrollbars ";
  const Browser s1 = chromium("--screenshot=" + shot.string() + size + url, dir / "profile-shot", dir / "shot.log");
  ASSERT_EQ(s1.status, 0) << read_text(dir / "shot.log");
  const Browser s2 = chromium("--screenshot=" + blank_shot.string() + size + "file://" + blank_html.string(),
                              dir / "profile-blank", dir / "blank.log");
  ASSERT_EQ(s2.status, 0) << read_text(dir / "blank.log");
  ASSERT_TRUE(fs::exists(shot)) << read_text(dir / "shot.log");
  ASSERT_TRUE(fs::exists(blank_shot)) << read_text(dir / "blank.log");
  const std::string png = read_text(shot);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_GT(fs::file_size(shot), 10 * fs::file_size(blank_shot))
      << "report " << fs::file_size(shot) << " bytes, blank " << fs::file_size(blank_shot) << " bytes";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace npusim
