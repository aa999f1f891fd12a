#!/usr/bin/env bash
# Runs every hostile or careless input of issue 14's "What was measured" list
# against build/npusim and prints, per case: exit status, the first line of
# stderr, wall time and peak RSS (/usr/bin/time -v). Each case has 120 s.
#
#   scripts/hostile_inputs.sh [path/to/npusim]
#
# Expected: every case exits 1 (bad input) or 2 (a number out of range on the
# command line; the sweep-with-failures case 6) in seconds with a bounded RSS.
set -uo pipefail
cd "$(dirname "$0")/.."
npusim=$(realpath "${1:-build/npusim}")
work=$(mktemp -d /tmp/npusim-hostile.XXXXXX)
trap 'rm -rf "$work"' EXIT
cfg=configs/edge_int8_32x32.json
tiny=models/zoo/tiny_mixed.json

# --- inputs -----------------------------------------------------------------
python3 - "$work" <<'PY'
import struct, sys, os
w = sys.argv[1]
def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, wire, payload):
    key = varint((num << 3) | wire)
    return key + (varint(payload) if wire == 0 else varint(len(payload)) + payload)
def s(num, text): return field(num, 2, text.encode() if isinstance(text, str) else text)
def value_info(name, dims):
    shape = b"".join(field(1, 2, field(1, 0, d)) for d in dims)
    tensor_type = field(1, 0, 1) + field(2, 2, shape)
    return s(1, name) + field(2, 2, field(1, 2, tensor_type))
def node(op, inputs, outputs, name):
    return b"".join(s(1, i) for i in inputs) + b"".join(s(2, o) for o in outputs) + s(3, name) + s(4, op)
def model(dims, opset=13):
    shape = b"".join(field(1, 0, d) for d in [len(dims)]) + field(2, 0, 7) + s(8, "shape") + \
        field(7, 2, b"".join(varint(d) for d in dims))
    graph = field(1, 2, node("ConstantOfShape", ["shape"], ["z"], "fill")) + \
        field(1, 2, node("Add", ["x", "z"], ["y"], "add")) + s(2, "g") + field(5, 2, shape) + \
        field(11, 2, value_info("x", [1, 4])) + field(12, 2, value_info("y", [1, 4]))
    return field(1, 0, 8) + field(8, 2, s(1, "") + field(2, 0, opset)) + field(7, 2, graph)
open(f"{w}/cos_2e40.onnx", "wb").write(model([1 << 20, 1 << 20]))
open(f"{w}/cos_5e8.onnx", "wb").write(model([500000000]))
open(f"{w}/opset999.onnx", "wb").write(model([1, 4], opset=999))
open(f"{w}/idx_ffff.idx", "wb").write(b"\0\0\x08\x03" + b"\0\0\0\x01" + b"\xff" * 8)
open(f"{w}/idx_short.idx", "wb").write(b"\0\0\x08\x03" + struct.pack(">III", 2**31 - 1, 1, 1) + b"\x01" * 12)
open(f"{w}/labels.idx", "wb").write(b"\0\0\x08\x01" + struct.pack(">I", 1) + b"\x01")
deep = "[" * 100000 + "]" * 100000
for name in ["deep_config.json", "deep_network.json", "deep_tech.json", "deep_sweep.json"]:
    open(f"{w}/{name}", "w").write(deep)
