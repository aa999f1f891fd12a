#!/usr/bin/env python3
"""A CIFAR-like case for tests/accuracy_npy_cli_test.cpp, written into DIR:

  cifar_like.onnx            a 3x32x32 -> 10 classifier, seeded random weights
                             (onnx.helper): Conv 3->8 3x3 pad 1 + Relu,
                             MaxPool 2, Conv 8->16 3x3 stride 2 pad 1 + Relu,
                             GlobalAveragePool, Flatten, Gemm 16->10
  cifar_like.preprocess.json scale 1/255, offset 0, per-channel mean and std
                             (CIFAR-10's, as torchvision normalizes)
  images_nhwc_u8.npy         N uint8 images, N x 32 x 32 x 3 (CIFAR's own layout)
  images_nchw_u8.npy         the same images, N x 3 x 32 x 32
  images_nhwc_f32.npy        the same pixel values as float32, N x 32 x 32 x 3
  labels.npy                 N int64 labels in 0..9: for the first two
                             thirds of the images the class a plain numpy
                             forward pass of the model picks, for the rest
                             another class, so that top-1 is neither 0 nor 1
  calibration.npy            uint8 calibration images, N x 32 x 32 x 3
  inputs.npy                 float32 N x 3 x 32 x 32: the model inputs the
                             sidecar defines, computed here with numpy in
                             float64 and rounded once to float32, for
                             onnxruntime (scripts/onnxruntime/run.js)

Usage: make_cifar_like_case.py DIR [N]
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.2470, 0.2435, 0.2616]


def model(rng):
    def init(name, shape, fan_in):
        w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        return numpy_helper.from_array(w.astype(np.float32), name)

    inits = [init("w1", (8, 3, 3, 3), 27), init("b1", (8,), 27), init("w2", (16, 8, 3, 3), 72),
             init("b2", (16,), 72), init("w3", (10, 16), 16), init("b3", (10,), 16)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(nodes, "cifar_like", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def conv(x, w, b, stride):
    """x: C x H x W, w: N x C x 3 x 3, pad 1 (float64)."""
    c, h, wd = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    oh, ow = (h - 1) // stride + 1, (wd - 1) // stride + 1
    out = np.zeros((w.shape[0], oh, ow))
    for r in range(3):
        for s in range(3):
            patch = p[:, r:r + stride * (oh - 1) + 1:stride, s:s + stride * (ow - 1) + 1:stride]
            out += np.einsum("nc,chw->nhw", w[:, :, r, s], patch)
    return out + b[:, None, None]


def forward(m, x):
    """The model's logits for one C x H x W input, in numpy float64."""
    t = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in m.graph.initializer}
    y = np.maximum(conv(x, t["w1"], t["b1"], 1), 0)
    y = y.reshape(8, 16, 2, 16, 2).max(axis=(2, 4))
    y = np.maximum(conv(y, t["w2"], t["b2"], 2), 0)
    return t["w3"] @ y.mean(axis=(1, 2)) + t["b3"]


def images(rng, n):
    """Each image a random colour plus noise, so that the classes differ."""
    colour = rng.integers(0, 256, (n, 1, 1, 3))
    return np.clip(colour + rng.integers(-60, 61, (n, 32, 32, 3)), 0, 255).astype(np.uint8)


def main():
    out = sys.argv[1].rstrip("/") + "/"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    rng = np.random.default_rng(13)
    m = model(rng)
    onnx.save(m, out + "cifar_like.onnx")
    with open(out + "cifar_like.preprocess.json", "w") as f:
        json.dump({"schema": "npusim.preprocess/1", "scale": 1 / 255, "offset": 0.0, "mean": MEAN, "std": STD}, f)
    nhwc = images(rng, n)
    np.save(out + "images_nhwc_u8.npy", nhwc)
    np.save(out + "images_nchw_u8.npy", np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
    np.save(out + "images_nhwc_f32.npy", nhwc.astype(np.float32))
    np.save(out + "calibration.npy", images(rng, 8))
    x = (nhwc.astype(np.float64) * (1 / 255) - np.array(MEAN)) / np.array(STD)
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)
    np.save(out + "inputs.npy", x)
    picked = np.array([np.argmax(forward(m, x[i].astype(np.float64))) for i in range(n)])
    labels = np.where(np.arange(n) < 2 * n // 3, picked, (picked + 1) % 10)
    np.save(out + "labels.npy", labels.astype(np.int64))


if __name__ == "__main__":
    main()
