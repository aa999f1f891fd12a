#!/usr/bin/python3
"""Trains the small Fashion-MNIST CNN that `npusim accuracy` measures, and exports it to ONNX.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx, python3-numpy):

    /usr/bin/python3 scripts/train_fashion_mnist.py            # all three models
    /usr/bin/python3 scripts/train_fashion_mnist.py --epochs 1 # a quick smoke run

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*.gz), read
directly with gzip + numpy (no download).

Input preprocessing (the contract with `npusim accuracy`, written to each model's
sidecar models/zoo/<model>.preprocess.json): x = pixel / 255, pixel the uint8 IDX
value, so x is in [0, 1]; no mean/std normalisation. A [0, 1] input has scale 1/255
at int8, so npusim's min/max calibration quantizes the input image without loss.

Architecture (1,031,744 MACs, 20,490 parameters, ~82 KB of fp32 weights):

    input 1x28x28
    conv1  1->16, 3x3, pad 1, bias, ReLU   -> 16x28x28   (112,896 MACs)
    maxpool 2x2 stride 2                   -> 16x14x14
    conv2 16->32, 3x3, pad 1, bias, ReLU   -> 32x14x14   (903,168 MACs)
    maxpool 2x2 stride 2                   -> 32x7x7
    flatten                                -> 1568
    fc   1568->10, bias                    -> 10 logits   (15,680 MACs)

Only Conv, Relu, MaxPool, Flatten and Gemm appear in the ONNX graph (opset 13,
batch 1, static shapes), all of which npusim's importer supports.

Training recipe (CPU, deterministic seeds; one intra-op thread by default: on a
machine shared with compilers, torch's two-thread kernels spent 4x longer per batch
waiting for each other than one thread takes alone):
  * fashion_mnist_cnn.onnx: plain fp32 training, Adam lr 3e-3 (cosine to 0), batch
    128, `--epochs` epochs (default 6), cross-entropy, no augmentation.
  * fashion_mnist_cnn_qat.onnx: quantization-aware fine-tuning of the fp32 model for
    `--qat-epochs` epochs (default 2; Adam lr 5e-4, cosine) with fake quantization that mirrors
    npusim's post-training quantizer (models/quantize.h) at W4A4 in every layer:
      - weights: symmetric, one scale per output channel, max|w| / 7;
      - activations: asymmetric per tensor over [-8, 7], range = min/max (tracked as
        an exponential moving average of each batch's min/max, widened to hold 0),
        at the graph input and at the (post-ReLU) output of each conv / fc; pooling
        keeps its input's quantization;
      - straight-through estimator (round() passes the gradient unchanged inside
        the clipping range, zero outside).
  * fashion_mnist_cnn_binary_qat.onnx: the same with npusim's binary plan: conv1 and
    fc (first and last compute layers) at W8A8, conv2 at W1A1: sign weights (0 -> +1)
    times the per-channel mean |w|; conv1's post-ReLU output binarized to {0, c},
    c the Lloyd-Max fit (mean of the values above c/2), threshold c/2; STE.
  The exported files hold plain fp32 weights (no fake-quant nodes): npusim
  calibrates and quantizes them itself, which is what the QAT prepared them for.

After training, the script evaluates each model in torch: fp32 test accuracy and,
for the QAT models, the fake-quantized accuracy with ranges calibrated the way
`npusim accuracy` does it (min/max over the first 256 training images). It writes
the fp32 predictions of the first `--reference-count` test images to the sidecar,
so tests can compare npusim's fp32 run image by image with torch.

Measured with the defaults (one thread on a shared 2-core machine, 376 s in all):
  fashion_mnist_cnn             208 s   fp32 90.83 %
  fashion_mnist_cnn_qat          62 s   fp32 90.17 %, int4 fake-quantized 87.46 %
                                        (npusim accuracy, int4: 87.75 %)
  fashion_mnist_cnn_binary_qat   75 s   fp32 82.31 %, binary fake-quantized 88.22 %
                                        (npusim accuracy, binary: 88.12 %)
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(REPO, "models", "zoo")
INPUT_SCALE = 1.0 / 255.0  # x = pixel * INPUT_SCALE + INPUT_OFFSET
INPUT_OFFSET = 0.0
CALIBRATION_COUNT = 256  # npusim accuracy's default --calibration-count


def read_idx(path):
    """An IDX file (gzip'd) as a numpy uint8 array of its declared dims."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} values, found {array.size}")
    return array.reshape(dims)


def load_split(prefix):
    images = read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) * np.float32(INPUT_SCALE) + np.float32(INPUT_OFFSET))
    return x.unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


