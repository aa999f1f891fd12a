// `npusim accuracy` on a CIFAR-like 3x32x32 classifier and a .npy dataset
// (tests/make_cifar_like_case.py: an ONNX model built with onnx.helper,
// uint8 images written by numpy, a sidecar with per-channel mean and std).
// The expected logits and top-1 come from onnxruntime (scripts/onnxruntime/
// run.js) on the inputs numpy computes from the sidecar's formula, never
// from npusim; bad datasets and sidecars fail in one line before any run.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "cli_test_support.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::kSourceDir;
using testing::run_npusim;

const std::string kConfig = kSourceDir + "/configs/edge_int8_32x32.json";

class AccuracyNpyCli : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::system("/usr/bin/python3 -c 'import numpy, onnx' 2>/dev/null") != 0) GTEST_SKIP() << "no numpy / onnx";
    d_ = dir_.string() + "/";
    const std::string make = "/usr/bin/python3 " + kSourceDir + "/tests/make_cifar_like_case.py " + d_;
    ASSERT_EQ(std::system(make.c_str()), 0);
  }
  // Runs a numpy snippet with `d` bound to the test directory.
  void python(const std::string& code) {
    const std::string command = "/usr/bin/python3 -c \"import json, numpy as np; d = '" + d_ + "'; " + code + "\"";
    ASSERT_EQ(std::system(command.c_str()), 0) << code;
  }
  // `npusim accuracy` on the case's model with its calibration images and `labels`.
  testing::CommandResult accuracy(const std::string& args, const std::string& labels = "labels.npy") {
    return run_npusim("accuracy --config " + kConfig + " --model " + d_ + "cifar_like.onnx --labels " + d_ + labels +
                      " --calibration-images " + d_ + "calibration.npy " + args);
  }
  std::string d_;
};

TEST_F(AccuracyNpyCli, LogitsAndTop1EqualOnnxruntimeInEveryLayout) {
  if (!fs::exists(kSourceDir + "/.deps/npm/node_modules/onnxruntime-node")) {
    GTEST_SKIP() << "onnxruntime-node not installed (scripts/install_deps.sh)";
  }
  const std::string node = "node " + kSourceDir + "/scripts/onnxruntime/run.js " + d_ + "cifar_like.onnx " + d_ +
                           "inputs.npy " + d_ + "ort.npy";
  ASSERT_EQ(std::system(node.c_str()), 0);
  for (const char* images : {"images_nhwc_u8", "images_nchw_u8", "images_nhwc_f32"}) {
    SCOPED_TRACE(images);
    const std::string json = d_ + images + ".json";
    const auto r = accuracy("--images " + d_ + images + ".npy --formats fp32,int8 --logits --json " + json);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("cifar_like: "), std::string::npos) << r.out;
    // fp32 logits (the reference executor's and the NPU datapath's) within
    // 1e-5 relative + 1e-6 absolute of onnxruntime's; top-1 and the count of
    // correct labels from onnxruntime's argmax; the int8 row has one logit
    // list of 10 per image and its predictions are their argmax.
    python("o = np.load(d + 'ort.npy'); l = np.load(d + 'labels.npy'); m = json.load(open('" + json +
           "'))['models'][0]; "
           "rows = m['rows']; assert [r['format'] for r in rows] == ['fp32', 'int8'], rows; "
           "ok = lambda a: np.abs(a - o).max() <= 0 or (np.abs(a - o) <= 1e-5 * np.abs(o) + 1e-6).all(); "
           "ref = np.array(m['fp32_reference_logits'], np.float32); npu = np.array(rows[0]['logits'], np.float32); "
           "assert ref.shape == (24, 10) and ok(ref) and ok(npu), np.abs(ref - o).max(); "
           "top = ''.join(str(c) for c in o.argmax(1)); "
           "assert m['fp32_reference_predictions'] == top and rows[0]['predictions'] == top, top; "
           "assert m['fp32_reference_correct'] == rows[0]['correct'] == (o.argmax(1) == l).sum() == 16; "
           "q = np.array(rows[1]['logits'], np.float32); assert q.shape == (24, 10), q.shape; "
           "assert rows[1]['predictions'] == ''.join(str(c) for c in q.argmax(1)); "
           "assert m['preprocess']['mean'] == [0.4914, 0.4822, 0.4465], m['preprocess']");
  }
}

