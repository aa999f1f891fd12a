#!/usr/bin/env bash
# DRAM controller against the reference figures of issue 12 (DRAMsim3 with
# configs/DDR4_8Gb_x8_3200.ini, closed loop, 64 B requests; the settings are
# in configs/dram/ddr4_3200_matched_*.json). Prints npusim's figure beside the
# reference and the difference; the expected band is within 10 % of each.
# Also prints the model's speed (requests per second of host wall time,
# host-dependent) against the goal of 2 M requests/s on one core; a row below
# it is marked "slow" (a note, not a failure: a loaded host is slower).
#
#   bench/dram_bench.sh [BUILD_DIR] [REQUESTS] [OUTSTANDING]   (default: build 200000 48)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
requests=${2:-200000}
outstanding=${3:-48}
npusim=$build/npusim
[ -x "$npusim" ] || { echo "dram_bench: $npusim not built" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

status=0
row() {  # mapping pattern field reference unit
  local mapping=$1 pattern=$2 field=$3 reference=$4 unit=$5
  local config=$root/configs/dram/ddr4_3200_matched_${mapping}.json
  local json=$out/${mapping}_${pattern}.json
  "$npusim" dram-bench --config "$config" --pattern "$pattern" --requests "$requests" \
    --outstanding "$outstanding" --json "$json" >/dev/null 2>"$out/speed"
  python3 - "$json" "$field" "$reference" "$mapping" "$pattern" "$unit" "$(cat "$out/speed")" <<'PY' || status=1
import json, sys
path, field, reference, mapping, pattern, unit, speed = sys.argv[1:]
got = json.load(open(path))[field]
ref = float(reference)
diff = 100.0 * (got - ref) / ref
ok = "ok" if abs(diff) <= 10.0 else "OUT OF BAND"
mrps = speed.split()[1]
slow = "" if float(mrps) >= 2.0 else ", slow"
print(f"{mapping:14} {pattern:6} {field:26} npusim {got:8.2f}  reference {ref:8.2f} {unit:6} {diff:+6.1f} %  {ok:12} ({mrps} M req/s{slow})")
sys.exit(0 if abs(diff) <= 10.0 else 1)
PY
}
row rochrababgco seq bandwidth_gbps 16.87 GB/s
row rochrababgco rand bandwidth_gbps 20.45 GB/s
row rochrababgco mix bandwidth_gbps 15.15 GB/s
row rorabachcobg seq bandwidth_gbps 24.24 GB/s
row rorabachcobg rand bandwidth_gbps 20.53 GB/s
row rorabachcobg mix bandwidth_gbps 22.56 GB/s
row rochrababgco seq1 read_latency_avg_cycles 28.6 cycles
row rochrababgco rand1 read_latency_avg_cycles 73.4 cycles
exit $status
