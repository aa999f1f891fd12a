#!/usr/bin/env bash
# Installs every Debian package npusim needs to build, test and run.
# Idempotent; run as root (CI) or through sudo.
set -euo pipefail
packages=(
  build-essential cmake pkgconf
  libsystemc-dev            # SystemC 2.3.4 with TLM-2.0
  libboost-program-options-dev
  nlohmann-json3-dev
  libgtest-dev
  zlib1g-dev                # gzip'd IDX datasets (models/idx_reader)
  libonnx-dev libprotobuf-dev  # ONNX protobuf classes for models/onnx_import
  libonnx-testdata          # ONNX backend node tests: the importer's conformance suite
  dataset-fashion-mnist     # test images for the bundled Fashion-MNIST model's accuracy table
  slurm-wlm munge           # single-node Slurm for the sweep's cluster test
  chromium                  # headless, for the HTML report's browser test (tests/html_browser_test.cpp)
  clang-format clang-tidy   # scripts/lint.sh: formatting and static checks on changed files
  git                       # the doc test runs the docs' commands on a fresh clone (tests/doc_commands_test.sh)
  python3-numpy             # tests/npy_io_test.cpp: numpy reads what npusim writes and the other way round
  nodejs                    # scripts/onnxruntime/run.js (onnxruntime-node, below; npm comes with it)
  python3-torch python3-torchvision python3-onnx  # scripts/export_torchvision_qdq.py (bench/onnxruntime_compare.sh)
  clang libclang-rt-14-dev  # libFuzzer, ASan and UBSan: scripts/fuzz.sh, scripts/ci_sanitize.sh
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# onnxruntime, the outside reference (scripts/onnxruntime/run.js), from npm into
# .deps/npm (git-ignored). --ignore-scripts: the package ships its CPU library;
# its install script only fetches optional GPU providers from elsewhere.
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$repo/.deps/npm/node_modules/onnxruntime-node" ]; then
  mkdir -p "$repo/.deps/npm"
  npm install --no-audit --no-fund --ignore-scripts --prefix "$repo/.deps/npm" onnxruntime-node@1.30.0 >/dev/null
fi
