#!/bin/sh
# test_data_cli.sh - the data features through the command line: a CSV data
# set with standardization and augmentation trains at 1 and 2 threads to the
# same result; `nnrun eval RUN_DIR` gives the test numbers training ended
# with, and `nnrun predict` on the same images (as IDX) the same accuracy,
# so both use the training set's statistics (kept in the weights file, so
# neither needs the training data); a bad CSV is named with its line.  Usage: test_data_cli.sh NNRUN SRCDIR
set -u
nnrun=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# 6x6 images of 4 classes, the class is the bright quadrant; the test images
# also as an IDX file for predict
python3 - <<'PY' || exit 1
import random, struct
def write(name, n, seed):
    r = random.Random(seed)
    rows, imgs = [], []
    for _ in range(n):
        c = r.randrange(4)
        px = [r.randrange(100) + (150 if (y >= 3) * 2 + (x >= 3) == c else 0)
              for y in range(6) for x in range(6)]
        rows.append(",".join(map(str, [c] + px)))
        imgs.append((c, px))
    with open(name + ".csv", "w") as f:
        f.write("label," + ",".join("pixel%d" % (i + 1) for i in range(36)) + "\n")
        f.write("\n".join(rows) + "\n")
    return imgs
write("train", 400, 1)
test = write("test", 120, 2)
with open("test-images.idx", "wb") as f:
    f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, len(test), 6, 6))
    f.write(bytes(p for _, p in test for p in p))
with open("test-labels.txt", "w") as f:
    f.write("\n".join(str(c) for c, _ in test) + "\n")
PY

cat > spec.yaml <<'YAML'
name: csv-quadrants
seed: 4
data:
  format: csv
  train: train.csv
  test: test.csv
  classes: 4
  standardize: true
  validation_split: 0.1
  augment: {flip_horizontal: true, translate: 1, erase: 0.25}
