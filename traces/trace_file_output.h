// Where trace files go and how they are written: the directory is checked
// before the simulation starts, and each file appears whole or not at all.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace npusim {

// Creates `dir` (and its parents) when missing and proves it writable by
// creating and removing a probe file. Throws std::runtime_error whose one-line
// message names the directory and the reason. Call it before the simulation
// starts so a bad --trace DIR fails at once.
void check_trace_directory(const std::string& dir);

// Streams `write` into `<path>.tmp`, then renames it to `path` (every report
// and trace file is written this way). Throws
// std::runtime_error naming the path when the file cannot be opened, written
// or renamed; the temporary file is removed on any failure, including an
// exception thrown by `write`.
void write_trace_file(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace npusim
