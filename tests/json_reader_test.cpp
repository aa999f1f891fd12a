#include "models/json_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "models/input_error.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

// gtest's own substring predicates (the test binary does not link gmock).
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)
#define EXPECT_NOT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsNotSubstring, part, text)
#define EXPECT_STARTS_WITH(text, prefix) EXPECT_EQ(std::string(text).substr(0, std::string(prefix).size()), prefix)

// The InputError message `action` throws; fails the test when it throws none.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

class JsonFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("npusim_json_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text) {
    const std::string path = (dir_ / "doc.json").string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
};

TEST_F(JsonFiles, MissingFileNamesTheFile) {
  const std::string path = (dir_ / "absent.json").string();
  EXPECT_EQ(error_of([&] { read_json_file(path); }), path + ": cannot open");
}

TEST_F(JsonFiles, SyntaxErrorGivesLineAndColumn) {
  // The bad literal starts on line 3, column 8; the parser stops after "tru,"
  // at column 11, the first character that cannot continue the literal.
  const std::string path = write("{\n  \"a\": 1,\n  \"b\": tru, \"c\": 2\n}\n");
  const std::string message = error_of([&] { read_json_file(path); });
  EXPECT_STARTS_WITH(message, path + ":3:11: invalid JSON: ");
  EXPECT_CONTAINS(message, "invalid literal");
  EXPECT_NOT_CONTAINS(message, "json.exception");
}

TEST_F(JsonFiles, TruncatedDocumentPointsPastTheEnd) {
  const std::string path = write("{\"a\": [1, 2");
  EXPECT_STARTS_WITH(error_of([&] { read_json_file(path); }), path + ":1:12: invalid JSON: ");
}

TEST_F(JsonFiles, NumberBeyondDoubleRangeIsAnInputError) {
  const std::string path = write("{\n  \"clock_mhz\": 1e400\n}");
  EXPECT_EQ(error_of([&] { read_json_file(path); }), path + ":2:16: invalid JSON: number overflow parsing '1e400'");
}

TEST_F(JsonFiles, DuplicateKeysAreErrorsWithTheirPath) {
  const std::string path = write(R"({"array": {"rows": 1, "cols": 2, "rows": 3}})");
  EXPECT_EQ(error_of([&] { read_json_file(path); }), path + ": $.array.rows: expected each key once, got it twice");
  const std::string in_list = write(R"({"l": [{"a": 1}, [0, {"b": 1, "b": 2}]]})");
  EXPECT_EQ(error_of([&] { read_json_file(in_list); }),
            in_list + ": $.l[1][1].b: expected each key once, got it twice");
}

TEST_F(JsonFiles, ReadsAValidDocument) {
  const std::string path = write(R"({"a": [1, {"b": "x"}], "c": {"a": 1}})");
  const auto document = read_json_file(path);
  EXPECT_EQ(document["a"][1]["b"], "x");
  EXPECT_EQ(document["c"]["a"], 1);
}

TEST(JsonObjectReader, RejectsANonObject) {
  const auto node = nlohmann::json::parse("[1, 2]");
  EXPECT_EQ(error_of([&] { JsonObjectReader(node, "cfg.json", "$.array"); }),
            "cfg.json: $.array: expected an object, got [1,2]");
}

TEST(JsonObjectReader, IntegerRejectsFloatsBooleansStringsAndRange) {
  const auto node = nlohmann::json::parse(
      R"({"ok": 7, "half": 3.5, "whole": 3.0, "flag": true, "text": "3", "big": 11,
          "huge": 18446744073709551615, "neg": -2})");
  JsonObjectReader r(node, "cfg.json", "$.a");
  EXPECT_EQ(r.integer("ok", 1, 10), 7);
  EXPECT_EQ(r.integer("neg", -5, 10), -2);
  EXPECT_EQ(error_of([&] { r.integer("half", 1, 10); }), "cfg.json: $.a.half: expected an integer in [1, 10], got 3.5");
  EXPECT_EQ(error_of([&] { r.integer("whole", 1, 10); }),
            "cfg.json: $.a.whole: expected an integer in [1, 10], got 3.0");
  EXPECT_EQ(error_of([&] { r.integer("flag", 0, 10); }),
            "cfg.json: $.a.flag: expected an integer in [0, 10], got true");
  EXPECT_EQ(error_of([&] { r.integer("text", 0, 10); }),
            "cfg.json: $.a.text: expected an integer in [0, 10], got \"3\"");
  EXPECT_EQ(error_of([&] { r.integer("big", 1, 10); }), "cfg.json: $.a.big: expected an integer in [1, 10], got 11");
  EXPECT_EQ(error_of([&] { r.integer("huge", 0, std::numeric_limits<std::int64_t>::max()); }),
            "cfg.json: $.a.huge: expected an integer >= 0, got 18446744073709551615");
  EXPECT_EQ(error_of([&] { r.integer("missing", 1, 10); }),
            "cfg.json: $.a.missing: expected an integer in [1, 10], got nothing (the field is missing)");
}

