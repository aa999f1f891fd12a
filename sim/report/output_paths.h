// Checks on a command's output files before any work is done: none may be an
// input or another output (a report written over the network file, or --json
// and --html on one path, silently lost data before), none may be a directory,
// and each must be creatable (found now, not after a long simulation).
#pragma once

#include <string>
#include <vector>

namespace npusim {

struct NamedPath {
  std::string option;  // "--json", "--model", "--trace (trace.json)"
  std::string path;
};

// Throws InputError("<option> <path>: ...") for the first output that is the
// same file as an input or as an earlier output (by inode when it exists, else
// by normalised absolute path), is an existing directory, lies in a missing
// directory, or cannot be created (probed by creating and removing
// "<path>.tmp", the name write_file_atomically writes first).
void check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

// True when `a` and `b` name the same file (or would, once created).
bool same_file(const std::string& a, const std::string& b);

}  // namespace npusim
