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
