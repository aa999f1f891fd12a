#!/usr/bin/python3
"""Exports torchvision's quantizable ResNet-18, MobileNetV2 and GoogLeNet as int8 QDQ ONNX
files, with seeded random weights, plus a batch of seeded random inputs as .npy: the models
and inputs npusim is checked against onnxruntime with (scripts/onnxruntime/run.js,
bench/onnxruntime_compare.sh).

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14, python3-onnx):
    /usr/bin/python3 scripts/export_torchvision_qdq.py OUT_DIR [--size 32] [--count 100]

Per model: torchvision.models.quantization.<name>(weights=None, quantize=False) with
torch.manual_seed(0) weights, fuse_model(), eager-mode post-training static quantization
with qconfig 'qnnpack' (as scripts/export_quantized_fashion_mnist.py), calibrated on 16
seeded N(0, 1) inputs, torch.onnx.export opset 13 -> OUT_DIR/<name>_int8.onnx; the fp32
model (before quantization) -> OUT_DIR/<name>_fp32.onnx. Inputs: OUT_DIR/inputs.npy,
float32 {count, 3, size, size}, N(0, 1) from numpy seed 1.
"""
import argparse
import os

import numpy as np
import onnx
import torch
import torch.ao.quantization as tq
from torchvision.models import quantization as qmodels

MODELS = ("resnet18", "mobilenet_v2", "googlenet")


def build(name):
    if name == "googlenet":
        return qmodels.googlenet(weights=None, quantize=False, aux_logits=False, init_weights=True)
    return getattr(qmodels, name)(weights=None, quantize=False)


def inline_identity_constants(path):
    """torch.onnx writes a weight shared by several convs once, behind Identity nodes;
    npusim's importer wants each weight as an initializer: copy it under the Identity's
    output name and drop the node (the graph computes the same)."""
    model = onnx.load(path)
    inits = {t.name: t for t in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            model.graph.initializer.append(copy)
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    onnx.save(model, path)


def export(model, path, size):
    torch.onnx.export(model, torch.zeros(1, 3, size, size), path + ".tmp", opset_version=13,
                      input_names=["input"], output_names=["logits"])
    inline_identity_constants(path + ".tmp")
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(1)
    torch.backends.quantized.engine = "qnnpack"
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = build(name).eval()
        export(model, os.path.join(args.out_dir, name + "_fp32.onnx"), args.size)
        model.fuse_model()
        model.qconfig = tq.get_default_qconfig("qnnpack")
        tq.prepare(model, inplace=True)
        with torch.no_grad():
            model(torch.randn(16, 3, args.size, args.size))
        tq.convert(model, inplace=True)
        export(model, os.path.join(args.out_dir, name + "_int8.onnx"), args.size)
        print(f"{name}: exported")
    x = np.random.default_rng(1).standard_normal((args.count, 3, args.size, args.size)).astype(np.float32)
    np.save(os.path.join(args.out_dir, "inputs.npy"), x)


if __name__ == "__main__":
    main()
