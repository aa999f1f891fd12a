#!/usr/bin/env bash
# Builds and runs the whole test suite; the output ends in CTest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
