#!/usr/bin/env bash
# npusim against onnxruntime on torch-exported torchvision models:
#   [MODELS=resnet18,mobilenet_v2,googlenet] bench/onnxruntime_compare.sh [BUILD_DIR] [COUNT] [SIZE]
# Exports int8 QDQ and fp32 ResNet-18, MobileNetV2 and GoogLeNet
# (scripts/export_torchvision_qdq.py, seeded random weights, COUNT seeded
# N(0, 1) inputs of 3 x SIZE x SIZE, default 100 and 32), runs onnxruntime on
# them (scripts/onnxruntime/run.js), then tests/onnxruntime_compare_test.cpp
# with NPUSIM_ORT_DIR set, which prints how many logits agree.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
count="${2:-100}"
size="${3:-32}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
models="${MODELS:-resnet18,mobilenet_v2,googlenet}"
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null || [ ! -d "$repo/.deps/npm/node_modules/onnxruntime-node" ]; then
  echo "onnxruntime_compare: needs python3-torch, python3-torchvision, python3-onnx and onnxruntime-node (scripts/install_deps.sh); skipped"
  exit 77  # CTest's SKIP_RETURN_CODE
fi
/usr/bin/python3 "$repo/scripts/export_torchvision_qdq.py" "$work" --count "$count" --size "$size" --models "$models" 2>/dev/null
for model in ${models//,/ }; do
  for kind in int8 fp32; do
    node "$repo/scripts/onnxruntime/run.js" "$work/${model}_${kind}.onnx" "$work/inputs.npy" "$work/${model}_${kind}_ort.npy"
  done
done
NPUSIM_ORT_DIR="$work" "$build/npusim_tests" --gtest_filter='Torchvision/OnnxruntimeCompare.*'
