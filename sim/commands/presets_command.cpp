#include "sim/commands/presets_command.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "models/input_error.h"
#include "sim/config/accelerator_config.h"
#include "sim/energy/area_model.h"

namespace npusim {

std::string preset_directory() { return NPUSIM_PRESET_DIR; }

int presets_command(const std::string& directory, std::ostream& out) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (error) throw InputError(directory + ": cannot list presets (" + error.message() + ")");
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const AcceleratorConfig config = load_accelerator_config(file.string(), {});
    const auto& a = config.array;
    char line[512];
    std::snprintf(line, sizeof line, "%-18s %4dx%-4d %-3s %-10s lanes %-3d %7.1f MHz  peak_tops %8.3f  %s\n",
                  config.name.c_str(), a.rows, a.cols, std::string(to_string(a.dataflow)).c_str(),
                  a.mac.label().c_str(), a.mac.lanes, config.clock_mhz, peak_tops(a, config.clock_mhz),
                  file.filename().string().c_str());
    out << line;
    if (!config.description.empty()) out << "    " << config.description << "\n";
  }
  return 0;
}

}  // namespace npusim