// The `file` row of a torch-quantized QDQ model (uint8 activations, the
// bundled Fashion-MNIST CNN) on the first 60 test images given as a .npy:
// its int8 logits, dequantized, equal onnxruntime's bit for bit, onnxruntime
// fed pixel * scale + offset of the sidecar computed by numpy.
TEST_F(AccuracyNpyCli, QuantizedFileRowLogitsEqualOnnxruntimeBitForBit) {
  const std::string dataset = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dataset + "t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  if (!fs::exists(kSourceDir + "/.deps/npm/node_modules/onnxruntime-node")) {
    GTEST_SKIP() << "onnxruntime-node not installed (scripts/install_deps.sh)";
  }
  const std::string model = kSourceDir + "/models/zoo/fashion_mnist_cnn_int8_torch.onnx";
  // IDX: a 16-byte header, then 28 x 28 bytes per image; labels: 8 bytes, then one byte each.
  python(
      "import gzip; s = '" + dataset +
      "'; "
      "x = np.frombuffer(gzip.open(s + 't10k-images-idx3-ubyte.gz').read()[16:16 + 60 * 784], np.uint8); "
      "np.save(d + 'fm.npy', x.reshape(60, 28, 28)); "
      "np.save(d + 'fm_labels.npy', np.frombuffer(gzip.open(s + 't10k-labels-idx1-ubyte.gz').read()[8:68], np.uint8)); "
      "p = json.load(open('" +
      model.substr(0, model.size() - 5) +
      ".preprocess.json')); "
      "np.save(d + 'fm_inputs.npy', (x.reshape(60, 1, 28, 28) * p['scale'] + p['offset']).astype(np.float32))");
  const std::string node =
      "node " + kSourceDir + "/scripts/onnxruntime/run.js " + model + " " + d_ + "fm_inputs.npy " + d_ + "fm_ort.npy";
  ASSERT_EQ(std::system(node.c_str()), 0);
  const auto r =
      run_npusim("accuracy --config " + kConfig + " --model " + model + " --images " + d_ + "fm.npy --labels " + d_ +
                 "fm_labels.npy --formats fp32 --calibration-count 8 --logits --json " + d_ + "fm.json");
  ASSERT_EQ(r.status, 0) << r.out;
  python(
      "o = np.load(d + 'fm_ort.npy'); rows = json.load(open(d + 'fm.json'))['models'][0]['rows']; "
      "assert rows[0]['format'] == 'file', rows[0]['format']; q = np.array(rows[0]['logits'], np.float32); "
      "assert q.shape == o.shape == (60, 10) and (q.view(np.uint32) == o.view(np.uint32)).all(), np.abs(q - o).max()");
}

// The JSON shows each float32 logit as its shortest decimal, which reads
// back as the same float32 (the bits npusim computed) and is stable.
TEST_F(AccuracyNpyCli, LogitsAreShortestFloat32Decimals) {
  const std::string json = d_ + "a.json";
  const auto r = accuracy("--images " + d_ + "images_nhwc_u8.npy --formats fp32 --limit 3 --logits --json " + json);
  ASSERT_EQ(r.status, 0) << r.out;
  // numpy's repr of a float32 is its shortest decimal (Dragon4).
  python("m = json.load(open('" + json +
         "'))['models'][0]; "
         "v = [x for i in m['fp32_reference_logits'] + m['rows'][0]['logits'] for x in i]; "
         "assert len(v) == 60 and all(float(repr(np.float32(x))) == x for x in v), v");
  const auto again =
      accuracy("--images " + d_ + "images_nhwc_u8.npy --formats fp32 --limit 3 --logits --json " + d_ + "b.json");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(slurp(json), slurp(d_ + "b.json"));
}