model:
  input: [6, 6, 1]
  layers:
    - flatten
    - dense: {units: 16, activation: relu}
    - dense: {units: 4, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  optimizer: {name: adam, learning_rate: 0.01}
  metrics: [accuracy]
  epochs: 4
  batch_size: 20
YAML

"$nnrun" spec.yaml --out run1 --threads 1 --quiet > run1.out 2>&1 || { cat run1.out; bad "training on CSV failed"; }
"$nnrun" spec.yaml --out run2 --threads 2 --quiet > run2.out 2>&1 || bad "training at 2 threads failed"
cmp -s run1/model.nnw run2/model.nnw && cmp -s run1.out run2.out &&
    ok "CSV, standardize, augment: the same weights at 1 and 2 threads ($(cat run1.out))" ||
    bad "1 and 2 threads differ"
grep -q 'standardize: true, format: csv, train: "train.csv"' run1/spec.yaml &&
    grep -q 'augment: {flip_horizontal: true, translate: 1, erase: 0.25}' run1/spec.yaml &&
    ok "the resolved spec holds the new keys" || bad "resolved spec: $(grep data: run1/spec.yaml)"

"$nnrun" eval run1 --json > eval.json 2> eval.err || { cat eval.err; bad "eval failed"; }
"$nnrun" predict run1 test-images.idx > pred.out 2> pred.err || { cat pred.err; bad "predict failed"; }
python3 - <<'PY' && ok "eval and predict give the test numbers of training" || fail=1
import json
res = json.load(open("run1/results.json"))["test"]
ev = json.load(open("eval.json"))
assert ev["accuracy"] == res["accuracy"] and ev["loss"] == res["loss"], (ev, res)
assert res["accuracy"] > 0.5, res   # chance: 0.25 (a flip swaps quadrants: noisy labels)
labels = [int(x) for x in open("test-labels.txt").read().split()]
pred = [int(l.split("\t")[1]) for l in open("pred.out").read().splitlines()]
acc = sum(p == l for p, l in zip(pred, labels)) / len(labels)
assert len(pred) == len(labels) and "%.6f" % acc == "%.6f" % ev["accuracy"], (acc, ev)
PY

# predict reads the test CSV (the spec's layout: a header, the label in
# column 0) and gives what it gives on the same images as IDX
"$nnrun" predict run1 test.csv > predcsv.out 2> predcsv.err &&
    cmp -s pred.out predcsv.out && ok "predict on the CSV file: the lines of the IDX file" ||
    bad "predict on CSV: $(cat predcsv.err) $(diff pred.out predcsv.out | head -3)"
gzip -c test.csv > test.csv.gz
"$nnrun" predict run1 test.csv.gz --json > predgz.out 2>&1 && [ "$(wc -l < predgz.out)" = 120 ] &&
    ok "predict on a gzipped CSV, --json" || bad "predict on csv.gz: $(head -3 predgz.out)"

# the weights file keeps the input scaling: eval and predict need no
# training data; a version 2 file (without it) still gives the same,
# recomputing the scaling from the training data, and says so when that
# data is gone
mkdir run1v2 && cp run1/spec.yaml run1v2/ && python3 - <<'PY' || bad "making a version 2 file"
import struct, zlib
b = open("run1/model.nnw", "rb").read()
assert b[:8] == b"NNRUNCKP" and struct.unpack_from("<I", b, 8)[0] == 3
ch = struct.unpack_from("<I", b, 160)[0]
assert ch == 1, ch   # one channel: scale and shift
raw = zlib.decompress(b[168:-4])[:-8 * ch]
comp = zlib.compress(raw)
h = bytearray(b[:160])
struct.pack_into("<I", h, 8, 2)
struct.pack_into("<QQ", h, 120, len(raw), len(comp))
out = bytes(h) + comp
open("run1v2/model.nnw", "wb").write(out + struct.pack("<I", zlib.crc32(out)))
PY
"$nnrun" predict run1v2 test-images.idx > predv2.out 2>&1 && cmp -s pred.out predv2.out &&
    ok "a version 2 weights file: predict recomputes the scaling, same lines" ||
    bad "version 2 file: $(diff pred.out predv2.out | head -3)"
"$nnrun" eval run1v2 --json > evalv2.json 2>&1 && cmp -s eval.json evalv2.json &&
    ok "a version 2 weights file: eval recomputes the scaling, same numbers" ||
    bad "eval of a version 2 file: $(cat evalv2.json)"
mv train.csv train.csv.away
"$nnrun" eval run1 --json > evalnotrain.json 2>&1 && cmp -s eval.json evalnotrain.json &&
    ok "eval without the training data: the test set and the file's scaling, same numbers" ||
    bad "eval without training data: $(cat evalnotrain.json)"
"$nnrun" predict run1 test-images.idx > prednotrain.out 2>&1 && cmp -s pred.out prednotrain.out &&
    ok "predict without the training data: the weights file's scaling, same lines" ||
    bad "predict without training data: $(diff pred.out prednotrain.out | head -3)"
out=$("$nnrun" predict run1v2 test-images.idx 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "train.csv" &&
    ok "a version 2 file without the training data: exit 1, the file named" ||
    bad "version 2 file without training data: $st: $out"
mv train.csv.away train.csv

# a bad CSV: exit 1, the file and line named
sed '5s/^\([0-9]*\),[0-9]*,/\1,abc,/' train.csv > bad.csv
sed 's/train: train.csv/train: bad.csv/' spec.yaml > bad.yaml
out=$("$nnrun" bad.yaml --no-record --quiet 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "bad.csv:5: field 2 is 'abc', not a number" &&
    ok "a bad CSV field: exit 1, file and line" || bad "bad CSV: status $st: $out"
out=$("$nnrun" predict run1 bad.csv 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "bad.csv:5: field 2 is 'abc', not a number" &&
    ok "predict on a bad CSV: exit 1, file and line" || bad "predict on bad CSV: $st: $out"
out=$("$nnrun" check spec.yaml --set data.augment.flip_horizonal=true 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "did you mean 'flip_horizontal'" &&
    ok "an unknown augment key: exit 2 with a suggestion" || bad "augment key: $st: $out"
exit $fail
