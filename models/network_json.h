// Loads the project's JSON network format (docs/network_format.md) into a
// Graph: validates every field, infers shapes, and fills seeded fp32 weights.
#pragma once

#include <functional>
#include <string>

#include "models/graph.h"

namespace npusim {

// Throws InputError("<file>: <json path>: expected ..., got ...") on bad input.
// `before_parameters`, when set, sees the graph before its weights are drawn.
Graph load_network_json(const std::string& path, const std::function<void(const Graph&)>& before_parameters = {});

}  // namespace npusim
