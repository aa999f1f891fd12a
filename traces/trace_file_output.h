// Where trace files go and how they are written: the directory is checked
// before the simulation starts, and each file appears whole or not at all.
#pragma once

#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>

namespace npusim {

// A trace or report file that cannot be created, written (a full disk) or
// read back: the user's output location is at fault, not npusim, so the
// commands report it as bad input (exit 1) naming the file.
struct TraceFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Removes what a killed traced run left in `dir`: spill directories
// ".npusim-spill-<pid>" of processes that no longer run, and, when no live
// run owns a spill directory there, the "<name>.tmp" temporaries of the trace
// files. Called by each traced run before it writes into `dir`.
void remove_stale_trace_temporaries(const std::string& dir);

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
