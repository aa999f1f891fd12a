// `npusim --version`: what was built, from what and how, so a result can be
// traced to its binary.
#include "sim/cli/cli_common.h"

#include "npusim_version.h"

namespace npusim::cli {

std::string version_text() {
  std::string text = std::string("npusim ") + NPUSIM_VERSION + " (git " + NPUSIM_GIT_DESCRIBE + ")\n";
  text += std::string("build: ") + NPUSIM_BUILD_TYPE + ", " + NPUSIM_COMPILER + "\n";
  text += std::string("flags: ") + NPUSIM_CXX_FLAGS + "\n";
  text += NPUSIM_NATIVE_BUILD ? "NPUSIM_NATIVE: ON (-march=native: runs only on CPUs like the build machine's)\n"
                              : "NPUSIM_NATIVE: OFF (portable: runs on any CPU of the target architecture)\n";
  return text;
}

}  // namespace npusim::cli
