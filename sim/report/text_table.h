// Plain-text tables and fixed-precision numbers for the human reports.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace npusim {

struct TableColumn {
  std::string title;
  bool numeric = true;  // numbers align right, text left
};

// A header, a rule of dashes, then the rows; columns two spaces apart, no
// trailing spaces.
void print_table(std::ostream& out, const std::vector<TableColumn>& columns,
                 const std::vector<std::vector<std::string>>& rows);

// Columns titled `titles`, the first `text_columns` of them left-aligned text.
std::vector<TableColumn> table_columns(const std::vector<std::string>& titles, std::size_t text_columns);

// "%.*f": the text form of a number in a table.
std::string fixed(double value, int decimals);
// The value rounded to `decimals`, so a JSON report does not depend on the
// last bits of a division.
double rounded(double value, int decimals);

}  // namespace npusim
