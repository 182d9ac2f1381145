#!/usr/bin/env bash
# End-to-end smoke test of the `cortex` command: a few training steps on
# Fashion-MNIST, evaluate, predict on a PNG, summary, and the clear errors for
# bad input (each must exit non-zero with a message, never crash).
set -uo pipefail
cortex=${1:?usage: cli_smoke.sh PATH_TO_CORTEX}
dir=$(mktemp -d)
busy=()
trap 'kill "${busy[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_status RC WORDS CMD...: CMD exits RC (1: a handled error, 2: a usage error; never a
# signal) and stderr names WORDS, in words for a user: no internal function names
# ("write_picture expects ...").
expect_status() {
  local want=$1 words=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"
  local rc=$?
  [[ $rc -eq $want ]] || fail "expected exit $want from '$*', got $rc: $(cat "$dir/err")"
  grep -q -- "$words" "$dir/err" || fail "'$*' did not say '$words': $(cat "$dir/err")"
  ! grep -qE '\b[a-z]+_[a-z_]+( expects| needs|: )' "$dir/err" || fail "'$*' names an internal function: $(cat "$dir/err")"
}
expect_error() { expect_status 1 "$@"; }
expect_usage() { expect_status 2 "$@"; }

# The command line guides: help without a command, suggestions, plain range errors.
"$cortex" >"$dir/help" 2>&1 || fail "cortex alone exits $?"
grep -q "train .*train a model" "$dir/help" && grep -q "cortex COMMAND --help" "$dir/help" || fail "help: $(cat "$dir/help")"
expect_usage "unknown command 'trian'; did you mean 'train'?" "$cortex" trian
expect_usage "unknown option '--epoch'; did you mean '--epochs'?" "$cortex" train --epoch 3
expect_usage "cortex train: --epochs must be >= 1, got -1" "$cortex" train --epochs -1
expect_usage "--epochs must be a whole number >= 1, got 'abc'" "$cortex" train --epochs abc
expect_usage "--batch-size must be a whole number, got 2.5" "$cortex" train --batch-size 2.5
expect_usage "--validation-split must be in \[0, 1), got 1" "$cortex" train --validation-split 1
expect_usage "--lr must be > 0, got 0" "$cortex" train --lr 0
expect_usage "--optimizer must be sgd, .* got 'adma'; did you mean 'adam'?" "$cortex" train --optimizer adma
expect_usage "KIND must be model, filters, .*; did you mean 'filters'?" "$cortex" visualize filterz m.cortex
expect_usage "unexpected argument 'extra'" "$cortex" evaluate m.cortex extra
expect_usage "MODEL is required" "$cortex" predict

if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  "$cortex" train --epochs 1 --max-steps 2 --batch-size 32 --verbose 2 --output "$dir/m.cortex" --history "$dir/h.csv" \
    >"$dir/train.log" 2>&1 || fail "train: $(cat "$dir/train.log")"
  grep -q "2/2 \[==============================\]" "$dir/train.log" || fail "no progress line: $(cat "$dir/train.log")"
  grep -q "^epoch,accuracy,loss,val_accuracy,val_loss" "$dir/h.csv" || fail "history header: $(head -1 "$dir/h.csv")"
  "$cortex" evaluate "$dir/m.cortex" --batch-size 500 --device cpu >"$dir/eval.log" || fail "evaluate"
  grep -q "^Test loss: " "$dir/eval.log" && grep -q "^Test accuracy: " "$dir/eval.log" || fail "evaluate output"
  # PNGs written with the standard library only: a 56x56 grey ramp, and a tall colour
  # photo (a dark garment on a light background).
  /usr/bin/python3 - "$dir/img.png" "$dir/photo.png" <<'PY'
import struct, sys, zlib
def write_png(path, w, h, colour, pixel):
    rows = b"".join(b"\x00" + bytes(c for x in range(w) for c in pixel(x, y)) for y in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if colour else 0, 0, 0, 0)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
                           + chunk(b"IEND", b""))
write_png(sys.argv[1], 56, 56, False, lambda x, y: ((x * 4) % 256,))
write_png(sys.argv[2], 120, 200, True,
          lambda x, y: (40, 40, 60) if 30 <= x < 90 and 40 <= y < 170 else (235, 235, 230))
