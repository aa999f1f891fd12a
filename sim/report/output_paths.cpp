#include "sim/report/output_paths.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "models/input_error.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

std::string normalised(const std::string& path) {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(path, error), error);
  return error ? fs::absolute(path).lexically_normal().string() : canonical.string();
}

// Creates and removes `<path>.tmp`: permission bits do not tell (root ignores
// them, a read-only mount does not show in them), only creating a file does.
void probe_writable(const NamedPath& output) {
  const std::string probe = output.path + ".tmp";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return;  // a stale temporary of ours: the atomic write replaces it
    throw InputError(output.option + " " + output.path + ": cannot create the file (" + std::strerror(errno) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  if (fs::exists(a, error) && fs::exists(b, error)) return fs::equivalent(a, b, error) && !error;
  return normalised(a) == normalised(b);
}

void check_output_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    for (const NamedPath& in : inputs) {
      if (same_file(out.path, in.path)) {
        throw InputError(out.option + " " + out.path + ": is the input " + in.option +
                         " (refusing to overwrite an input; choose another output path)");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (same_file(out.path, outputs[j].path)) {
        throw InputError(out.option + " " + out.path + ": is also the output of " + outputs[j].option +
                         " (one would replace the other; choose distinct paths)");
      }
    }
    std::error_code error;
    if (fs::is_directory(out.path, error)) {
      throw InputError(out.option + " " + out.path + ": is a directory, expected a file path");
    }
    const fs::path parent = fs::path(out.path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, error)) {
      throw InputError(out.option + " " + out.path + ": directory " + parent.string() + " does not exist");
    }
  }
  // Only once every path is known to be distinct: probing creates files.
  for (const NamedPath& out : outputs) probe_writable(out);
}

}  // namespace npusim
