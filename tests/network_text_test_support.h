// A fixture for tests that write a network file's text, load it, and check
// the one-line error an edited copy of it gives.
#pragma once

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "models/graph.h"
#include "models/input_error.h"
#include "models/network_json.h"
#include "temp_dir_test_support.h"

namespace npusim::testing {

class NetworkTextTest : public TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  Graph load(const std::string& text) { return load_network_json(write("net.json", text)); }
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
  // `text` with `from` replaced by `to` (which must occur).
  static std::string edited(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
  }
};

}  // namespace npusim::testing
