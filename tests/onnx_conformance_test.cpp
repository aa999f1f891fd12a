// ONNX conformance: every libonnx-testdata node case of the ops the importer
// supports, through the importer, the reference executor and the simulator
// (tile engine through the network runner); Gemm/MatMul-like cases whose A
// has M rows run as M batch-1 inferences (rows_as_batch). The simulator must
// equal the reference bit for bit, and both must reproduce the expected output:
// integers exactly, floats within 1e-5 relative + 1e-6 absolute. Cases the IR
// cannot express are expected skips, listed below with their reasons
// (docs/onnx.md has the same table); any other failure fails the test, and
// an expected skip that passes fails it too (so the list stays true).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/input_error.h"
#include "models/onnx/onnx_model.h"
#include "models/onnx/onnx_reader.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "sim/mapper/lowering.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";

// Op name prefixes of the cases that exercise the supported ops.
const std::vector<std::string> kOps = {
    "qlinearconv",   "qlinearmatmul", "convinteger", "matmulinteger", "quantizelinear", "dequantizelinear",
    "conv",          "gemm",          "matmul",      "maxpool",       "averagepool",    "globalaveragepool",
    "globalmaxpool", "relu",          "clip",        "add",           "concat",         "flatten",
    "reshape",       "softmax",       "batchnorm",   "identity",      "dropout"};

// Cases the IR cannot express, and why. The importer must reject each (or the
// case must fail); the reason is printed in the summary.
const std::map<std::string, std::string> kExpectedSkips = {
    // Add and Concat read a second runtime input, bound as a constant
    // (input_1.pb) and imported as a constant layer. uint8 Add wraps modulo
    // 256 in ONNX; the IR's integer add saturates. This case's sums stay
    // below 256, but importing integer arithmetic without quantization
    // parameters would give wrong numbers for inputs whose sums do not.
    {"test_add_uint8", "integer Add without quantization parameters (ONNX wraps modulo 256; the IR saturates)"},
    {"test_averagepool_2d_pads_count_include_pad", "count_include_pad=1 (the IR averages in-bounds elements)"},
    {"test_averagepool_2d_precomputed_pads_count_include_pad", "count_include_pad=1"},
    {"test_averagepool_3d_default", "3-D pooling"},
    {"test_batchnorm_epsilon", "batch 2; BatchNormalization not after a Conv"},
    {"test_batchnorm_epsilon_training_mode", "training mode; batch 2"},
    {"test_batchnorm_example", "batch 2; BatchNormalization not after a Conv"},
    {"test_batchnorm_example_training_mode", "training mode; batch 2"},
    {"test_clip_default_int8_inbounds", "integer Clip without quantization parameters"},
    {"test_clip_default_int8_max", "integer Clip without quantization parameters"},
    {"test_clip_default_int8_min", "integer Clip without quantization parameters"},
    {"test_dequantizelinear_axis", "per-axis activation quantization"},
    {"test_dropout_default_mask", "two graph outputs (the mask)"},
    {"test_dropout_default_mask_ratio", "two graph outputs (the mask)"},
    {"test_identity_opt", "optional type (not a tensor)"},
    {"test_identity_sequence", "sequence type (not a tensor)"},
    {"test_matmul_3d", "batched MatMul: B holds a different [K, N] matrix per batch"},
    {"test_matmul_4d", "batched MatMul: B holds a different [K, N] matrix per batch"},
    {"test_maxpool_2d_dilations", "pooling dilations"},
    {"test_maxpool_3d_default", "3-D pooling"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "two graph outputs (Indices)"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "two graph outputs (Indices)"},
    {"test_quantizelinear_axis", "per-axis activation quantization"},
    {"test_reshape_allowzero_reordered", "empty tensor (a 0 dimension)"},
    {"test_softmax_axis_0_expanded", "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_axis_1_expanded", "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_axis_2_expanded", "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_default_axis_expanded",
     "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_example_expanded", "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_large_number_expanded",
     "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
    {"test_softmax_negative_axis_expanded",
     "Exp is not supported (the expansion's ReduceMax, Sub, ReduceSum and Div are)"},
};

bool is_case_of_supported_op(const std::string& name) {
  for (const auto& op : kOps) {
    const std::string prefix = "test_" + op;
    if (name.rfind(prefix, 0) != 0) continue;
    if (name.size() == prefix.size() || name[prefix.size()] == '_') return true;
  }
  return false;
}

std::vector<std::string> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) files.push_back(entry.path().string());
  }
  // input_10 after input_9.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return files;
}

