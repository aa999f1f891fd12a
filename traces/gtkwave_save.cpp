#include "traces/gtkwave_save.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace npusim {
namespace {

// Trace flags of GTKWave's save format (gtkwave analyzer.h): each "@<hex>"
// line sets how the signals after it are drawn.
constexpr unsigned kRightJustify = 0x20;
constexpr unsigned kBinary = 0x8;
constexpr unsigned kDecimal = 0x4;
constexpr unsigned kAnalogStep = 0x8000;
constexpr unsigned kAnalogBlankStretch = 0x20000;  // the blank rows that give an analog trace its height
constexpr int kAnalogExtraRows = 2;

// The wave pane's width in pixels at the window size below, less the signal
// panes, with a margin: the zoom fits the run into it.
constexpr double kWavePixels = 1000;

std::string flags_line(unsigned flags) {
  char text[16];
  std::snprintf(text, sizeof text, "@%x\n", flags);
  return text;
}

}  // namespace

std::string gtkwave_save_text(const std::vector<VcdSignal>& signals, std::int64_t end_ps,
                              const std::string& vcd_file_name) {
  // GTKWave shows 2^-zoom time units per pixel (zoom base 2, its default).
  const double ps_per_pixel = std::max(1.0, static_cast<double>(end_ps) / kWavePixels);
  char zoom[64];
  std::snprintf(zoom, sizeof zoom, "*%.6f 0", -std::log2(ps_per_pixel));
  std::string text = "[*] npusim trace: flags as bits, bandwidth counters (MB/s) as decimal analog steps\n";
  text += "[dumpfile] \"" + vcd_file_name + "\"\n[timestart] 0\n[size] 1400 800\n[pos] -1 -1\n";
  text += zoom;
  for (int marker = 0; marker < 26; ++marker) text += " -1";  // named markers A..Z: unset
  text += "\n[sst_width] 200\n[signals_width] 200\n[sst_expanded] 1\n";
  // SystemC's VCD writer puts every signal in a top scope named "SystemC".
  for (const VcdSignal& signal : signals) {
    if (signal.width_bits == 1) {
      text += flags_line(kRightJustify | kBinary) + "SystemC." + signal.name + "\n";
      continue;
    }
    text += flags_line(kRightJustify | kDecimal | kAnalogStep) + "SystemC." + signal.name + "[" +
            std::to_string(signal.width_bits - 1) + ":0]\n";
    text += flags_line(kAnalogBlankStretch);
    for (int row = 0; row < kAnalogExtraRows; ++row) text += "-\n";
  }
  return text;
}

std::string gtkwave_save_path(const std::string& vcd_path) {
  std::filesystem::path path(vcd_path);
  if (path.extension() == ".vcd") return path.replace_extension(".gtkw").string();
  return vcd_path + ".gtkw";
}

}  // namespace npusim
