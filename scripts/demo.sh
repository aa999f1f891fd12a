#!/usr/bin/env bash
# Fresh machine to first result: installs dependencies, builds, and runs the
# bundled LeNet-5 on the 32x32 int8 edge preset.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
./scripts/build.sh
./build/npusim run --config configs/edge_int8_32x32.json --model models/zoo/lenet5.json "$@"