constexpr int kUint8 = static_cast<int>(OnnxElementType::uint8);

// The graph input in the IR's terms, from the case's input_0.pb.
Tensor ir_input(const OnnxImport& imp, const QuantizedGraph& qg, const OnnxTensor& data) {
  const Graph& graph = imp.model.graph;
  if (imp.input.view == OnnxView::integer) {
    Tensor t;
    t.dims = graph.input_dims;
    t.format = NumberFormat::int8;
    t.quant = qg.input_quant;
    const int shift = imp.input.data_type == kUint8 ? 128 : 0;
    for (const auto v : data.i) t.q.push_back(static_cast<std::int8_t>(v - shift));
    return t;
  }
  Tensor real;
  real.dims = graph.input_dims;
  real.format = NumberFormat::fp32;
  real.f = data.f;
  return imp.model.quantized ? quantize_input(qg, real) : real;
}

// Empty when the simulated output matches the expected one.
std::string compare_output(const OnnxImport& imp, const Tensor& out, const OnnxTensor& expected,
                           const std::vector<std::int64_t>* sums) {
  std::ostringstream diff;
  const std::size_t n = static_cast<std::size_t>(expected.elements());
  const std::size_t have = sums ? sums->size() : out.q.size() + out.f.size();
  if (have != n) return "output has " + std::to_string(have) + " values, expected " + std::to_string(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (imp.output.view == OnnxView::accumulator) {
      if ((*sums)[i] != expected.i[i]) diff << "element " << i << ": " << (*sums)[i] << " vs " << expected.i[i];
    } else if (imp.output.view == OnnxView::integer) {
      const std::int64_t v = out.q[i] + (imp.output.data_type == kUint8 ? 128 : 0);
      if (v != expected.i[i]) diff << "element " << i << ": " << v << " vs " << expected.i[i];
    } else {
      // DequantizeLinear's fp32 arithmetic for a quantized output.
      const float v = out.f.empty()
                          ? static_cast<float>(out.q[i] - out.quant.zero_point) * static_cast<float>(out.quant.scale)
                          : out.f[i];
      const float e = expected.f[i];
      if (!(std::fabs(double{v} - double{e}) <= 1e-5 * std::fabs(double{e}) + 1e-6)) {
        diff << "element " << i << ": " << v << " vs " << e;
      }
    }
    if (!diff.str().empty()) return diff.str();
  }
  return {};
}

// Row `r` of `rows` in `t`: its r-th contiguous block, or (transposed) the
// r-th column of a [K, rows] matrix.
OnnxTensor row_of(const OnnxTensor& t, std::int64_t rows, std::int64_t r, bool transposed) {
  if (rows == 1) return t;
  OnnxTensor row;
  row.name = t.name;
  row.data_type = t.data_type;
  const std::int64_t length = t.elements() / rows;
  row.dims = {length};
  for (std::int64_t j = 0; j < length; ++j) {
    const auto at = static_cast<std::size_t>(transposed ? j * rows + r : r * length + j);
    if (t.is_float())
      row.f.push_back(t.f[at]);
    else
      row.i.push_back(t.i[at]);
  }
  return row;
}

// One inference: the imported model on `data`, through the reference and the
// simulator; empty when the simulator equals the reference bit for bit and
// its output matches `expected`.
std::string run_inference(const OnnxImport& imp, const OnnxTensor& data, const OnnxTensor& expected) {
  const MacFormat fp32{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  const QuantizedGraph qg =
      imp.model.quantized ? *imp.model.quantized : quantize_graph(imp.model.graph, fp32, std::span<const Tensor>{});
  const Tensor input = ir_input(imp, qg, data);
  AcceleratorConfig config;
  config.array.rows = 4;
  config.array.cols = 4;
  config.array.mac = qg.mac;
  const auto engine = make_tile_engine(config.array);
  const NetworkRun run = run_network(qg, input, *engine, config);
  const auto checks = check_against_reference(run, run_reference(qg, input, reference_reduction_chunk(config.array)));
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (!checks[i].bit_exact)
      return "simulator differs from the reference at layer " + qg.graph.layers[i].name + ": " + checks[i].detail;
  }
  std::vector<std::int64_t> sums;
  if (imp.output.view == OnnxView::accumulator) {
    const std::size_t last = qg.graph.layers.size() - 1;
    const std::string& from = qg.graph.layers[last].inputs[0];
    const Tensor* in = &input;
    for (std::size_t i = 0; i < last; ++i) {
      if (qg.graph.layers[i].name == from) in = &run.layers[i].output;
    }
    sums = testing::accumulator_sums(qg, last, *in, *engine);
  }
  return compare_output(imp, run.layers.back().output, expected,
                        imp.output.view == OnnxView::accumulator ? &sums : nullptr);
}

