#!/usr/bin/python3
"""Exports torchvision classification networks as FP32 ONNX files exactly as torch.onnx writes
them (no post-processing: Identity of a shared initializer, no-op Pads, BatchNormalization after
Concat, ReduceMean over H,W and all), with seeded random weights, plus seeded random inputs as
.npy: the files bench/onnxruntime_import_breadth.sh checks npusim's import against onnxruntime with.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14, python3-onnx):
    /usr/bin/python3 scripts/export_torchvision_fp32.py OUT_DIR [--count 4] [--models a,b]

Per model: torchvision.models.<name>(weights=None) with torch.manual_seed(0) weights, eval mode,
BatchNormalization running statistics randomised (seeded) so that a wrong fold shows,
torch.onnx.export opset 13 -> OUT_DIR/<name>.onnx, and OUT_DIR/<name>_inputs.npy: float32
{count, 3, size, size}, N(0, 1) from numpy seed 1. The input size is 32 x 32 except for VGG-11,
whose AdaptiveAvgPool2d(7) needs a 7 x 7 feature map (224 x 224 input).
"""
import argparse
import os

import numpy as np
import torch
import torchvision.models as tvm

# name -> (constructor, input size)
MODELS = {
    "resnet50": (lambda: tvm.resnet50(weights=None), 32),
    "densenet121": (lambda: tvm.densenet121(weights=None), 32),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(weights=None), 32),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(weights=None), 32),
    "vgg11": (lambda: tvm.vgg11(weights=None), 224),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(weights=None), 32),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), 32),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(weights=None), 32),
}


def randomise_batchnorm(model):
    """Freshly built BatchNorm layers have mean 0, var 1, weight 1, bias 0: a fold that ignored
    them would go unnoticed. Seeded random statistics make every BN parameter matter."""
    gen = torch.Generator().manual_seed(2)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in args.models.split(","):
        build, size = MODELS[name]
        torch.manual_seed(0)
        model = build().eval()
        randomise_batchnorm(model)
        path = os.path.join(args.out_dir, name + ".onnx")
        with torch.no_grad():
            torch.onnx.export(model, torch.zeros(1, 3, size, size), path + ".tmp", opset_version=13,
                              input_names=["input"], output_names=["logits"])
        os.replace(path + ".tmp", path)
        x = np.random.default_rng(1).standard_normal((args.count, 3, size, size)).astype(np.float32)
        np.save(os.path.join(args.out_dir, name + "_inputs.npy"), x)
        print(f"{name}: exported ({size} x {size})")


if __name__ == "__main__":
    main()
