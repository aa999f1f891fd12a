// Text rules of Python 3, for reading files written for SCALE-Sim (a Python
// program) the way it reads them: str.strip()'s whitespace, int()'s digits,
// and universal newlines. Shared by the topology CSV reader
// (models/scalesim_csv.h) and the .cfg reader (sim/config/scalesim_cfg.h).
//
// Every function takes valid UTF-8 (the readers check each line first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npusim {

// `text` without the leading and trailing characters Python's str.strip()
// removes: ASCII whitespace and \x1c-\x1f, and U+0085, U+00A0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. (Not U+200B or
// U+FEFF, which Python keeps and int() then refuses.)
std::string_view python_strip(std::string_view text);

// The bytes python_strip() removes from the front of `text`.
std::size_t python_leading_space(std::string_view text);

// int(text) as Python 3 reads a decimal: surrounding whitespace as above, an
// optional sign, ASCII digits, single underscores between digits ("1_024").
// nullopt when Python would refuse it or the value leaves int64. (Python also
// reads other scripts' decimal digits; these are refused here, and named by
// describe_unusual_characters.)
std::optional<std::int64_t> python_int(std::string_view text);

// The lines of `text` as Python's text mode yields them: "\n", "\r\n" and a
// lone "\r" each end a line; the line ends are not kept. No empty last line
// for text that ends with a line end.
std::vector<std::string_view> python_lines(std::string_view text);

// Number of characters (code points) in `text`.
std::size_t count_characters(std::string_view text);

// " (U+00A0 at column 12, U+200B at column 15)" naming each character of
// `text` outside printable ASCII (controls, tabs, every non-ASCII character),
// or "" when there is none; `first_column` is the 1-based character column of
// text's first byte in its line. At most four are named, then "and N more".
// An error quoting a field that looks right to the eye uses it to show why.
std::string describe_unusual_characters(std::string_view text, std::size_t first_column);

}  // namespace npusim
