#!/usr/bin/env bash
# The sweep benchmark: 100 points of ResNet-18 over array shape and format with
# -j 2, then 100 points whose simulation is trivial (tiny_mixed). Prints points
# per minute and the sweep engine's own cost per point: the parent's CPU time
# (expanding the spec, spawning, recording) and the whole cost of a trivial
# point (process start, config and network load, report write and parse).
#
#   bench/sweep_bench.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
npusim=$build/npusim
[ -x "$npusim" ] || { echo "sweep_bench: $npusim not built" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # name spec
  local name=$1 spec=$2
  echo "== $name"
  "$npusim" sweep "$spec" -j 2 --out "$out/$name" --quiet | grep -E '^(npusim sweep:|ran |time:|results:)'
}
run trivial "$root/configs/sweeps/bench_trivial.json"
run resnet18 "$root/configs/sweeps/bench_resnet18.json"
