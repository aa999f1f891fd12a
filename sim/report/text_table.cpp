#include "sim/report/text_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace npusim {

void print_table(std::ostream& out, const std::vector<TableColumn>& columns,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& column : columns) widths.push_back(column.title.size());
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  const auto print = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
      const std::string pad(widths[c] - cells[c].size(), ' ');
      if (c) line += "  ";
      line += columns[c].numeric ? pad + cells[c] : cells[c] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  std::vector<std::string> titles, rule;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    titles.push_back(columns[c].title);
    rule.push_back(std::string(widths[c], '-'));
  }
  print(titles);
  print(rule);
  for (const auto& row : rows) print(row);
}

std::vector<TableColumn> table_columns(const std::vector<std::string>& titles, std::size_t text_columns) {
  std::vector<TableColumn> columns;
  for (std::size_t c = 0; c < titles.size(); ++c) columns.push_back({titles[c], c >= text_columns});
  return columns;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace npusim
