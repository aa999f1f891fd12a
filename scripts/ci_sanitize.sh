#!/usr/bin/env bash
# The sanitizer leg of CI (issue 14): one clang build with ASan, UBSan and the
# fuzzers' coverage instrumentation (build-fuzz/), the whole test suite once
# under it, then every fuzz target for a short bounded time.
#
#   scripts/ci_sanitize.sh [SECONDS_PER_FUZZ_TARGET]   (default 30)
#
# Not in .ci/run: on 2 cores it takes far longer than the 20 minutes CI may
# spend (docs/robustness.md has the measured figures).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
start=$(date +%s)
scripts/fuzz_configure.sh
cmake --build build-fuzz -j"${NPUSIM_JOBS:-2}"
cmake --build build-fuzz -j"${NPUSIM_JOBS:-2}" --target fuzz_all
built=$(date +%s)
# Leak reports from the SystemC kernel's process-lifetime objects are not findings.
(cd build-fuzz && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest -j"${NPUSIM_JOBS:-2}" --timeout 1800 --output-on-failure)
tested=$(date +%s)
scripts/fuzz.sh "$seconds"
echo "ci_sanitize: build $((built - start)) s, suite $((tested - built)) s, fuzz $(($(date +%s) - tested)) s"
