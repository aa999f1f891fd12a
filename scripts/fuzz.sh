#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang, ASan and UBSan (build-fuzz/)
# and runs each for a bounded time on a corpus seeded from the repository's own
# files. Exits non-zero when any target finds a crash, a hang (over 30 s on
# one input), a sanitizer report or runs out of its 2 GB.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default: 60 s, every target)
#   targets: config scalesim_cfg network_json scalesim_csv onnx idx npy tech_table sweep_spec simulate
#
# The corpus grows in build-fuzz/corpus/<target>/ across runs; findings go to
# build-fuzz/findings/<target>/, each run's log to build-fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(config scalesim_cfg network_json scalesim_csv onnx idx npy tech_table sweep_spec simulate)
[ $# -gt 0 ] && targets=("$@") || targets=("${all[@]}")

scripts/fuzz_configure.sh
cmake --build build-fuzz -j"${NPUSIM_FUZZ_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

# Only the targets of this run are (re)seeded, so two runs on different targets can share build-fuzz/.
wanted() { [[ " ${targets[*]} " == *" $1 "* ]]; }
seed() {  # seed TARGET FILE...: copies the repository's files into the target's seed directory
  wanted "$1" || return 0
  local dir=build-fuzz/seeds/$1
  shift
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr / _)"; done
}
seed config configs/*.json configs/presets/*.json
wanted config && printf '%s\n--set\narray.rows=64\nformats.weight=int4\nmemory.sram.weight.kb=1\n' \
  "$(cat configs/edge_int8_32x32.json)" > build-fuzz/seeds/config/with_set.json
seed network_json $(ls models/zoo/*.json | grep -v preprocess)
seed scalesim_csv models/zoo/scalesim/*.csv tests/data/scalesim/*.csv
seed scalesim_cfg
wanted scalesim_cfg && printf '[general]\nrun_name = s\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nBandwidth : 10\nDataflow : os\n[run_presets]\nInterfaceBandwidth: USER\n' \
  > build-fuzz/seeds/scalesim_cfg/user.cfg
seed onnx models/zoo/*.onnx $(find /usr/share -path '*onnx*' -name model.onnx -size -8k 2>/dev/null | head -40)
seed tech_table configs/tech/*.json
seed sweep_spec configs/sweeps/*.json
seed simulate models/zoo/tiny_mixed.json models/zoo/lenet5.json
seed idx
seed npy
if wanted npy; then  # numpy's own files: a float32 image, an int8 vector, a scalar, a version 2.0 header
  /usr/bin/python3 - build-fuzz/seeds/npy <<'PY'
import sys, numpy as np
d = sys.argv[1]
np.save(d + "/image_f32.npy", np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2))
np.save(d + "/labels_i8.npy", np.array([1, -2, 3], dtype=np.int8))
np.save(d + "/scalar_f64.npy", np.float64(2.5))
np.lib.format.write_array(open(d + "/v2_u8.npy", "wb"), np.zeros((2, 2), np.uint8), version=(2, 0))
PY
fi
if wanted idx; then
  printf '\0\0\x08\x01\0\0\0\x03\x01\x02\x03' > build-fuzz/seeds/idx/labels.idx
  printf '\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02\x01\x02\x03\x04' > build-fuzz/seeds/idx/images.idx
  gzip -c build-fuzz/seeds/idx/images.idx > build-fuzz/seeds/idx/images.idx.gz
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t" build-fuzz/logs
  log=build-fuzz/logs/$t.log
  if build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$t/" \
       "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  printf '%-13s %-6s %3s s  execs %-9s cov %-6s ft %-6s corpus %s\n' "$t" "$status" "$seconds" "$execs" "$cov" "$ft" \
    "$(ls "build-fuzz/corpus/$t" | wc -l)"
done
exit $failed
