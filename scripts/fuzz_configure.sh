#!/usr/bin/env bash
# Configures build-fuzz/, the one instrumented build that scripts/fuzz.sh and
# scripts/ci_sanitize.sh share: clang, ASan + UBSan + libFuzzer coverage on
# every library (-DNPUSIM_FUZZ=ON). -O1 with line tables only: sanitizer
# reports still name file and line, and the cold build is about half the time
# of -O2 -g (docs/robustness.md has the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-O1 -gline-tables-only -DNDEBUG"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNPUSIM_FUZZ=ON \
  -DNPUSIM_NATIVE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$flags" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$flags" > /dev/null