# ---------------------------------------------------------------- fake quantization

def round_half_away(x):
    # npusim rounds half away from zero (std::round); torch.round rounds half to even.
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


class RoundHalfAwaySTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return round_half_away(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


QRANGE = {"int8": (-128, 127), "int4": (-8, 7)}
WMAX = {"int8": 127, "int4": 7}


def fake_quant_weight(w, fmt):
    """npusim's weight quantization: per output channel, symmetric (int) or sign * mean|w| (binary)."""
    flat = w.reshape(w.shape[0], -1)
    if fmt == "binary":
        scale = flat.abs().mean(dim=1).clamp_min(1e-12)
        sign = torch.where(flat >= 0, torch.ones_like(flat), -torch.ones_like(flat))
        # STE: the binarized weight's gradient goes to the fp32 weight unchanged.
        q = flat + (sign * scale[:, None] - flat).detach()
        return q.reshape(w.shape)
    scale = (flat.abs().amax(dim=1) / WMAX[fmt]).clamp_min(1e-12)
    q = torch.clamp(RoundHalfAwaySTE.apply(flat / scale[:, None]), -WMAX[fmt], WMAX[fmt])
    return (q * scale[:, None]).reshape(w.shape)


def range_quant(lo, hi, fmt):
    """npusim's range_quant (models/calibration.cpp): scale and zero point of [lo, hi] holding 0."""
    qmin, qmax = QRANGE[fmt]
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / (qmax - qmin)
    if not scale > 0:
        return 1.0, 0
    zero_point = qmin - round_half_away(torch.tensor(lo / scale)).item()
    return scale, int(min(max(zero_point, qmin), qmax))


def lloyd_max_level(values, start, iterations=50):
    """Upper level c of the two-level {0, c} fit of non-negative values (npusim's binary_quant)."""
    c = start
    for _ in range(iterations):
        above = values[values >= c / 2]
        if above.numel() == 0:
            break
        nxt = above.mean().item()
        if nxt == c:
            break
        c = nxt
    return c


class ActQuant(nn.Module):
    """Per-tensor activation quantizer with tracked ranges (EMA in training, fixed once calibrated)."""

    def __init__(self, fmt):
        super().__init__()
        self.fmt = fmt
        self.lo = None
        self.hi = None  # binary: the upper level c
        self.momentum = 0.9

    def observe(self, x):
        x = x.detach()
        if self.fmt == "binary":
            start = self.hi if self.hi is not None else x.max().item()
            # A few iterations from the running level: it moves little between batches.
            c = lloyd_max_level(x.flatten(), start, iterations=3)
            self.hi = c if self.hi is None else self.momentum * self.hi + (1 - self.momentum) * c
            self.lo = 0.0
            return
        lo, hi = x.min().item(), x.max().item()
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            self.lo = self.momentum * self.lo + (1 - self.momentum) * lo
            self.hi = self.momentum * self.hi + (1 - self.momentum) * hi

    def forward(self, x):
        if self.fmt is None or self.fmt == "fp32":
            return x
        if self.training:
            self.observe(x)
        if self.fmt == "binary":
            c = self.hi
            # {0, c} with threshold c/2; STE passes the gradient inside [0, c].
            hard = torch.where(x >= c / 2, torch.full_like(x, c), torch.zeros_like(x))
            inside = ((x >= 0) & (x <= c)).to(x.dtype)
            return hard.detach() + (x - x.detach()) * inside
        scale, zp = range_quant(self.lo, self.hi, self.fmt)
        qmin, qmax = QRANGE[self.fmt]
        q = RoundHalfAwaySTE.apply(x / scale) + zp
        inside = ((q >= qmin) & (q <= qmax)).to(x.dtype)
        q_clamped = torch.clamp(q, qmin, qmax)
        q = q_clamped.detach() + (q - q.detach()) * inside
        return (q - zp) * scale


# ---------------------------------------------------------------- the network

# Formats per quantization point: weights of each compute layer, and the activation
# format of the graph input and of each compute layer's output (npusim's FormatPlan).
PLANS = {
    "fp32": {"w": [None, None, None], "a": [None, None, None, None]},
    "int4": {"w": ["int4", "int4", "int4"], "a": ["int4", "int4", "int4", "int4"]},
    # binary: conv1 and fc stay W8A8; conv1's output feeds the binary conv2, so it is binary.
    "binary": {"w": ["int8", "binary", "int8"], "a": ["int8", "binary", "int8", "int8"]},
}


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)
        self.set_plan("fp32")

    def set_plan(self, name):
        plan = PLANS[name]
        self.plan_name = name
        self.wfmt = plan["w"]
        self.acts = nn.ModuleList([ActQuant(f) for f in plan["a"]])

    def weight(self, layer, index):
        fmt = self.wfmt[index]
        return layer.weight if fmt is None else fake_quant_weight(layer.weight, fmt)

    def forward(self, x):
        x = self.acts[0](x)
        x = F.relu(F.conv2d(x, self.weight(self.conv1, 0), self.conv1.bias, padding=1))
        x = F.max_pool2d(self.acts[1](x), 2)
        x = F.relu(F.conv2d(x, self.weight(self.conv2, 1), self.conv2.bias, padding=1))
        x = F.max_pool2d(self.acts[2](x), 2)
        x = torch.flatten(x, 1)
        x = F.linear(x, self.weight(self.fc, 2), self.fc.bias)
        return self.acts[3](x)