open(f"{w}/bad_name.csv", "wb").write(b"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                                      b"Channels, Num Filter, Strides,\nc\xff, 8, 8, 3, 3, 4, 4, 1,\n")
def net(name, shape, layers):
    import json
    return json.dumps({"format_version": 1, "name": name, "input": {"name": "input", "shape": shape}, "layers": layers})
huge = [{"name": f"conv{i}", "type": "conv2d", "input": "input" if i == 0 else f"conv{i-1}", "filters": 1024,
         "kernel": [3, 3], "padding": [1, 1]} for i in range(3)]
open(f"{w}/huge.json", "w").write(net("huge", [64, 1024, 1024], huge))
fc = [{"name": f"fc{i}", "type": "fc", "input": "input" if i == 0 else f"fc{i-1}", "units": 16384} for i in range(100)]
open(f"{w}/fc100.json", "w").write(net("fc100", [16384, 1, 1], fc))
values = list(range(1, 33))
import json
base = os.path.abspath("configs/edge_int8_32x32.json"); tiny = os.path.abspath("models/zoo/tiny_mixed.json")
open(f"{w}/million.json", "w").write(json.dumps({"format_version": 1, "base": base, "networks": [tiny], "axes": {
    "array.rows": values, "array.cols": values, "memory.sram.weight.kb": values, "memory.sram.ifmap.kb": values}}))
lenet = os.path.abspath("models/zoo/lenet5.json")
open(f"{w}/failing.json", "w").write(json.dumps({"format_version": 1, "base": base, "networks": [lenet],
    "axes": {"memory.sram.weight.kb": [1, 256]}}))
PY
cp "$tiny" "$work/model.json"
mkdir -p "$work/readonly_parent"

# --- cases ------------------------------------------------------------------
printf '%-34s %4s %7s %9s  %s\n' case exit wall_s rss_MB "first line of stderr"
run_case() {  # run_case NAME ARGS...
  local name=$1
  shift
  local err=$work/err time=$work/time
  (cd "$work" && timeout 120 /usr/bin/time -v -o "$time" "$npusim" "$@" >"$work/out" 2>"$err")
  local status=$?
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$time" 2>/dev/null | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident' "$time" 2>/dev/null | awk '{printf "%.1f", $NF / 1024}')
  [ "$status" -eq 124 ] && wall=">120"
  local line
  line=$(head -c 300 "$err" | head -1)
  [ -z "$line" ] && line="(stdout) $(tail -1 "$work/out" | head -c 300)"  # sweep reports on stdout
  printf '%-34s %4s %7s %9s  %s\n' "$name" "$status" "${wall:-?}" "${rss:-?}" "$line"
}
R="run --config $PWD/$cfg --model $PWD/$tiny"
run_case onnx-constantofshape-2^40      run --config "$PWD/$cfg" --model cos_2e40.onnx
run_case onnx-constantofshape-5e8       run --config "$PWD/$cfg" --model cos_5e8.onnx
run_case onnx-opset-999                 run --config "$PWD/$cfg" --model opset999.onnx
run_case set-invalid-utf8-with-json     $R --set "$(printf 'name=\377')" --json out.json
run_case csv-name-invalid-utf8          run --config "$PWD/$cfg" --model bad_name.csv
run_case idx-0xffffffff-squared         accuracy --config "$PWD/$cfg" --model "$PWD/models/zoo/fashion_mnist_cnn.onnx" --images idx_ffff.idx --labels labels.idx
run_case idx-28-bytes-declaring-2^31    accuracy --config "$PWD/$cfg" --model "$PWD/models/zoo/fashion_mnist_cnn.onnx" --images idx_short.idx --labels labels.idx
run_case json-100000-deep-config        run --config deep_config.json --model "$PWD/$tiny"
run_case json-100000-deep-network       run --config "$PWD/$cfg" --model deep_network.json
run_case json-100000-deep-tech-table    $R --set energy.technology="$work/deep_tech.json"
run_case json-100000-deep-sweep         sweep deep_sweep.json --out sweep-deep
run_case config-dev-zero                run --config /dev/zero --model "$PWD/$tiny"
run_case config-is-a-directory          run --config "$work" --model "$PWD/$tiny"
run_case network-over-24GB              run --config "$PWD/$cfg" --model huge.json
run_case fc-100x2^28-weights            run --config "$PWD/$cfg" --model fc100.json
run_case calibration-samples-1e9        $R --calibration-samples 1000000000
run_case pe-fidelity-4096x4096          $R --fidelity pe --set array.rows=4096 --set array.cols=4096
run_case sweep-1000000-points           sweep million.json --out sweep-million
run_case trace-window-ns-2^63-1         $R --trace t1 --trace-window-ns 9223372036854775807
run_case trace-from-us-nan              $R --trace t2 --trace-from-us nan
run_case trace-from-us-inf              $R --trace t3 --trace-from-us inf
run_case trace-from-us-1e300            $R --trace t4 --trace-from-us 1e300
run_case json-equals-model              run --config "$PWD/$cfg" --model model.json --json model.json
run_case json-equals-html               $R --json same.out --html same.out
run_case json-unwritable                $R --json /sys/npusim-report.json
run_case trace-dir-before-option-error  $R --trace t5 --trace-layers no_such_layer
[ -e "$work/t5" ] && echo "  FAIL: the trace directory t5 was created" || echo "  ok: trace directory t5 not created"
run_case sweep-with-a-failed-point      sweep failing.json --out sweep-failing

# Full disk during --trace: a 256 kB tmpfs (needs root; skipped otherwise).
mkdir -p "$work/small"
if mount -t tmpfs -o size=256k tmpfs "$work/small" 2>/dev/null; then
  run_case trace-on-a-full-disk         run --config "$PWD/$cfg" --model "$PWD/models/zoo/lenet5.json" --trace small/t
  ls -A "$work/small/t" 2>/dev/null | sed 's/^/  left in the trace dir: /'
  umount "$work/small"
else
  echo "trace-on-a-full-disk               skipped (cannot mount a tmpfs here)"
fi

# kill -9 during --trace, then a second run into the same directory.
root=$PWD
(cd "$work" && { "$npusim" run --config "$root/$cfg" --model "$root/models/zoo/resnet18.json" --trace killed \
   >/dev/null 2>&1 & pid=$!; sleep 6; kill -9 $pid; wait $pid 2>/dev/null; })
echo "after kill -9: $(ls -A "$work/killed" 2>/dev/null | tr '\n' ' ')"
(cd "$work" && "$npusim" $R --trace killed >/dev/null 2>&1)
echo "after a second run: $(ls -A "$work/killed" 2>/dev/null | tr '\n' ' ')"
