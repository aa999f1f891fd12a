// Patterns of several ONNX nodes that the importer maps as one layer, found
// before mapping: GELU as torch.onnx writes it (torch 1.13, opset 13), in
// the Erf form (x * (erf(x / sqrt 2) + 1)) * 0.5 and the tanh approximation
// 0.5 * (x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))). Internal to
// the ONNX importer.
#pragma once

#include <map>
#include <set>
#include <string>

#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_graph.h"

namespace onnx {
class NodeProto;
}

namespace npusim {

struct OnnxFusedGelu {
  std::string input;  // x
  bool tanh_approximation = false;
};

struct OnnxFusions {
  // The last node of each pattern (its output is the pattern's) and what it
  // computes; `covered` holds every node of every pattern, anchors included.
  std::map<const onnx::NodeProto*, OnnxFusedGelu> anchors;
  std::set<const onnx::NodeProto*> covered;
};

// The patterns among view.order(): every inner node's output read by the
// pattern alone, every constant a one-element FLOAT within 1e-6 of its
// value.
OnnxFusions find_fusions(const OnnxGraphView& view);

// Maps a pattern as one gelu layer whose output is `anchor`'s output 0.
void map_fused_gelu(OnnxBuilder& b, const onnx::NodeProto& anchor, const OnnxFusedGelu& gelu);

}  // namespace npusim