class ExportCNN(nn.Module):
    """The plain fp32 network (what goes into the ONNX file)."""

    def __init__(self, trained):
        super().__init__()
        self.conv1, self.conv2, self.fc = trained.conv1, trained.conv2, trained.fc

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


# ---------------------------------------------------------------- training and evaluation

def predictions(model, x, batch=1000):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out.append(model(x[i:i + batch]).argmax(dim=1))
    return torch.cat(out)


def accuracy(model, x, y):
    return (predictions(model, x) == y).float().mean().item()


def train(model, x, y, epochs, lr, seed, log_name):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((x.shape[0] + 127) // 128)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    started = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(x.shape[0], generator=generator)
        total, count = 0.0, 0
        for i in range(0, x.shape[0], 128):
            index = order[i:i + 128]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * index.numel()
            count += index.numel()
        print(f"  {log_name} epoch {epoch + 1}/{epochs}: train loss {total / count:.4f} "
              f"({time.time() - started:.0f} s)", flush=True)


def calibrate_like_npusim(model, x_calibration):
    """Fixes each activation quantizer's range to min/max (binary: Lloyd-Max) over the calibration images."""
    saved = [(a.fmt, a.lo, a.hi) for a in model.acts]
    for a in model.acts:
        a.lo = a.hi = None
    # Collect the fp32 tensors at each quantization point: the fp32 model's values,
    # as npusim calibrates with the fp32 executor.
    plain = ExportCNN(model).eval()
    with torch.no_grad():
        t0 = x_calibration
        t1 = F.relu(plain.conv1(t0))
        t2 = F.relu(plain.conv2(F.max_pool2d(t1, 2)))
        t3 = plain.fc(torch.flatten(F.max_pool2d(t2, 2), 1))
    for a, t in zip(model.acts, [t0, t1, t2, t3]):
        if a.fmt == "binary":
            a.lo, a.hi = 0.0, lloyd_max_level(t.flatten(), t.max().item())
        elif a.fmt is not None:
            a.lo, a.hi = t.min().item(), t.max().item()
    return saved


def export(model, path):
    plain = ExportCNN(model).eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(plain, dummy, path, opset_version=13, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"])
    checked = onnx.load(path)
    onnx.checker.check_model(checked)
    ops = sorted({node.op_type for node in checked.graph.node})
    print(f"  wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes, ops {ops})")


def write_sidecar(path, model_file, notes, results, reference_predictions):
    sidecar = {
        "schema": "npusim.preprocess/1",
        "model": model_file,
        "input": "x = pixel * scale + offset, pixel the uint8 value (0..255) of the IDX image, "
                 "laid out as the model input 1x28x28",
        "scale": INPUT_SCALE,
        "offset": INPUT_OFFSET,
        "training": notes,
        "torch": results,
        "torch_fp32_predictions_first_test_images": "".join(str(int(p)) for p in reference_predictions),
    }
    with open(path + ".tmp", "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(f"  wrote {os.path.relpath(path, REPO)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--qat-epochs", type=int, default=2)
    parser.add_argument("--reference-count", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=ZOO)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    start = time.time()
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    x_calibration = x_train[:CALIBRATION_COUNT]
    print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

    model = FashionCNN()
    t = time.time()
    train(model, x_train, y_train, args.epochs, 3e-3, seed=1, log_name="fp32")
    fp32_seconds = time.time() - t
    fp32_state = {k: v.clone() for k, v in model.state_dict().items()}
    results = {}

    def finish(name, notes, seconds, qat_plan=None):
        plain = ExportCNN(model)
        fp32_acc = accuracy(plain, x_test, y_test)
        result = {"fp32_test_accuracy": round(fp32_acc, 6), "train_seconds": round(seconds, 1)}
        line = f"{name}: torch fp32 test accuracy {100 * fp32_acc:.2f} %"
        if qat_plan:
            saved = calibrate_like_npusim(model, x_calibration)
            q_acc = accuracy(model, x_test, y_test)
            for a, (fmt, lo, hi) in zip(model.acts, saved):
                a.fmt, a.lo, a.hi = fmt, lo, hi
            result[f"{qat_plan}_fake_quant_test_accuracy"] = round(q_acc, 6)
            line += f", fake-quantized {qat_plan} (min/max over {CALIBRATION_COUNT} training images) {100 * q_acc:.2f} %"
        print(line + f" (training {seconds:.0f} s)", flush=True)
        reference = predictions(plain, x_test[:args.reference_count])
        result["first_test_images"] = args.reference_count
        result["first_test_images_correct"] = int((reference == y_test[:args.reference_count]).sum())
        path = os.path.join(args.out, name + ".onnx")
        export(model, path)
        write_sidecar(os.path.join(args.out, name + ".preprocess.json"), name + ".onnx", notes, result, reference)
        results[name] = result

    finish("fashion_mnist_cnn",
           f"fp32, Adam lr 3e-3 cosine, batch 128, {args.epochs} epochs, seed 0/1",
           fp32_seconds)

    for plan, name, seed in (("int4", "fashion_mnist_cnn_qat", 2), ("binary", "fashion_mnist_cnn_binary_qat", 3)):
        model.load_state_dict(fp32_state)
        model.set_plan(plan)
        t = time.time()
        train(model, x_train, y_train, args.qat_epochs, 5e-4, seed=seed, log_name=f"qat-{plan}")
        seconds = time.time() - t
        finish(name, f"QAT fine-tune of fashion_mnist_cnn, {plan} fake quantization (npusim's plan), "
                     f"Adam lr 5e-4 cosine, batch 128, {args.qat_epochs} epochs, seed {seed}",
               seconds, qat_plan=plan)
        model.set_plan("fp32")

    print(f"total {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
