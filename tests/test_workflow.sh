#!/bin/bash
# test_workflow.sh NNRUN SRCDIR - a run's life on a real Fashion-MNIST subset:
# the run record, --json, a resolved spec that reproduces the run, eval and
# predict, SIGINT / SIGTERM / SIGKILL and resume, a corrupted checkpoint,
# a resume with another spec, --max-memory.  Skips (77) without the data set
# unless NNRUN_REQUIRE_DATA=1.
set -u
nnrun=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

. "$src/tests/lib.sh"
need_data "$nnrun" "$src"

small=(--set data.train_samples=3000 --set data.test_samples=1000 --set train.epochs=2)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

# 1. a run record, with --json lines on stdout
"$nnrun" "$src/models/dense.yaml" "${small[@]}" --out run1 --json > run1.out 2> run1.err
[ $? = 0 ] || bad "training exited $?: $(cat run1.err)"
for f in spec.yaml metrics.csv results.json model.nnw checkpoint.nnc; do
    [ -s "run1/$f" ] || bad "run1/$f is missing"
done
python3 - run1.out run1/results.json <<'PY' && ok "--json: 2 epoch objects and a result equal to results.json" || fail=1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
res = json.load(open(sys.argv[2]))
assert [l["event"] for l in lines] == ["epoch", "epoch", "result"], lines
assert lines[-1]["test_accuracy"] == res["test"]["accuracy"], (lines[-1], res["test"])
assert res["epochs_run"] == 2 and res["train_samples"] == 3000 and res["test_samples"] == 1000
assert len(res["confusion"]) == 10 and sum(map(sum, res["confusion"])) == 1000
assert res["classes"][9] == "Ankle boot"
assert res["test"]["accuracy"] > 0.7, res["test"]
PY
[ "$(wc -l < run1/metrics.csv)" = 3 ] && ok "metrics.csv: a header and 2 rows" || bad "metrics.csv: $(cat run1/metrics.csv)"
acc=$(json 'd["test"]["accuracy"]' run1/results.json)
[ -n "$acc" ] || { echo "FAIL: no test accuracy in run1/results.json"; exit 1; }

# 2. an existing run directory is never overwritten
"$nnrun" "$src/models/dense.yaml" "${small[@]}" --out run1 > again.out 2>&1
grep -q "run1 exists; this run's record goes to run1-2" again.out && [ -s run1-2/results.json ] &&
    ok "an existing --out gets a new name" || bad "--out run1 twice: $(cat again.out)"

# 3. the resolved spec alone reproduces the run
"$nnrun" run1/spec.yaml --out repro --quiet > /dev/null 2>&1 || bad "spec.yaml did not run"
cmp -s run1/model.nnw repro/model.nnw && [ "$(json 'd["test"]["accuracy"]' repro/results.json)" = "$acc" ] &&
    ok "run1/spec.yaml reproduces the weights and accuracy" || bad "spec.yaml gave other results"

# 4. eval: the same accuracy, per-class accuracy with names, confusion matrix
"$nnrun" eval run1 > eval.out 2>&1 || bad "eval exited $?: $(cat eval.out)"
pct=$(python3 -c "print('%.2f%%' % (100 * $acc))")
grep -q "accuracy $pct" eval.out && grep -q "Ankle boot" eval.out && grep -q "confusion matrix" eval.out &&
    ok "eval: accuracy $pct, per class, confusion" || bad "eval output: $(cat eval.out)"
"$nnrun" eval "$src/models/dense.yaml" "${small[@]}" --weights run1/model.nnw --json > evalj.out 2>&1 &&
    python3 -c "import json,sys; d=json.load(open('evalj.out')); assert d['accuracy'] == $acc, d" &&
    ok "eval SPEC --weights --json" || bad "eval --weights --json: $(cat evalj.out)"

# 5. predict: one line per image of an IDX file
python3 - <<'PY'
import gzip, glob, os, struct
d = os.environ.get("NNRUN_DATA") or "/usr/share/datasets/fashion-mnist"
p = (glob.glob(d + "/t10k-images-idx3-ubyte.gz") + glob.glob(d + "/t10k-images-idx3-ubyte"))[0]
raw = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
open("five.idx", "wb").write(struct.pack(">IIII", 0x803, 5, 28, 28) + raw[16:16 + 5 * 784])
PY
"$nnrun" predict run1 five.idx > pred.out 2>&1 && [ "$(wc -l < pred.out)" = 5 ] &&
    "$nnrun" predict run1 five.idx --json | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 5 and all(0 < r['probability'] <= 1 for r in rows), rows
