#!/usr/bin/python3
"""Quantizes the Fashion-MNIST CNN with PyTorch's own post-training static quantization
and exports it with torch.onnx: an independent reference for npusim's import of
already-quantized ONNX graphs.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx 1.12), CPU, one thread:

    /usr/bin/python3 scripts/export_quantized_fashion_mnist.py

Steps:
  1. Rebuilds the fp32 network of models/zoo/fashion_mnist_cnn.onnx (the architecture of
     scripts/train_fashion_mnist.py) with the weights read from that file.
  2. Eager-mode post-training static quantization (torch.ao.quantization): QuantStub /
     DeQuantStub at the edges, Conv+ReLU fused, qconfig 'qnnpack' (activations: uint8
     HistogramObserver, no reduce_range; weights: int8 symmetric per tensor, MinMax),
     calibrated on the first 256 training images. Debian's torch is built without
     FBGEMM (supported engines: qnnpack, onednn), so 'fbgemm' is not available.
  3. torch.onnx.export, opset 13 -> models/zoo/fashion_mnist_cnn_int8_torch.onnx.
  4. Runs the *quantized torch model* (qnnpack kernels) on the test set and writes the
     sidecar models/zoo/fashion_mnist_cnn_int8_torch.preprocess.json: x = pixel / 255,
     torch's quantized test accuracy and its top-1 predictions of the first 1000 test
     images (npusim's tests compare its own predictions with them image by image).

What torch 1.13 writes (QDQ, every constant a Constant node, no initializers):
  QuantizeLinear(input) -> Cast(to=UINT8) -> DequantizeLinear -> Conv(DQ(int8 W), DQ(int32 b))
  -> Relu -> QuantizeLinear -> Cast -> DequantizeLinear -> MaxPool -> QuantizeLinear -> ...
  The bias zero point is Cast(ConstantOfShape([1]), to=INT32). See docs/onnx.md.

torch's quantized model vs the exported file: torch.onnx 1.13 writes each int32 bias as
Cast(Div(b, s_x * s_w), INT32), which truncates, while torch's kernels round the bias; so
26 of the 58 biases are one unit nearer zero in the file. npusim runs the file as written:
1,904 of the 100,000 int8 logits of the test set are one step off torch's, no top-1
differs (all 10,000 predictions equal; see docs/onnx.md, "PyTorch export").

The input pixels are turned into fp32 exactly as `npusim accuracy` does it:
float32(double(pixel) * (1/255)), so both see the same input values.
"""

import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.ao.quantization as tq
import torch.nn as nn
from onnx import numpy_helper

DATA_DIR = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(REPO, "models", "zoo")
FP32_MODEL = os.path.join(ZOO, "fashion_mnist_cnn.onnx")
OUT_NAME = "fashion_mnist_cnn_int8_torch"
INPUT_SCALE = 1.0 / 255.0
INPUT_OFFSET = 0.0
CALIBRATION_COUNT = 256
REFERENCE_COUNT = 1000
ENGINE = "qnnpack"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images_as_input(pixels):
    # npusim: static_cast<float>(double(pixel) * scale + offset)
    x = (pixels.astype(np.float64) * INPUT_SCALE + INPUT_OFFSET).astype(np.float32)
    return torch.from_numpy(x).unsqueeze(1)


class QuantCNN(nn.Module):
    """fashion_mnist_cnn (scripts/train_fashion_mnist.py) with eager-mode quantization stubs."""

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(32 * 7 * 7, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.dequant(self.fc(self.flat(x)))


def load_fp32_weights(model, path):
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc"):
            layer = getattr(model, name)
            layer.weight.copy_(torch.from_numpy(weights[name + ".weight"].copy()))
            layer.bias.copy_(torch.from_numpy(weights[name + ".bias"].copy()))


def predictions(model, x, batch=1000):
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]).argmax(dim=1) for i in range(0, x.shape[0], batch)])


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    torch.backends.quantized.engine = ENGINE
    started = time.time()

    model = QuantCNN()
    load_fp32_weights(model, FP32_MODEL)
    model.eval()
    test_x = images_as_input(read_idx(os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz")))
    test_y = torch.from_numpy(read_idx(os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    fp32_accuracy = (predictions(model, test_x) == test_y).float().mean().item()

    model.qconfig = tq.get_default_qconfig(ENGINE)
    tq.fuse_modules(model, [["conv1", "relu1"], ["conv2", "relu2"]], inplace=True)
    tq.prepare(model, inplace=True)
    calibration = images_as_input(read_idx(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz"))[:CALIBRATION_COUNT])
    with torch.no_grad():
        model(calibration)
    tq.convert(model, inplace=True)

    predicted = predictions(model, test_x)
    int8_accuracy = (predicted == test_y).float().mean().item()
    first = predicted[:REFERENCE_COUNT]

    path = os.path.join(ZOO, OUT_NAME + ".onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path + ".tmp", opset_version=13,
                      input_names=["input"], output_names=["logits"])
    os.replace(path + ".tmp", path)
    exported = onnx.load(path)
    onnx.checker.check_model(exported)
    ops = sorted({node.op_type for node in exported.graph.node})
    print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes, ops {ops})")

    sidecar = {
        "schema": "npusim.preprocess/1",
        "model": OUT_NAME + ".onnx",
        "input": "x = pixel * scale + offset, pixel the uint8 value (0..255) of the IDX image, "
                 "laid out as the model input 1x28x28",
        "scale": INPUT_SCALE,
        "offset": INPUT_OFFSET,
        "training": "fashion_mnist_cnn.onnx's fp32 weights, quantized by torch " + torch.__version__ +
                    " eager-mode post-training static quantization (qconfig '" + ENGINE +
                    "': uint8 HistogramObserver activations, int8 symmetric per-tensor MinMax weights), "
                    f"calibrated on the first {CALIBRATION_COUNT} training images; torch.onnx.export opset 13 (QDQ)",
        "torch": {
            "quantized_engine": ENGINE,
            "fp32_test_accuracy": round(fp32_accuracy, 6),
            "int8_test_accuracy": round(int8_accuracy, 6),
            "first_test_images": REFERENCE_COUNT,
            "first_test_images_correct": int((first == test_y[:REFERENCE_COUNT]).sum().item()),
            "export_seconds": round(time.time() - started, 1),
        },
        "torch_int8_predictions_first_test_images": "".join(str(int(p)) for p in first),
    }
    side = os.path.join(ZOO, OUT_NAME + ".preprocess.json")
    with open(side + ".tmp", "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    os.replace(side + ".tmp", side)
    print(f"wrote {os.path.relpath(side, REPO)}: torch fp32 {100 * fp32_accuracy:.2f} %, "
          f"torch int8 ({ENGINE}) {100 * int8_accuracy:.2f} %")


if __name__ == "__main__":
    sys.exit(main())