PY
  "$cortex" predict "$dir/m.cortex" "$dir/img.png" >"$dir/pred.log" 2>"$dir/pred.err" || fail "predict"
  grep -q "img.png: .* (" "$dir/pred.log" || fail "predict output: $(cat "$dir/pred.log")"
  # A photo-sized picture of a light background: padded, inverted, said in one line; --raw takes it as it is.
  "$cortex" predict "$dir/m.cortex" "$dir/photo.png" >"$dir/pred.log" 2>"$dir/pred.err" || fail "predict photo"
  grep -q "photo.png: 120x200 RGB: light background inverted, padded to 200x200, resized to 28x28, made grey" \
    "$dir/pred.err" || fail "predict photo note: $(cat "$dir/pred.err")"
  [[ $(wc -l <"$dir/pred.err") -eq 1 ]] || fail "predict photo note is not one line: $(cat "$dir/pred.err")"
  "$cortex" predict "$dir/m.cortex" "$dir/photo.png" --raw >"$dir/pred.log" 2>"$dir/pred.err" || fail "predict --raw"
  [[ ! -s $dir/pred.err ]] && grep -q "photo.png: .* (" "$dir/pred.log" || fail "predict --raw: $(cat "$dir/pred.err")"
  # Arguments swapped, or a run directory without a model, say what they found.
  expect_error "img.png is a PNG image, not a model; usage: cortex predict MODEL" "$cortex" predict "$dir/img.png" "$dir/m.cortex"
  expect_error "m.cortex is a model file, not an image" "$cortex" predict "$dir/m.cortex" "$dir/m.cortex"
  mkdir -p "$dir/empty_run"
  expect_error "looked for $dir/empty_run/model.cortex" "$cortex" evaluate "$dir/empty_run"
  expect_error "no such file: $dir/nope.cortex" "$cortex" summary "$dir/nope.cortex"
  expect_error "-o expects a file ending in .png or .svg" "$cortex" visualize filters "$dir/m.cortex" -o "$dir/f.jpg"
  "$cortex" summary "$dir/m.cortex" | grep -q "Total params: 1,199,882" || fail "summary of the saved model"
  expect_error "not a PNG file" "$cortex" predict "$dir/m.cortex" "$dir/h.csv"
  expect_error "needs the model on a CUDA device" "$cortex" train --precision bf16 --epochs 1 --max-steps 1
  head -c 1000 "$dir/m.cortex" >"$dir/cut.cortex"
  expect_error "corrupt tensor file" "$cortex" evaluate "$dir/cut.cortex"

  # Looking inside: every picture and chart of the smoke model, each a real PNG or SVG.
  for kind in filters feature-maps saliency occlusion; do
    "$cortex" visualize $kind "$dir/m.cortex" -o "$dir/$kind.png" >"$dir/viz.log" 2>&1 || fail "visualize $kind: $(cat "$dir/viz.log")"
    [[ $(head -c 4 "$dir/$kind.png" | tail -c 3) == PNG ]] || fail "visualize $kind wrote no PNG"
  done
  "$cortex" visualize feature-maps "$dir/m.cortex" "$dir/img.png" --layer dense -o "$dir/fm.svg" >/dev/null || fail "feature-maps of a PNG"
  grep -q "data:image/png;base64," "$dir/fm.svg" || fail "the SVG carries no picture"
  "$cortex" visualize confusion "$dir/m.cortex" -o "$dir/c.svg" >/dev/null || fail "visualize confusion"
  grep -q "Ankle boot" "$dir/c.svg" || fail "confusion names no classes"
  # Each cell's title is "<true> as <predicted>: <count>"; the 100 counts cover the 10,000 test images.
  cells=$(grep -o ' as [^<]*: [0-9]*</title>' "$dir/c.svg" | sed 's/.*: \([0-9]*\)<.*/\1/')
  [[ $(wc -l <<<"$cells") -eq 100 && $(awk '{ s += $1 } END { print s }' <<<"$cells") -eq 10000 ]] ||
    fail "confusion counts: $(paste -sd+ <<<"$cells")"
  "$cortex" visualize curves "$dir/h.csv" -o "$dir/curves.svg" >/dev/null || fail "visualize curves"
  grep -q "<polyline" "$dir/curves.svg" || fail "curves: no lines"
  expect_error "the layers are: sequential, conv2d, conv2d_1" "$cortex" visualize filters "$dir/m.cortex" --layer nope
  expect_error "the conv layers are: conv2d, conv2d_1" "$cortex" visualize filters "$dir/m.cortex" --layer dense
  expect_error "ending in .svg" "$cortex" visualize curves "$dir/h.csv" -o "$dir/curves.png"
  expect_error "not a PNG file" "$cortex" visualize saliency "$dir/m.cortex" "$dir/h.csv"
  expect_error "expected a header starting with 'epoch'" "$cortex" visualize curves "$dir/img.png" -o "$dir/x.svg"

  # A recorded run, its report, and the page rebuilt from the directory alone.
  # Beside two busy processes, OpenMP's threads get a short spin (the command restarts itself to set it).
  for i in 1 2; do
    bash -c 'while :; do :; done' &
    busy+=($!)
  done
  sleep 0.2
  env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY -u CORTEX_OMP_WAIT \
    "$cortex" train --epochs 2 --max-steps 2 --batch-size 32 --verbose 0 --output "$dir/r.cortex" --report-dir "$dir/run" \
    >"$dir/run.log" 2>&1
  rc=$?
  kill "${busy[@]}"
  busy=()
  ((rc == 0)) || fail "train --report-dir: $(cat "$dir/run.log")"
  grep -q '"openmp wait": "short spin, GOMP_SPINCOUNT=1000' "$dir/run/settings.json" ||
    fail "no short spin beside busy processes: $(grep openmp "$dir/run/settings.json")"
  for f in settings.json history.csv model.cortex report.html; do [[ -s $dir/run/$f ]] || fail "run/$f missing"; done
  # --max-steps caps training only: the last val_accuracy is the page's confusion matrix over all 10,000.
  right=$(sed -n 's/.*<p>\([0-9]*\) of 10000 examples right.*/\1/p' "$dir/run/report.html")
  val=$(tail -1 "$dir/run/history.csv" | awk -F, -v h="$(head -1 "$dir/run/history.csv")" \
        'BEGIN { n = split(h, k, ",") } { for (i = 1; i <= n; i++) if (k[i] == "val_accuracy") print $i }')
  [[ -n $right && -n $val ]] && awk -v r="$right" -v v="$val" 'BEGIN { exit !(r == int(v * 10000 + 0.5)) }' ||
    fail "the report's $right of 10000 right against val_accuracy $val"
  grep -q 'id="confusion"' "$dir/run/report.html" || fail "report without a confusion matrix"
  rm "$dir/run/report.html"
  "$cortex" report "$dir/run" >/dev/null || fail "report"
  grep -q "Most confused examples" "$dir/run/report.html" || fail "rebuilt report"
  expect_error "settings.json: no such file" "$cortex" report "$dir"

  # The shift-invariance experiment, shrunk to seconds.
  "$cortex" experiment shift-invariance --epochs 1 --max-steps 2 --test-samples 50 --max-shift 2 -o "$dir/shift.svg" \
    >"$dir/exp.log" 2>&1 || fail "experiment: $(cat "$dir/exp.log")"
  [[ $(grep -c "%" "$dir/exp.log") -eq 4 ]] || fail "experiment table: $(cat "$dir/exp.log")"
  [[ $(grep -c "<polyline" "$dir/shift.svg") -eq 4 ]] || fail "experiment chart"
