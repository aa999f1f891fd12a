#!/usr/bin/env bash
# Cycles, stalls by cause and utilization of the networks issue 15 names, for
# one npusim binary: run it on two builds to compare the timing models.
# Usage: bench/overlap_figures.sh [path/to/npusim] (default build/npusim)
set -euo pipefail
cd "$(dirname "$0")/.."
npusim=${1:-build/npusim}
mkdir -p out/overlap
printf '%-34s %10s %8s %8s %8s %8s %8s %8s %7s %6s\n' case cycles ifmap weight ofmap sram ppu compute util_pct wall_s
run() {
  local name=$1 config=$2 model=$3
  shift 3
  local json=out/overlap/$name.json
  local start end
  start=$(date +%s.%N)
  "$npusim" run --config "$config" --model "$model" "$@" --json "$json" > /dev/null
  end=$(date +%s.%N)
  /usr/bin/python3 - "$json" "$name" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
mem = t["memory"]
st = {k: mem["stall_cycles"].get(k, 0) for k in ("ifmap", "weight", "ofmap", "sram", "ppu")}
compute = mem["compute_cycles"]
cycles = t["cycles"]
util = t["utilization_pct"]
print("%-34s %10d %8d %8d %8d %8d %8d %8d %7.2f %6.2f" % (sys.argv[2], cycles, st["ifmap"], st["weight"], st["ofmap"], st["sram"], st["ppu"], compute, util or 0, float(sys.argv[4]) - float(sys.argv[3])))
PY
}
run lenet5_int8_lpddr4 configs/edge_int8_32x32.json models/zoo/lenet5.json
run resnet18_int8_lpddr4 configs/edge_int8_32x32.json models/zoo/resnet18.json
run resnet18_int8_ddr4 configs/edge_int8_32x32.json models/zoo/resnet18.json --set memory.dram.preset=ddr4-3200
run resnet18_fp32_lpddr4 configs/edge_fp32_32x32.json models/zoo/resnet18.json
run resnet18_int8_tpu_v1_like configs/presets/tpu_v1_like.json models/zoo/resnet18.json
run resnet50_int8_tpu_v1_like configs/presets/tpu_v1_like.json models/zoo/resnet50.json