TEST_F(AccuracyNpyCli, BadDatasetsAndSidecarsFailInOneLineBeforeTheRun) {
  python(
      "x = np.load(d + 'images_nchw_u8.npy'); np.save(d + 'wrong_shape.npy', x[:, :, :28, :28]); "
      "np.save(d + 'f64.npy', x.astype(np.float64)); np.save(d + 'big.npy', x.astype('>f4')); "
      "np.save(d + 'fortran.npy', np.asfortranarray(x.astype(np.float32))); "
      "b = open(d + 'images_nchw_u8.npy', 'rb').read(); open(d + 'truncated.npy', 'wb').write(b[:-7]); "
      "np.save(d + 'three_labels.npy', np.array([1, 2, 3])); np.save(d + 'float_labels.npy', np.zeros(24, "
      "np.float32)); "
      "np.save(d + 'label_11.npy', np.full(24, 11)); "
      "p = json.load(open(d + 'cifar_like.preprocess.json')); p['mean'] = [0.5, 0.5]; "
      "json.dump(p, open(d + 'two_means.json', 'w')); p['mean'] = [0.5] * 3; p['std'] = [0.2, 0, 0.2]; "
      "json.dump(p, open(d + 'zero_std.json', 'w'))");
  const auto one_line_error = [&](const std::string& args, const std::string& expected,
                                  const std::string& labels = "labels.npy", int status = 1) {
    const auto r = accuracy(args, labels);
    EXPECT_EQ(r.status, status) << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("npusim accuracy:"), std::string::npos) << "the runs started: " << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  };
  const std::string model = d_ + "cifar_like.onnx";
  one_line_error("--images " + d_ + "wrong_shape.npy",
                 "wrong_shape.npy: images are 3x28x28 but " + model + " expects 3x32x32");
  one_line_error("--images " + d_ + "f64.npy", "f64.npy: expected uint8 or float32 images of shape (N, C, H, W)");
  one_line_error("--images " + d_ + "big.npy", "big.npy: big-endian dtype '>f4'");
  one_line_error("--images " + d_ + "fortran.npy", "fortran.npy: expected a C-order array");
  one_line_error("--images " + d_ + "truncated.npy",
                 "truncated.npy: the shape (24, 3, 32, 32) of uint8 needs more than");
  const std::string images = "--images " + d_ + "images_nchw_u8.npy ";
  one_line_error(images, "three_labels.npy: holds 3 labels (expected one per image, 24 from", "three_labels.npy");
  one_line_error(images, "float_labels.npy: expected integer labels", "float_labels.npy");
  one_line_error(images, "label_11.npy: label 0 is 11 but " + model + " has 10 classes", "label_11.npy");
  one_line_error(images + "--logits", "--logits needs --json FILE", "labels.npy", 2);  // a usage error
  // The second model's sidecar is checked before the first model runs.
  for (const char* sidecar : {"two_means", "zero_std"}) {
    const std::string copy = d_ + sidecar + ".onnx";
    fs::copy_file(model, copy);
    fs::rename(d_ + sidecar + ".json", d_ + sidecar + ".preprocess.json");
    one_line_error(images + "--model " + copy, std::string(sidecar) + ".preprocess.json: $.");
  }
  const auto r = accuracy(images + "--model " + d_ + "two_means.onnx");
  EXPECT_NE(r.out.find("$.mean: expected a list of 3 finite numbers, one per input channel of " + d_ +
                       "two_means.onnx, got 2"),
            std::string::npos)
      << r.out;
  const auto z = accuracy(images + "--model " + d_ + "zero_std.onnx");
  EXPECT_NE(z.out.find("$.std[1]: expected a list of 3 positive finite numbers"), std::string::npos) << z.out;
}

}  // namespace
}  // namespace npusim
