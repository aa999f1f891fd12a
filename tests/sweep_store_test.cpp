// The results store: which line counts per key, partial lines from a killed
// writer, the append lock.
#include <gtest/gtest.h>

#include <fstream>

#include "models/input_error.h"
#include "sim/sweep/sweep_store.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

using ojson = nlohmann::ordered_json;

class SweepStoreTest : public testing::TempDirTest {
 protected:
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
};

TEST_F(SweepStoreTest, ShardFileNames) {
  EXPECT_EQ(shard_results_file(0, 4), "results.shard-0-of-4.jsonl");
  EXPECT_EQ(shard_results_file(11, 12), "results.shard-11-of-12.jsonl");
}

TEST_F(SweepStoreTest, OkWinsOverFailedAndLaterWinsOtherwiseAcrossFiles) {
  write("results.jsonl",
        "{\"key\":\"a\",\"status\":\"ok\",\"metrics\":{\"x\":1}}\n"
        "{\"key\":\"b\",\"status\":\"failed\",\"error\":\"first\"}\n"
        "{\"key\":\"c\",\"status\":\"timeout\"}\n");
  write("results.shard-0-of-2.jsonl",
        "{\"key\":\"a\",\"status\":\"failed\",\"error\":\"retry broke\"}\n"
        "{\"key\":\"b\",\"status\":\"failed\",\"error\":\"second\"}\n"
        "{\"key\":\"c\",\"status\":\"ok\"}\n");
  write("other.jsonl", "{\"key\":\"z\",\"status\":\"ok\"}\n");  // not a results file
  const StoredResults r = read_results(dir_);
  EXPECT_EQ(r.lines, 6u);
  ASSERT_EQ(r.by_key.size(), 3u);
  EXPECT_EQ(r.by_key.at("a")["status"], "ok");
  EXPECT_EQ(r.by_key.at("b")["error"], "second");
  EXPECT_EQ(r.by_key.at("c")["status"], "ok");
  EXPECT_TRUE(r.notes.empty());
}

TEST_F(SweepStoreTest, PartialLastLineIsIgnoredWithANoteAndCutBeforeAppending) {
  write("results.jsonl", "{\"key\":\"a\",\"status\":\"ok\"}\n{\"key\":\"b\",\"sta");
  const StoredResults before = read_results(dir_);
  EXPECT_EQ(before.by_key.size(), 1u);
  ASSERT_EQ(before.notes.size(), 1u);
  EXPECT_NE(before.notes[0].find("partial last line"), std::string::npos);
  {
    ResultsAppender appender((dir_ / "results.jsonl").string());
    EXPECT_NE(appender.note().find("cut a partial last line"), std::string::npos);
    appender.append(ojson{{"key", "b"}, {"status", "ok"}});
  }
  EXPECT_EQ(slurp(dir_ / "results.jsonl"), "{\"key\":\"a\",\"status\":\"ok\"}\n{\"key\":\"b\",\"status\":\"ok\"}\n");
  const StoredResults after = read_results(dir_);
  EXPECT_EQ(after.by_key.size(), 2u);
  EXPECT_TRUE(after.notes.empty());
}

TEST_F(SweepStoreTest, AGarbledLineInTheMiddleIsSkippedAndNamed) {
  write("results.jsonl", "{\"key\":\"a\",\"status\":\"ok\"}\nnot json\n{\"key\":\"b\",\"status\":\"ok\"}\n");
  const StoredResults r = read_results(dir_);
  EXPECT_EQ(r.by_key.size(), 2u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("results.jsonl:2"), std::string::npos);
}

TEST_F(SweepStoreTest, OneWriterPerFile) {
  ResultsAppender first((dir_ / "results.jsonl").string());
  EXPECT_TRUE(first.note().empty());
  try {
    ResultsAppender second((dir_ / "results.jsonl").string());
    FAIL() << "a second appender got the lock";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("another npusim sweep"), std::string::npos);
  }
  EXPECT_TRUE(read_results(dir_ / "missing").by_key.empty());
}

}  // namespace
}  // namespace npusim
