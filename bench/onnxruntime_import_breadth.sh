#!/usr/bin/env bash
# Which torchvision networks, as torch.onnx writes them, npusim imports and runs:
#   [MODELS=resnet50,...] bench/onnxruntime_import_breadth.sh [BUILD_DIR] [COUNT]
# Exports ResNet-50, DenseNet-121, MNASNet 0.5, SqueezeNet 1.1, VGG-11,
# MobileNetV3-Small, EfficientNet-B0 and ShuffleNetV2 x0.5 in FP32 (scripts/export_torchvision_fp32.py,
# seeded random weights, COUNT seeded N(0, 1) inputs, default 2), runs
# onnxruntime on them (scripts/onnxruntime/run.js), then
# tests/onnx_torchvision_fp32_test.cpp with NPUSIM_TV_FP32_DIR set, which prints
# per network either how many logits agree with onnxruntime or the one
# message listing every unsupported node. The export takes about 2 minutes
# and VGG-11's 224 x 224 simulated inference about as long again.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
count="${2:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
models="${MODELS:-resnet50,densenet121,mnasnet0_5,squeezenet1_1,vgg11,mobilenet_v3_small,efficientnet_b0,shufflenet_v2_x0_5}"
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null || [ ! -d "$repo/.deps/npm/node_modules/onnxruntime-node" ]; then
  echo "onnxruntime_import_breadth: needs python3-torch, python3-torchvision, python3-onnx and onnxruntime-node (scripts/install_deps.sh); skipped"
  exit 77  # CTest's SKIP_RETURN_CODE
fi
/usr/bin/python3 "$repo/scripts/export_torchvision_fp32.py" "$work" --count "$count" --models "$models" 2>/dev/null
for model in ${models//,/ }; do
  node "$repo/scripts/onnxruntime/run.js" "$work/$model.onnx" "$work/${model}_inputs.npy" "$work/${model}_ort.npy"
done
NPUSIM_TV_FP32_DIR="$work" "$build/npusim_tests" --gtest_filter='Export/TorchvisionFp32.*'
