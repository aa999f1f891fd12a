// `npusim presets`: the accelerator presets shipped in configs/presets, with
// their peak throughput and the public numbers each is built from.
#pragma once

#include <ostream>
#include <string>

namespace npusim {

// The shipped presets' directory (configs/presets of the source tree).
std::string preset_directory();

// Lists every *.json config in `directory`, sorted by file name.
int presets_command(const std::string& directory, std::ostream& out);

}  // namespace npusim