fi
"$cortex" summary --model lecture-cnn | grep -q "Total params: 1,199,882" || fail "summary --model lecture-cnn"
expect_error "apt-get install dataset-fashion-mnist" "$cortex" train --dataset "$dir/none" --max-steps 1
echo '{"layers": [{"type": "Conv2D", "config": {"filters": 4}}], "input_shape": [784]}' >"$dir/flat.json"
expect_error "Conv2D 'conv2d' expects a rank-4" "$cortex" summary --model "$dir/flat.json"
printf 'garbage' >"$dir/bad.cortex"
expect_error "corrupt tensor file" "$cortex" evaluate "$dir/bad.cortex"
expect_error "expects cpu, cuda or cuda:N" "$cortex" train --device bogus --max-steps 1
expect_error "expects cpu, cuda or cuda:N" "$cortex" evaluate "$dir/bad.cortex" --device gpu
expect_error "expects cpu, cuda or cuda:N" "$cortex" predict "$dir/bad.cortex" "$dir/bad.cortex" --device cuda:x
# Without a GPU, --device cuda stops before the data loads, naming the device;
# with one, the run gets as far as the missing data set.
if nvidia-smi -L >/dev/null 2>&1; then cuda_words="cuda:0\|dataset-fashion-mnist"; else cuda_words="cuda:0"; fi
expect_error "$cuda_words" "$cortex" train --device cuda --dataset "$dir/none" --max-steps 1
# The sequence family: a short addition run ends on its fixed last line and leaves a model that loads.
"$cortex" seq addition --samples 400 --epochs 1 --examples 2 --verbose 2 --output "$dir/add.cortex" >"$dir/add.log" 2>&1 \
  || fail "seq addition: $(cat "$dir/add.log")"