assert rows[0]['name'] in ('Ankle boot', 'Sneaker', 'Sandal'), rows[0]" &&
    ok "predict: 5 lines, --json" || bad "predict: $(cat pred.out)"

# 6. SIGINT and SIGTERM: a checkpoint, 130 / 143, and resume gives the same model
long=(--set data.train_samples=20000 --set data.test_samples=1000 --set train.epochs=3)
"$nnrun" "$src/models/cnn.yaml" "${long[@]}" --out whole --quiet > /dev/null 2>&1 || bad "the whole run failed"
for sig in INT TERM; do
    want=$([ $sig = INT ] && echo 130 || echo 143)
    "$nnrun" "$src/models/cnn.yaml" "${long[@]}" --out "stop$sig" > "stop$sig.out" 2>&1 &
    pid=$!
    # stop in epoch 2 (or, on a slow machine, still in epoch 1: either must resume)
    for i in $(seq 600); do [ -s "stop$sig/metrics.csv" ] && break; sleep 0.1; done
    kill -$sig $pid
    wait $pid
    got=$?
    [ $got = "$want" ] && grep -q "nnrun --resume stop$sig" "stop$sig.out" &&
        ok "SIG$sig: exit $got, says how to resume" || bad "SIG$sig: exit $got: $(cat "stop$sig.out")"
    "$nnrun" --resume "stop$sig" --quiet > /dev/null 2>&1 || bad "resume after SIG$sig failed"
    cmp -s whole/model.nnw "stop$sig/model.nnw" && ok "resumed after SIG$sig: identical weights" ||
        bad "resumed after SIG$sig: other weights"
done

# 7. SIGKILL while it writes a checkpoint every epoch: the last one loads
many=(--set data.train_samples=1000 --set data.test_samples=500 --set train.epochs=400)
"$nnrun" "$src/models/dense.yaml" "${many[@]}" --out killed --quiet > /dev/null 2>&1 &
pid=$!
for i in $(seq 600); do [ -s killed/checkpoint.nnc ] && break; sleep 0.1; done
sleep 0.5
kill -KILL $pid
wait $pid 2>/dev/null
rows=$(($(wc -l < killed/metrics.csv) - 1))
[ "$rows" -ge 1 ] && [ "$rows" -lt 400 ] || bad "SIGKILL came at a bad time ($rows epochs done)"
"$nnrun" --resume killed --quiet > /dev/null 2> killed.err &&
    [ "$(json 'd["epochs_run"]' killed/results.json)" = 400 ] &&
    ok "killed after $rows epochs: the last checkpoint loaded and the run finished" ||
    bad "resume after SIGKILL: $(cat killed.err)"
"$nnrun" "$src/models/dense.yaml" "${many[@]}" --out unkilled --quiet > /dev/null 2>&1
cmp -s killed/model.nnw unkilled/model.nnw && ok "killed and resumed = uninterrupted" ||
    bad "killed and resumed: other weights"

# 8. a checkpoint with one byte flipped is refused; so is another spec
cp -r whole flipped
python3 -c "
b = bytearray(open('flipped/checkpoint.nnc', 'rb').read()); b[300] ^= 1
open('flipped/checkpoint.nnc', 'wb').write(b)"
out=$("$nnrun" --resume flipped 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "checksum mismatch" && ok "a flipped byte: refused ($st)" ||
    bad "flipped checkpoint: $st $out"
out=$("$nnrun" "$src/models/cnn.yaml" "${long[@]}" --set train.batch_size=50 --resume stopINT 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "was written for a spec with hash [0-9a-f]*; this spec's hash is [0-9a-f]*" &&
    ok "resume with another spec: refused with both hashes" || bad "resume with another spec: $st $out"

# 9. --max-memory refuses the plan before any data is read or file written
out=$("$nnrun" "$src/models/cnn.yaml" --max-memory 1M --out nomem 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "the model needs .* of memory" && [ ! -e nomem ] &&
    ok "--max-memory 1M: refused ($st), nothing written" || bad "--max-memory: $st $out"
exit $fail
