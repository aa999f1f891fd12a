#include "models/onnx/onnx_fusion.h"

#include <cmath>
#include <optional>
#include <vector>

#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

namespace npusim {
namespace {

class PatternMatcher {
 public:
  explicit PatternMatcher(const OnnxGraphView& view) : view_(view) {
    for (const auto* node : view.order()) {
      for (const auto& out : node->output()) producer_[out] = node;
      for (const auto& in : node->input()) readers_[in].push_back(node);
    }
  }

  // The node producing `name` when it has op type `op`.
  const onnx::NodeProto* made_by(const std::string& name, const char* op) const {
    const auto it = producer_.find(name);
    return it != producer_.end() && it->second->op_type() == op && it->second->output_size() >= 1 ? it->second
                                                                                                  : nullptr;
  }
  // The only reader of `name` (a graph output has none) when it has op `op`.
  const onnx::NodeProto* only_reader(const std::string& name, const char* op) const {
    const auto it = readers_.find(name);
    if (it == readers_.end() || it->second.size() != 1 || view_.consumers(name) != 1) return nullptr;
    return it->second[0]->op_type() == op ? it->second[0] : nullptr;
  }
  bool is_constant(const std::string& name, double value) const {
    const OnnxTensor* t = view_.constant(name);
    return t && t->is_float() && t->elements() == 1 && std::abs(t->f[0] - value) <= 1e-6 * std::abs(value);
  }
  // The operand of binary `node` other than `known`, when `known` is one of them.
  static std::optional<std::string> other(const onnx::NodeProto& node, const std::string& known) {
    if (node.input_size() != 2) return std::nullopt;
    if (node.input(0) == known) return node.input(1);
    if (node.input(1) == known) return node.input(0);
    return std::nullopt;
  }
  // Whether binary `node` reads `a` and a constant `value`.
  bool with_constant(const onnx::NodeProto& node, const std::string& a, double value) const {
    const auto c = other(node, a);
    return c && is_constant(*c, value);
  }

  // The tail both forms share, from `f` (Erf or Tanh) of x: Add 1, Mul x,
  // Mul 0.5. Appends its nodes; returns the anchor.
  const onnx::NodeProto* tail(const onnx::NodeProto& f, const std::string& x,
                              std::vector<const onnx::NodeProto*>& nodes) const {
    const auto* plus = only_reader(f.output(0), "Add");
    if (!plus || !with_constant(*plus, f.output(0), 1.0)) return nullptr;
    const auto* times_x = only_reader(plus->output(0), "Mul");
    if (!times_x || other(*times_x, plus->output(0)) != x) return nullptr;
    const auto* half = only_reader(times_x->output(0), "Mul");
    if (!half || !with_constant(*half, times_x->output(0), 0.5)) return nullptr;
    nodes.insert(nodes.end(), {plus, times_x, half});
    return half;
  }

  // Erf(Div(x, sqrt 2)) then the tail.
  std::optional<OnnxFusedGelu> erf_form(const onnx::NodeProto& erf, std::vector<const onnx::NodeProto*>& nodes) const {
    const auto* div = made_by(erf.input(0), "Div");
    if (!div || div->input_size() != 2 || !is_constant(div->input(1), std::sqrt(2.0)) ||
        view_.consumers(div->output(0)) != 1) {
      return std::nullopt;
    }
    nodes = {div, &erf};
    if (!tail(erf, div->input(0), nodes)) return std::nullopt;
    return OnnxFusedGelu{div->input(0), false};
  }

  // Tanh(Mul(sqrt(2 / pi), Add(x, Mul(0.044715, Mul(x, Mul(x, x)))))) then the tail.
  std::optional<OnnxFusedGelu> tanh_form(const onnx::NodeProto& th, std::vector<const onnx::NodeProto*>& nodes) const {
    const auto* beta = made_by(th.input(0), "Mul");
    if (!beta || view_.consumers(beta->output(0)) != 1) return std::nullopt;
    const onnx::NodeProto* sum = nullptr;
    for (int k = 0; k < 2 && !sum; ++k) {
      const auto* s = made_by(beta->input(k), "Add");
      if (s && is_constant(beta->input(1 - k), std::sqrt(2.0 / 3.14159265358979323846))) sum = s;
    }
    if (!sum || sum->input_size() != 2 || view_.consumers(sum->output(0)) != 1) return std::nullopt;
    for (int k = 0; k < 2; ++k) {
      const std::string& x = sum->input(k);
      const auto* kappa = made_by(sum->input(1 - k), "Mul");
      if (!kappa || view_.consumers(kappa->output(0)) != 1) continue;
      const onnx::NodeProto* cube = nullptr;
      for (int j = 0; j < 2 && !cube; ++j) {
        const auto* c = made_by(kappa->input(j), "Mul");
        if (c && is_constant(kappa->input(1 - j), 0.044715)) cube = c;
      }
      if (!cube || view_.consumers(cube->output(0)) != 1) continue;
      const auto square_name = other(*cube, x);
      const auto* square = square_name ? made_by(*square_name, "Mul") : nullptr;
      if (!square || square->input(0) != x || square->input(1) != x || view_.consumers(square->output(0)) != 1) {
        continue;
      }
      nodes = {square, cube, kappa, sum, beta, &th};
      if (tail(th, x, nodes)) return OnnxFusedGelu{x, true};
    }
    return std::nullopt;
  }

 private:
  const OnnxGraphView& view_;
  std::map<std::string, const onnx::NodeProto*> producer_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
};

}  // namespace

OnnxFusions find_fusions(const OnnxGraphView& view) {
  const PatternMatcher match(view);
  OnnxFusions fusions;
  for (const auto* node : view.order()) {
    const bool erf = node->op_type() == "Erf", th = node->op_type() == "Tanh";
    if ((!erf && !th) || node->input_size() != 1 || node->output_size() != 1) continue;
    std::vector<const onnx::NodeProto*> nodes;
    const auto gelu = erf ? match.erf_form(*node, nodes) : match.tanh_form(*node, nodes);
    if (!gelu) continue;
    fusions.anchors[nodes.back()] = *gelu;
    fusions.covered.insert(nodes.begin(), nodes.end());
  }
  return fusions;
}

void map_fused_gelu(OnnxBuilder& b, const onnx::NodeProto& anchor, const OnnxFusedGelu& gelu) {
  const OnnxValue* x = b.find_value(gelu.input);
  if (!x || x->is_constant() || x->view != OnnxView::real || x->data_type != onnx_float::kFloat) {
    throw OnnxUnsupported("GELU of \"" + gelu.input + "\": expected a FLOAT tensor computed at run time");
  }
  const OnnxIrTensor& t = b.tensors()[static_cast<std::size_t>(x->tensor)];
  Layer layer;
  layer.name = b.layer_name(anchor);
  layer.type = LayerType::gelu;
  layer.gelu.tanh_approximation = gelu.tanh_approximation;
  layer.inputs = {t.name};
  layer.output_dims = t.dims;
  const OnnxValue in = *x;  // add_layer may move the value map's storage
  const int out = b.add_layer(std::move(layer));
  b.set_output(anchor, 0, b.layer_value(out, in.shape, in.data_type, in.view, false));
}

}  // namespace npusim
