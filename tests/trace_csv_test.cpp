// CSV timeline: header names with units, one row per window with bytes and
// GB/s worked out by hand, the truncation sidecar, determinism, unwritable path.
#include <gtest/gtest.h>

#include <unistd.h>
#include "temp_dir_test_support.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "traces/csv_timeline_writer.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

TraceEvents sample_events() {
  TraceEvents e;
  e.buffer_names = {"weight"};
  e.dram_channel_count = 1;
  // ifmap traffic over [0, 1500) ps: 2/3 in window 0, 1/3 in window 1.
  e.buffer_windows.push_back({"ifmap", 0, 1500, 3000, 300});
  // A 900 B load over [500, 2000): 1/3 in window 0 (300 B), 2/3 in window 1 (600 B).
  e.transfers.push_back({"dram", "ifmap", "ifmap", "conv1", 900, 500, 2000, false});
  e.dram_commands.push_back({0, 0, 1, 2, 5, DramCommandKind::act, 2100, 0});
  e.dram_commands.push_back({0, 0, 1, 2, 5, DramCommandKind::rd, 2400, 64});
  e.dram_commands.push_back({0, 0, 1, 2, 5, DramCommandKind::wr, 2900, 32});
  return e;
}

std::string render(const TraceEvents& events, std::int64_t window_ps = 1000) {
  std::ostringstream out;
  write_csv_timeline(events, out, CsvTimelineOptions{window_ps});
  return out.str();
}

TEST(CsvTimelineWriter, HeaderCarriesUnitsAndRowsHoldHandComputedBytesAndRates) {
  // 1000 ps windows: B bytes in one window = B * 1000 / 1000 = B GB/s.
  const std::string expected =
      "window_start_us,"
      "ifmap_read_bytes,ifmap_read_gbps,ifmap_write_bytes,ifmap_write_gbps,"
      "weight_read_bytes,weight_read_gbps,weight_write_bytes,weight_write_gbps,"
      "dma_read_bytes,dma_read_gbps,dma_write_bytes,dma_write_gbps,"
      "dram_ch0_read_bytes,dram_ch0_read_gbps,dram_ch0_write_bytes,dram_ch0_write_gbps\n"
      "0,2000,2000,200,200,0,0,0,0,300,300,0,0,0,0,0,0\n"
      "0.001,1000,1000,100,100,0,0,0,0,600,600,0,0,0,0,0,0\n"
      "0.002,0,0,0,0,0,0,0,0,0,0,0,0,64,64,32,32\n";
  EXPECT_EQ(render(sample_events()), expected);
}

TEST(CsvTimelineWriter, RatesFollowTheWindowLength) {
  // One 3000 ps window: ifmap 3000 B read = 1000 GB/s, 300 B written = 100 GB/s;
  // the load 900 B = 300 GB/s; RD 64 B = 64000/3000 GB/s.
  const std::string csv = render(sample_events(), 3000);
  std::istringstream lines(csv);
  std::string header, row, extra;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_FALSE(std::getline(lines, extra)) << "one window only";
  std::istringstream cells(row);
  std::vector<std::string> v;
  for (std::string cell; std::getline(cells, cell, ',');) v.push_back(cell);
  ASSERT_EQ(v.size(), 17u);
  EXPECT_EQ(v[0], "0");
  EXPECT_EQ(v[1], "3000");
  EXPECT_EQ(v[2], "1000");
  EXPECT_EQ(v[3], "300");
  EXPECT_EQ(v[4], "100");
  EXPECT_EQ(v[9], "900");
  EXPECT_EQ(v[10], "300");
  EXPECT_EQ(v[13], "64");
  EXPECT_EQ(std::stod(v[14]), 64 * 1000.0 / 3000);  // shortest form, read back exactly
  EXPECT_EQ(v[15], "32");
}

TEST(CsvTimelineWriter, EmptyTraceIsAHeaderOnly) {
  TraceEvents events;
  events.buffer_names = {"ofmap"};
  EXPECT_EQ(render(events),
            "window_start_us,ofmap_read_bytes,ofmap_read_gbps,ofmap_write_bytes,ofmap_write_gbps,"
            "dma_read_bytes,dma_read_gbps,dma_write_bytes,dma_write_gbps\n");
}

class CsvTimelineFile : public npusim::testing::TempDirTest {};

TEST_F(CsvTimelineFile, SameEventsSameBytes) {
  write_csv_timeline(sample_events(), (dir_ / "a.csv").string(), CsvTimelineOptions{1000});
  write_csv_timeline(sample_events(), (dir_ / "b.csv").string(), CsvTimelineOptions{1000});
  EXPECT_EQ(slurp(dir_ / "a.csv"), render(sample_events()));
  EXPECT_EQ(slurp(dir_ / "a.csv"), slurp(dir_ / "b.csv"));
  EXPECT_FALSE(fs::exists(dir_ / "a.csv.tmp"));
}

// pandas.read_csv reads the file as it is: the truncation note goes beside it,
// and a later complete trace into the same place removes the stale note.
TEST_F(CsvTimelineFile, TruncationNoteGoesToASidecarNotIntoTheData) {
  TraceEvents events = sample_events();
  events.truncated = true;
  events.max_events = 5;
  const std::string path = (dir_ / "timeline.csv").string();
  EXPECT_EQ(timeline_note_path(path), (dir_ / "timeline.truncated.txt").string());
  write_csv_timeline(events, path, CsvTimelineOptions{1000});
  EXPECT_EQ(slurp(path), render(sample_events()));
  EXPECT_EQ(slurp(dir_ / "timeline.truncated.txt"), "trace truncated at 5 events (limit --trace-max-events)\n");
  write_csv_timeline(sample_events(), path, CsvTimelineOptions{1000});
  EXPECT_FALSE(fs::exists(dir_ / "timeline.truncated.txt"));
}

TEST_F(CsvTimelineFile, UnwritablePathIsAnErrorNamingIt) {
  std::ofstream(dir_ / "plain_file") << "x";
  const std::string path = (dir_ / "plain_file" / "timeline.csv").string();
  try {
    write_csv_timeline(sample_events(), path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npusim
