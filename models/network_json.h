// Loads the project's JSON network format (docs/network_format.md) into a
// Graph: validates every field, infers shapes, and fills seeded fp32 weights.
#pragma once

#include <string>

#include "models/graph.h"

namespace npusim {

// Throws InputError("<file>: <json path>: expected ..., got ...") on bad input.
Graph load_network_json(const std::string& path);

}  // namespace npusim
