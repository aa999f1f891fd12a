// Writes a whole file or nothing: an interrupted or failed write never leaves a
// file at `path` that looks complete.
#pragma once

#include <string>

namespace npusim {

// Writes `content` to `<path>.tmp`, then renames it to `path`. Throws
// InputError naming the path when the directory is missing or not writable; the
// temporary file is removed on failure.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace npusim