tail -1 "$dir/add.log" | grep -Eq "^Validation exact match: [01]\.[0-9]{4}$" || fail "seq addition last line: $(tail -1 "$dir/add.log")"
grep -q "Epoch 1: validation per-character accuracy" "$dir/add.log" || fail "seq addition epoch line"
"$cortex" summary "$dir/add.cortex" | grep -q "time_distributed (TimeDistributed)" || fail "summary of the addition model"
expect_usage "A subcommand is required" "$cortex" seq
expect_usage "--digits must be in \[1, 9\]" "$cortex" seq addition --digits 12
expect_error "expects 1 to 27 samples" "$cortex" seq addition --digits 1 --samples 100

# lm: a few batches on a small text, sampling from the saved model, and the bad inputs.
for ((i = 0; i < 60; i++)); do echo "In the beginning God created the heaven and the earth."; done >"$dir/text.txt"
"$cortex" lm train --text "$dir/text.txt" --units 16 --embedding 8 --batch-size 4 --steps 20 --epochs 1 --max-steps 5 \
  --sample 20 --verbose 0 --output "$dir/lm.cortex" >"$dir/lm.log" 2>&1 || fail "lm train: $(cat "$dir/lm.log")"
tail -1 "$dir/lm.log" | grep -Eq "^Held-out bits/char: [0-9]+\.[0-9]{3}$" || fail "lm train last line: $(tail -1 "$dir/lm.log")"
grep -q "^Epoch 1: train bits/char [0-9.]*, held-out bits/char [0-9.]*" "$dir/lm.log" || fail "lm epoch line: $(cat "$dir/lm.log")"
"$cortex" lm sample "$dir/lm.cortex" --prime "In the" --length 30 --temperature 0.7 >"$dir/sample" 2>&1 ||
  fail "lm sample: $(cat "$dir/sample")"
[[ $(head -c 6 "$dir/sample") == "In the" && $(wc -c <"$dir/sample") -eq 37 ]] || fail "lm sample output: $(cat "$dir/sample")"
: >"$dir/empty.txt"
expect_error "is empty" "$cortex" lm train --text "$dir/empty.txt"
expect_error "the training part (the first 90 %) of the text: a text of 2970 characters is too short for one batch" \
  "$cortex" lm train --text "$dir/text.txt" --batch-size 500
expect_error "the held-out last 10 % of the text: a text of 330 characters is too short" \
  "$cortex" lm train --text "$dir/text.txt" --batch-size 20 --steps 20
expect_error "the prime has 'Z' (byte 90) at position 0" "$cortex" lm sample "$dir/lm.cortex" --prime "Zion"
head -c 2000 "$dir/lm.cortex" >"$dir/truncated.cortex"
expect_error "corrupt tensor file" "$cortex" lm sample "$dir/truncated.cortex"
expect_error "holds no character vocabulary" "$cortex" lm sample "$dir/add.cortex"
expect_usage "--temperature must be > 0" "$cortex" lm sample "$dir/lm.cortex" --temperature 0

# visualize model: the layer graph through Graphviz, its DOT file beside it.
"$cortex" visualize model "$dir/lm.cortex" -o "$dir/lm.svg" >"$dir/viz.log" 2>&1 || fail "visualize model: $(cat "$dir/viz.log")"
grep -q "<svg" "$dir/lm.svg" && grep -q "lstm: LSTM" "$dir/lm.dot" && grep -q "n0 -> n1" "$dir/lm.dot" ||
  fail "visualize model output: $(cat "$dir/viz.log" "$dir/lm.dot")"
"$cortex" visualize model "$dir/add.cortex" -o "$dir/add.png" >"$dir/viz.log" 2>&1 || fail "visualize model png: $(cat "$dir/viz.log")"
[[ $(head -c 4 "$dir/add.png" | tail -c 3) == PNG ]] || fail "visualize model png is not a PNG"
expect_error "-o expects a file ending in .png or .svg" "$cortex" visualize model "$dir/lm.cortex" -o "$dir/lm.gif"
echo "cli smoke: all checks passed"