TEST(JsonObjectReader, NumberAcceptsIntegersAndRejectsNonNumbers) {
  const auto node = nlohmann::json::parse(R"({"i": 2, "f": 0.25, "s": "1", "b": false, "n": null})");
  JsonObjectReader r(node, "cfg.json", "$");
  EXPECT_EQ(r.number("i", 0.0, 1.5e3), 2.0);
  EXPECT_EQ(r.number("f", 0.0, 1.0), 0.25);
  EXPECT_EQ(error_of([&] { r.number("s", 0.0, 1.5); }), "cfg.json: $.s: expected a number in [0, 1.5], got \"1\"");
  EXPECT_EQ(error_of([&] { r.number("b", 0.0, 1.5); }), "cfg.json: $.b: expected a number in [0, 1.5], got false");
  EXPECT_EQ(error_of([&] { r.number("n", 0.1, 1.5); }), "cfg.json: $.n: expected a number in [0.1, 1.5], got null");
  EXPECT_EQ(error_of([&] { r.number("f", 0.5, 1.0); }), "cfg.json: $.f: expected a number in [0.5, 1], got 0.25");
}

TEST(JsonObjectReader, StringBooleanObjectAndListTypes) {
  const auto node = nlohmann::json::parse(R"({"s": "x", "b": true, "o": {}, "l": [], "n": 1})");
  JsonObjectReader r(node, "f.json", "$");
  EXPECT_EQ(r.string("s"), "x");
  EXPECT_TRUE(r.boolean("b"));
  EXPECT_TRUE(r.object("o").empty());
  EXPECT_TRUE(r.array("l").empty());
  EXPECT_EQ(error_of([&] { r.string("n"); }), "f.json: $.n: expected a string, got 1");
  EXPECT_EQ(error_of([&] { r.boolean("s"); }), "f.json: $.s: expected true or false, got \"x\"");
  EXPECT_EQ(error_of([&] { r.object("l"); }), "f.json: $.l: expected an object, got []");
  EXPECT_EQ(error_of([&] { r.array("o"); }), "f.json: $.o: expected a list, got {}");
}

