// models/python_text.h against Python 3's own behaviour, as documented for
// str.strip() / str.isspace(), int() and text-mode universal newlines; each
// expected value is what `python3 -c` prints for the same input.
#include "models/python_text.h"

#include <gtest/gtest.h>

namespace npusim {
namespace {

TEST(PythonText, StripRemovesPythonWhitespaceOnly) {
  // '\t 7\u00a0\u3000'.strip() == '7'; '\u200b7'.strip() == '\u200b7'; '\ufeff7'.strip() == '\ufeff7'.
  EXPECT_EQ(python_strip("\t 7\u00a0\u3000"), "7");
  EXPECT_EQ(python_strip("\x1c\x1f\u2028\u202f7\u2000\u200a\u205f\u1680\u0085"), "7");
  EXPECT_EQ(python_strip("\u200b7"), "\u200b7");
  EXPECT_EQ(python_strip("\ufeff7"), "\ufeff7");
  EXPECT_EQ(python_strip("  "), "");
  EXPECT_EQ(python_leading_space("\u00a0 x "), 3u);  // two bytes of U+00A0 and a space
}

TEST(PythonText, IntReadsWhatPythonReads) {
  // int(' +1_024 ') == 1024, int('007') == 7, int('-3') == -3, int('\u00a09\u00a0') == 9.
  EXPECT_EQ(python_int(" +1_024 "), 1024);
  EXPECT_EQ(python_int("007"), 7);
  EXPECT_EQ(python_int("-3"), -3);
  EXPECT_EQ(python_int("\u00a09\u00a0"), 9);
  EXPECT_EQ(python_int("9223372036854775807"), INT64_MAX);
  // ValueError in Python: '', '1.5', '1e3', '_1', '1_', '1__0', '+-1', '1 2', '0x10', '12\u200b'.
  for (const char* bad : {"", "1.5", "1e3", "_1", "1_", "1__0", "+-1", "1 2", "0x10", "12\u200b", "+"}) {
    EXPECT_FALSE(python_int(bad)) << bad;
  }
  EXPECT_FALSE(python_int("9223372036854775808"));  // valid in Python, past int64 here
}

TEST(PythonText, UniversalNewlines) {
  // 'a\r\nb\rc\n\nd'.splitlines() keeps the empty line; a final newline adds no line.
  const auto lines = python_lines("a\r\nb\rc\n\nd\n");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "b");
  EXPECT_EQ(lines[2], "c");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(lines[4], "d");
  EXPECT_TRUE(python_lines("").empty());
}

TEST(PythonText, NamesUnusualCharactersByColumn) {
  // "1\u00a0024" starting at column 10: U+00A0 is the 2nd character, column 11.
  EXPECT_EQ(describe_unusual_characters("1\u00a0024", 10), " (U+00A0 at column 11)");
  EXPECT_EQ(describe_unusual_characters("a\tb\u200bc", 1), " (U+0009 at column 2, U+200B at column 4)");
  EXPECT_EQ(describe_unusual_characters("plain text", 1), "");
  EXPECT_EQ(describe_unusual_characters("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", 1),
            " (U+00E9 at column 1, U+00E9 at column 2, U+00E9 at column 3, U+00E9 at column 4 and 2 more)");
  EXPECT_EQ(count_characters("a\u00a0\u3000"), 3u);
}

}  // namespace
}  // namespace npusim