// Cases whose input may hold several rows of a matrix product: run as one
// batch-1 inference per row (OnnxImportOptions::rows_as_batch).
bool is_row_case(const std::string& name) {
  for (const std::string op : {"gemm", "matmul", "matmulinteger", "qlinearmatmul"}) {
    const std::string prefix = "test_" + op + "_";
    if (name.rfind(prefix, 0) == 0 || name == "test_" + op) return true;
  }
  return false;
}

// Runs one case; empty when it passes, else why not. Throws InputError when
// the importer rejects the model.
std::string run_case(const fs::path& dir) {
  for (const auto& set : sorted_files(dir, "test_data_set_")) {
    const auto inputs = sorted_files(set, "input_");
    const auto outputs = sorted_files(set, "output_");
    if (inputs.empty() || outputs.size() != 1) return "expected inputs and exactly one output in " + set;
    OnnxImportOptions options;
    options.constant_input_files.assign(inputs.begin() + 1, inputs.end());
    options.rows_as_batch = is_row_case(dir.filename().string());
    OnnxImport imp = import_onnx((dir / "model.onnx").string(), options);
    const OnnxTensor data = read_onnx_tensor_file(inputs[0]);
    const OnnxTensor expected = read_onnx_tensor_file(outputs[0]);
    const std::int64_t rows = imp.rows.count;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (r > 0 && imp.rows.model_per_row) {
        options.row = r;
        imp = import_onnx((dir / "model.onnx").string(), options);
      }
      const std::string diff =
          run_inference(imp, row_of(data, rows, r, imp.rows.transposed), row_of(expected, rows, r, false));
      if (!diff.empty()) {
        return fs::path(set).filename().string() + (rows > 1 ? ", row " + std::to_string(r) : "") + ": " + diff;
      }
    }
  }
  return {};
}

TEST(OnnxConformance, SupportedNodeCases) {
  if (!fs::is_directory(kNodeDir)) GTEST_SKIP() << kNodeDir << " is missing (Debian package libonnx-testdata)";
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(kNodeDir)) {
    if (is_case_of_supported_op(entry.path().filename().string())) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  int passed = 0, skipped = 0, failed = 0;
  std::ostringstream table;
  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    const auto skip = kExpectedSkips.find(name);
    std::string problem;
    try {
      problem = run_case(dir);
    } catch (const InputError& e) {
      problem = std::string("rejected: ") + e.what();
    }
    if (skip != kExpectedSkips.end()) {
      if (problem.empty()) {
        ++failed;
        table << "UNEXPECTED PASS " << name << " (listed as a skip: " << skip->second << ")\n";
        ADD_FAILURE() << name << " passes but is listed as an expected skip";
      } else {
        ++skipped;
        table << "skip " << name << ": " << skip->second << "\n     (" << problem << ")\n";
      }
    } else if (problem.empty()) {
      ++passed;
      table << "pass " << name << "\n";
    } else {
      ++failed;
      table << "FAIL " << name << ": " << problem << "\n";
      ADD_FAILURE() << name << ": " << problem;
    }
  }
  std::cout << table.str() << "ONNX conformance: " << cases.size() << " cases, " << passed << " passed, " << skipped
            << " skipped (expected), " << failed << " failed\n";
  // Every expected skip names a case that exists.
  for (const auto& [name, reason] : kExpectedSkips) {
    EXPECT_TRUE(fs::is_directory(fs::path(kNodeDir) / name)) << name << " is listed but not in the test data";
  }
  // The counts docs/onnx.md reports (libonnx-testdata of Debian bookworm):
  // every case not listed passes, every listed one is skipped.
  EXPECT_EQ(passed, 102);
  EXPECT_EQ(skipped, 31);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace npusim