TEST(JsonObjectReader, IntegerListChecksLengthAndElements) {
  const auto node =
      nlohmann::json::parse(R"({"kernel": [3], "ok": [3, 5], "pad": [0, 1, 2], "bad": [1, 2.5], "nested": [[1], 2]})");
  JsonObjectReader r(node, "net.json", "$.layers[2]");
  EXPECT_EQ(error_of([&] { r.integer_list("kernel", 1, 64, 2, 2); }),
            "net.json: $.layers[2].kernel: expected a list of 2 integers in [1, 64], got [3]");
  EXPECT_EQ(r.integer_list("ok", 1, 64, 2, 2), (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(r.integer_list("pad", 0, 4, 2, 4), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(error_of([&] { r.integer_list("pad", 1, 4, 2, 4); }),
            "net.json: $.layers[2].pad: expected a list of 2 to 4 integers in [1, 4], got [0,1,2]");
  EXPECT_EQ(error_of([&] { r.integer_list("bad", 1, 4, 2, 2); }),
            "net.json: $.layers[2].bad: expected a list of 2 integers in [1, 4], got [1,2.5]");
  EXPECT_CONTAINS(error_of([&] { r.integer_list("nested", 1, 4, 2, 2); }),
                  "$.layers[2].nested: expected a list of 2 integers");
}

TEST(JsonObjectReader, OptionalGettersUseTheFallbackOnlyWhenAbsent) {
  const auto node = nlohmann::json::parse(R"({"n": 4, "x": 0.5, "s": "a", "b": false, "wrong": "4"})");
  JsonObjectReader r(node, "f.json", "$");
  EXPECT_EQ(r.integer_or("n", 0, 9, 1), 4);
  EXPECT_EQ(r.integer_or("absent_n", 0, 9, 1), 1);
  EXPECT_EQ(r.number_or("x", 0.0, 1.0, 0.9), 0.5);
  EXPECT_EQ(r.number_or("absent_x", 0.0, 1.0, 0.9), 0.9);
  EXPECT_EQ(r.string_or("s", "z"), "a");
  EXPECT_EQ(r.string_or("absent_s", "z"), "z");
  EXPECT_FALSE(r.boolean_or("b", true));
  EXPECT_TRUE(r.boolean_or("absent_b", true));
  EXPECT_EQ(error_of([&] { r.integer_or("wrong", 0, 9, 1); }),
            "f.json: $.wrong: expected an integer in [0, 9], got \"4\"");
}

TEST(JsonObjectReader, FinishNamesTheUnknownFieldAndTheKnownOnes) {
  const auto node = nlohmann::json::parse(R"({"array": {"rows": 8, "cols": 4, "rowz": 9}})");
  JsonObjectReader root(node, "cfg.json", "$");
  auto array = root.child("array");
  array.integer("rows", 1, 64);
  array.integer("cols", 1, 64);
  EXPECT_FALSE(array.has("dataflow"));
  EXPECT_EQ(error_of([&] { array.finish(); }),
            "cfg.json: $.array.rowz: unknown field (expected one of: cols, dataflow, rows)");
  root.finish();  // "array" was read
}

TEST(JsonObjectReader, FinishPassesWhenEveryKeyWasRead) {
  const auto node = nlohmann::json::parse(R"({"a": 1, "b": {"c": true}})");
  JsonObjectReader r(node, "f.json", "$");
  r.integer("a", 0, 1);
  auto b = r.child("b");
  b.boolean("c");
  b.finish();
  r.finish();
  const auto empty = nlohmann::json::parse(R"({"x": 1})");
  EXPECT_EQ(error_of([&] { JsonObjectReader(empty, "f.json", "$").finish(); }),
            "f.json: $.x: unknown field (expected no fields here)");
}

TEST(JsonObjectReader, ChildErrorsCarryTheNestedPath) {
  const auto node = nlohmann::json::parse(R"({"outer": {"inner": {"x": -1}}, "leaf": 3})");
  JsonObjectReader root(node, "f.json", "$");
  auto inner = root.child("outer").child("inner");
  EXPECT_EQ(inner.path(), "$.outer.inner");
  EXPECT_EQ(inner.file(), "f.json");
  EXPECT_EQ(error_of([&] { inner.integer("x", 0, 5); }),
            "f.json: $.outer.inner.x: expected an integer in [0, 5], got -1");
  EXPECT_EQ(error_of([&] { root.child("leaf"); }), "f.json: $.leaf: expected an object, got 3");
}

TEST(JsonObjectReader, FailReportsTheValueThere) {
  const auto node = nlohmann::json::parse(R"({"dataflow": "diagonal"})");
  JsonObjectReader r(node, "cfg.json", "$.array");
  EXPECT_EQ(error_of([&] { r.fail("dataflow", "one of ws, os, is"); }),
            "cfg.json: $.array.dataflow: expected one of ws, os, is, got \"diagonal\"");
}

TEST(DescribeJson, ShortensLongValues) {
  EXPECT_EQ(describe_json(nlohmann::json("ab")), "\"ab\"");
  const std::string long_text = describe_json(nlohmann::json(std::string(200, 'x')));
  EXPECT_EQ(long_text.size(), 60u);
  EXPECT_EQ(long_text.substr(57), "...");
}

}  // namespace
}  // namespace npusim
