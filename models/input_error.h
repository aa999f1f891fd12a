// The one exception type for bad user input (config, network, CLI). Its message
// is a single line naming the file, the JSON path or line, and what was expected;
// the CLI prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace npusim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace npusim
