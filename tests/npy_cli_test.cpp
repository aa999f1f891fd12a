// `npusim run --input x.npy --outputs DIR` end to end: a file numpy wrote
// goes in, the files that come out load in numpy with the right shape and
// dtype and equal onnxruntime's output of the same file bit for bit; bad
// files and directories fail with one line before the simulation.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/cli_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::kSourceDir;
using testing::run_npusim;

const std::string kModel = kSourceDir + "/models/zoo/fashion_mnist_cnn_int8_torch.onnx";
const std::string kConfig = kSourceDir + "/configs/edge_int8_32x32.json";

class NpyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) GTEST_SKIP() << "no numpy";
    dir_ = fs::temp_directory_path() / ("npusim_npy_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs a numpy snippet with `d` bound to the test directory.
  void python(const std::string& code) {
    const std::string command =
        "/usr/bin/python3 -c \"import numpy as np; d = '" + dir_.string() + "/'; " + code + "\"";
    ASSERT_EQ(std::system(command.c_str()), 0) << code;
  }
  std::string run(const std::string& args) {
    const CommandResult r = run_npusim("run --config " + kConfig + " --model " + kModel + " " + args);
    status_ = r.status;
    return r.out;
  }

  fs::path dir_;
  int status_ = -1;
};

TEST_F(NpyCli, RoundTripEqualsOnnxruntime) {
  python("np.save(d + 'x.npy', np.random.default_rng(3).random((3, 1, 28, 28)).astype(np.float32))");
  const std::string out = run("--input " + (dir_ / "x.npy").string() + " --outputs " + (dir_ / "out").string());
  ASSERT_EQ(status_, 0) << out;
  EXPECT_NE(out.find("3 samples (the table shows the first); every layer of every sample bit-exact: yes"),
            std::string::npos)
      << out;
  python(
      "a = np.load(d + 'out/_fc_Gemm.npy'); r = np.load(d + 'out/_fc_Gemm.int8.npy'); "
      "assert a.dtype == np.float32 and a.shape == (3, 10), (a.dtype, a.shape); "
      "assert r.dtype == np.int8 and r.shape == (3, 10), (r.dtype, r.shape)");
  const std::string ort = kSourceDir + "/.deps/npm/node_modules/onnxruntime-node";
  if (!fs::exists(ort)) GTEST_SKIP() << "onnxruntime-node not installed (scripts/install_deps.sh)";
  const std::string node = "node " + kSourceDir + "/scripts/onnxruntime/run.js " + kModel + " " +
                           (dir_ / "x.npy").string() + " " + (dir_ / "ort.npy").string();
  ASSERT_EQ(std::system(node.c_str()), 0);
  // Bit for bit: the float32 patterns, not a tolerance.
  python(
      "a = np.load(d + 'out/_fc_Gemm.npy'); b = np.load(d + 'ort.npy'); "
      "assert a.shape == b.shape and (a.view(np.uint32) == b.view(np.uint32)).all(), (a, b)");
}

TEST_F(NpyCli, BadInputsFailInOneLineBeforeTheRun) {
  python(
      "x = np.zeros((2, 1, 28, 28), np.float32); np.save(d + 'wrong_shape.npy', np.zeros((2, 3, 28, 28), np.float32)); "
      "np.save(d + 'f64.npy', x.astype(np.float64)); np.save(d + 'big.npy', x.astype('>f4')); "
      "np.save(d + 'fortran.npy', np.asfortranarray(x)); b = open(d + 'fortran.npy', 'rb').read(); "
      "np.save(d + 'ok.npy', x); b = open(d + 'ok.npy', 'rb').read(); open(d + 'truncated.npy', 'wb').write(b[:-5])");
  const auto one_line_error = [&](const std::string& args, const std::string& expected) {
    const std::string out = run(args);
    EXPECT_EQ(status_, 1) << out;
    EXPECT_NE(out.find(expected), std::string::npos) << out;
    EXPECT_EQ(out.find("cycles"), std::string::npos) << "the simulation ran: " << out;
    EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  };
  const std::string d = dir_.string() + "/";
  one_line_error("--input " + d + "wrong_shape.npy",
                 "--input " + d + "wrong_shape.npy: expected float32 of shape (1, 28, 28) or (N, 1, 28, 28)");
  one_line_error("--input " + d + "f64.npy", "got float64 (2, 1, 28, 28)");
  one_line_error("--input " + d + "big.npy", "big.npy: big-endian dtype '>f4'");
  one_line_error("--input " + d + "fortran.npy", "fortran.npy: expected a C-order array");
  one_line_error("--input " + d + "truncated.npy",
                 "truncated.npy: the shape (2, 1, 28, 28) of float32 needs more than");
  one_line_error("--input " + d + "ok.npy --outputs " + d + "missing/out", "--outputs " + d + "missing/out: directory");
  EXPECT_FALSE(fs::exists(d + "missing"));
}

// --dump-layers all writes every layer's output, each (N, ...) with the
// same values as the layer's output in --outputs; the last layer's file
// equals the graph output file.
TEST_F(NpyCli, DumpLayersWritesEachLayer) {
  python("np.save(d + 'x.npy', np.random.default_rng(4).random((2, 1, 28, 28)).astype(np.float32))");
  const std::string out =
      run("--input " + (dir_ / "x.npy").string() + " --outputs " + (dir_ / "out").string() + " --dump-layers all");
  ASSERT_EQ(status_, 0) << out;
  // 5 layers (conv, pool, conv, pool, fc: the table above), two files each.
  python(
      "import os; names = sorted(os.listdir(d + 'out')); assert len(names) == 10, names; "
      "a = np.load(d + 'out/_conv1_Conv.npy'); assert a.dtype == np.float32 and a.shape == (2, 16, 28, 28), a.shape; "
      "assert (a >= 0).all()");  // relu fused into conv1
  const std::string unknown =
      run("--input " + (dir_ / "x.npy").string() + " --outputs " + (dir_ / "o2").string() + " --dump-layers nope");
  EXPECT_EQ(status_, 1);
  EXPECT_NE(unknown.find("--dump-layers: " + kModel + " has no layer named 'nope'"), std::string::npos) << unknown;
  EXPECT_NE(run("--dump-layers all").find("--dump-layers needs --outputs DIR"), std::string::npos);
}

// --calibration-data calibrates an fp32 model on the given samples; the
// report says so, and a file that brings its own quantization refuses it.
TEST_F(NpyCli, CalibrationDataIsUsedAndReported) {
  python("np.save(d + 'cal.npy', np.random.default_rng(5).random((4, 1, 28, 28)).astype(np.float32))");
  const CommandResult r =
      run_npusim("run --config " + kConfig + " --model " + kSourceDir +
                 "/models/zoo/fashion_mnist_cnn.onnx --calibration-data " + (dir_ / "cal.npy").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("4 samples from --calibration-data"), std::string::npos) << r.out;
  const std::string refused = run("--calibration-data " + (dir_ / "cal.npy").string());
  EXPECT_EQ(status_, 1);
  EXPECT_NE(refused.find("carries its own quantization"), std::string::npos) << refused;
}

}  // namespace
}  // namespace npusim
