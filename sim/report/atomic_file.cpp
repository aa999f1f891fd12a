#include "sim/report/atomic_file.h"

#include <ostream>
#include <stdexcept>

#include "models/input_error.h"
#include "traces/trace_file_output.h"

namespace npusim {

// The trace writers' whole-or-nothing file output, with the failure reported
// as bad user input (an unwritable report path).
void write_file_atomically(const std::string& path, const std::string& content) {
  try {
    write_trace_file(
        path, [&](std::ostream& out) { out.write(content.data(), static_cast<std::streamsize>(content.size())); });
  } catch (const std::runtime_error& error) {
    throw InputError(error.what());
  }
}

}  // namespace npusim
