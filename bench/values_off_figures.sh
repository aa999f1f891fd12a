#!/usr/bin/env bash
# CPU seconds (user + system) and peak resident set of `npusim run` on
# SCALE-Sim topologies, values on against --values off (issue 19), for one
# npusim binary. Each case runs once per mode; a values run the resource
# estimate refuses (over --max-sim-minutes) is printed as "refused".
# Usage: bench/values_off_figures.sh [path/to/npusim] [case ...]
#   (default build/npusim, every case; cases by name, e.g. resnet18_csv_os_calc)
# CPU s is user + system of one run (runs under 0.1 s: the mean of
# VALUES_OFF_REPS runs, default 50); RSS is the peak of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
npusim=${1:-build/npusim}
shift || true
out=out/values_off
mkdir -p "$out"

# SCALE-Sim's 32x32 OS config in CALC mode (no memory model: the array's
# cycles). USER mode's 64 KB SRAMs are refused for OS (issue 19), so the
# memory-model cases use configs/edge_int8_32x32.json (LPDDR4).
cfg() {
  local mode=$1 file=$out/scale_32x32_os_$1.cfg
  cat > "$file" <<CFG
[general]
run_name = scale_32x32_os_$mode
[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1
[run_presets]
InterfaceBandwidth: $mode
CFG
  echo "$file"
}
calc=$(cfg CALC)

printf '%-34s %-4s %9s %9s %16s %s\n' case vals cpu_s rss_mb cycles macs
run() {
  local name=$1 config=$2 model=$3
  shift 3
  if [ "${#selected[@]}" -gt 0 ] && [[ ! " ${selected[*]} " == *" $name "* ]]; then return; fi
  for values in on off; do
    local json=$out/$name.$values.json
    rm -f "$json"
    local status=0
    timeout "$limit_s" /usr/bin/time -f '%U %S %M' -o "$out/time" "$npusim" run --config "$config" --model "$model" \
      "$@" --values "$values" --json "$json" > /dev/null 2> "$out/stderr" || status=$?
    if [ "$status" -ne 0 ]; then
      [ "$status" -eq 124 ] && echo "not finished in ${limit_s} s" > "$out/stderr"
      printf '%-34s %-4s %s\n' "$name" "$values" "refused or failed ($status): $(head -c 160 "$out/stderr")"
      continue
    fi
    read -r user_s sys_s rss_kb < "$out/time"
    # /usr/bin/time counts in 10 ms: a run below 0.1 s is timed over $reps runs.
    local reps=1
    if /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) + float(sys.argv[2]) < 0.1 else 1)" \
      "$user_s" "$sys_s"; then
      reps=$small_reps
      /usr/bin/time -f '%U %S %M' -o "$out/time" bash -c 'for i in $(seq "$0"); do "$@" > /dev/null; done' "$reps" \
        "$npusim" run --config "$config" --model "$model" "$@" --values "$values"
      read -r user_s sys_s _ < "$out/time"
    fi
    /usr/bin/python3 - "$json" "$name" "$values" "$user_s" "$sys_s" "$rss_kb" "$reps" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
cpu = (float(sys.argv[4]) + float(sys.argv[5])) / int(sys.argv[7])
print("%-34s %-4s %9.4f %9.1f %16d %d" % (sys.argv[2], sys.argv[3], cpu, int(sys.argv[6]) / 1024, t["cycles"], t["macs"]))
PY
  done
}
selected=("$@")
limit_s=${VALUES_OFF_LIMIT_S:-1200}   # a run still going after this is reported as not finished
small_reps=${VALUES_OFF_REPS:-50}

for csv in models/zoo/scalesim/*.csv; do
  base=$(basename "$csv" .csv)
  run "${base}_os_calc" "$calc" "$csv" --set array.timing=scalesim
done
run resnet18_csv_os_calc "$calc" bench/topologies/resnet18.csv --set array.timing=scalesim
run resnet18_csv_int8_lpddr4 configs/edge_int8_32x32.json bench/topologies/resnet18.csv
run resnet50_4k_csv_os_calc "$calc" bench/topologies/resnet50_4k_no_pool.csv --set array.timing=scalesim
run resnet50_4k_csv_int8_lpddr4 configs/edge_int8_32x32.json bench/topologies/resnet50_4k_no_pool.csv
