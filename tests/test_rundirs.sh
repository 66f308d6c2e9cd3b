#!/bin/bash
# test_rundirs.sh NNRUN SRCDIR - a run directory belongs to one run:
# concurrent runs, sweeps and --emit with one --out (the claim race widened
# by a test hook), --force interrupted at every stage (the old record whole
# or the new one, never mixed), leftovers of a killed write, a full disk,
# paths too long or empty, results.json and --json valid whatever the
# numbers, and --smoke.  Skips (77) without the data set unless
# NNRUN_REQUIRE_DATA=1.
#
# Test hooks (environment, see src/util/file.c): NNRUN_TEST_CLAIM_DELAY_MS
# sleeps between choosing a directory name and claiming it;
# NNRUN_TEST_LOCK_DELAY_MS between a claim's mkdir and its flock;
# NNRUN_TEST_WRITE_DELAY_MS sleeps inside each atomic write, after the data
# is on disk under NAME.tmp.PID and before the rename.
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

spec=$src/models/dense.yaml
tiny=(--set data.train_samples=200 --set data.test_samples=100 --set train.epochs=1 --threads 1)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

# whole DIR SEED [EPOCHS]: DIR is one complete, finished record of the run
# with that seed: every file there, results.json valid JSON of that seed,
# spec.yaml of that seed, metrics.csv with one row per epoch, nothing else
whole() {
    python3 - "$1" "$2" "${3:-1}" <<'PY'
import json, os, sys
d, seed, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = sorted(os.listdir(d))
assert names == ["checkpoint.nnc", "metrics.csv", "model.nnw", "results.json", "spec.yaml"], names
r = json.load(open(os.path.join(d, "results.json")))
assert r["seed"] == seed and r["epochs_run"] == epochs, (r["seed"], r["epochs_run"])
assert "seed: %d\n" % seed in open(os.path.join(d, "spec.yaml")).read()
rows = open(os.path.join(d, "metrics.csv")).read().splitlines()
assert len(rows) == epochs + 1, rows
PY
}

# ---- 1. two runs, one --out, the claim window widened: two records -------------
export NNRUN_TEST_CLAIM_DELAY_MS=300
okrace=1
for i in 1 2 3 4 5 6; do
    "$nnrun" "$spec" "${tiny[@]}" --seed 1 --out race$i > a$i.out 2>&1 & p1=$!
    "$nnrun" "$spec" "${tiny[@]}" --seed 2 --out race$i > b$i.out 2>&1 & p2=$!
    wait $p1; s1=$?; wait $p2; s2=$?
    d1=$(sed -n 's/^run record: //p' a$i.out); d2=$(sed -n 's/^run record: //p' b$i.out)
    if [ $s1 != 0 ] || [ $s2 != 0 ] || [ -z "$d1" ] || [ "$d1" = "$d2" ] ||
        ! whole "$d1" 1 || ! whole "$d2" 2 ||
        [ "$(ls -d race$i race$i-* | wc -l)" != 2 ]; then
        okrace=0
        bad "race $i: exits $s1 $s2, dirs '$d1' '$d2': $(cat a$i.out b$i.out)"
    fi
done
[ $okrace = 1 ] && ok "6 times two runs with one --out: two directories, each one whole record"

# the default name, in the same second
mkdir dflt && cd dflt || exit 1
"$nnrun" "$spec" "${tiny[@]}" --seed 1 > a.out 2>&1 & p1=$!
"$nnrun" "$spec" "${tiny[@]}" --seed 2 > b.out 2>&1 & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
d1=$(sed -n 's/^run record: //p' a.out); d2=$(sed -n 's/^run record: //p' b.out)
[ $s1 = 0 ] && [ $s2 = 0 ] && [ -n "$d1" ] && [ "$d1" != "$d2" ] && whole "$d1" 1 && whole "$d2" 2 &&
    ok "two runs with the default name at once: $d1 and $d2" ||
    bad "default names: $s1 $s2 '$d1' '$d2' $(cat a.out b.out)"
cd .. || exit 1

# two sweeps with one --out, and two --emit into one directory
cat > grid.yaml <<EOF
base: $spec
name: g
set: {data.train_samples: 200, data.test_samples: 100, train.epochs: 1}
grid: {seed: [1]}
EOF
"$nnrun" sweep grid.yaml --out sw --threads 1 > sw1.out 2>&1 & p1=$!
"$nnrun" sweep grid.yaml --out sw --threads 1 > sw2.out 2>&1 & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
[ $s1 = 0 ] && [ $s2 = 0 ] && [ -d sw-2 ] && whole sw/runs/g-001 1 && whole sw-2/runs/g-001 1 &&
    [ "$(ls sw/runs sw-2/runs | grep -c '^g-001$')" = 2 ] &&
    ok "two sweeps with one --out: sw and sw-2, one trial record each" ||
    bad "two sweeps: $s1 $s2 $(cat sw1.out sw2.out; ls -R sw sw-2)"
"$nnrun" sweep grid.yaml --emit em > em1.out 2>&1 & p1=$!
"$nnrun" sweep grid.yaml --emit em > em2.out 2>&1 & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
[ "$(printf '%s\n' $s1 $s2 | sort | tr '\n' ' ')" = "0 2 " ] && [ "$(ls em)" = "g-001.yaml
trials.csv" ] && ok "two --emit into one directory: one writes, the other is refused (exit 2)" ||
    bad "two --emit: $s1 $s2 $(cat em1.out em2.out; ls em)"
unset NNRUN_TEST_CLAIM_DELAY_MS

cat > lin.yaml <<EOF
name: lin
seed: 1
data: {dataset: fashion_mnist, divide_by: 1, train_samples: 25, test_samples: 100}
model:
  input: [28, 28, 1]
  layers: [flatten, {dense: {units: 64}}, {dense: {units: 64}}, {dense: {units: 64}},
           {dense: {units: 64}}, {dense: {units: 10}}]
train:
  loss: mse
  optimizer: {name: sgd, learning_rate: 1000000}
  epochs: 1
  batch_size: 25
EOF

# ---- 2. --force: the old record whole, or the new one, never both ----------------
"$nnrun" "$spec" "${tiny[@]}" --seed 1 --out old --quiet > /dev/null 2>&1 && whole old 1 ||
    bad "the first record"
cp -a old old.copy
# same_or_new DIR: DIR is the old record unchanged, or holds only files of the
# new run (seed 2): no file of the old record beside them
same_or_new() {
    diff -r "$1" old.copy > /dev/null && { echo old; return 0; }
    grep -q "^seed: 2$" "$1/spec.yaml" 2> /dev/null || { echo "neither: $(ls "$1")"; return 1; }
    for f in "$1"/*; do
        cmp -s "$f" "old.copy/$(basename "$f")" && { echo "mixed: $f is the old one"; return 1; }
    done
    echo new
}
# wait_for COND: polls the shell condition COND for up to 20 s
wait_for() {
    for _ in $(seq 400); do eval "$1" && return 0; sleep 0.05; done
    return 1
}
# each write of the new run takes 400 ms (hook); it is killed with SIGKILL
# when each of these is seen: before the swap (the staging directory made,
# its spec.yaml and its first checkpoint being written), after it (the new
# spec in old/, the final weights and results.json being written)
export NNRUN_TEST_WRITE_DELAY_MS=400
moments=("ls -a | grep -q '^\.old\.new\.'"
         "ls .old.new.* 2> /dev/null | grep -q '^spec\.yaml\.tmp\.'"
         "ls .old.new.* 2> /dev/null | grep -q '^checkpoint\.nnc\.tmp\.'"
         "grep -q '^seed: 2$' old/spec.yaml 2> /dev/null"
         "ls old | grep -q '^model\.nnw\.tmp\.'"
         "ls old | grep -q '^results\.json\.tmp\.'")
expect=(old old old new new new)
seen=""
forceok=1
staged=0
for k in 0 1 2 3 4 5; do
    rm -rf old .old.* && cp -a old.copy old
    "$nnrun" "$spec" "${tiny[@]}" --seed 2 --out old --force --quiet > /dev/null 2>&1 & pid=$!
    wait_for "${moments[$k]}" || { forceok=0; bad "--force: never saw: ${moments[$k]}"; }
    kill -KILL $pid 2> /dev/null
    wait $pid 2> /dev/null
    what=$(same_or_new old)
    [ "$what" = "${expect[$k]}" ] || { forceok=0; bad "--force killed when '${moments[$k]}': $what"; }
    seen="$seen $what"
    [ $k = 2 ] && ls -a | grep -q '^\.old\.new\.' && staged=1
done
[ $forceok = 1 ] && ok "--force killed (SIGKILL) at 6 moments: old whole, old, old, new alone, new, new" ||
    bad "--force killed: seen$seen"
[ $staged = 1 ] && ok "a --force killed before the swap leaves only its hidden staging directory" ||
    bad "no staging directory seen after a kill before the swap"
"$nnrun" "$spec" "${tiny[@]}" --seed 2 --out old --force --quiet > /dev/null 2>&1
st=$?
unset NNRUN_TEST_WRITE_DELAY_MS
[ $st = 0 ] && whole old 2 && [ -z "$(ls -a | grep '^\.old\.')" ] &&
    ok "the next --force run replaces the record and removes stale staging directories" ||
    bad "--force after the kills: exit $st, $(ls -a)"

# SIGINT before the first checkpoint: the stop writes one, so the new record
# takes the old one's place and can be resumed
rm -rf old && cp -a old.copy old
NNRUN_TEST_WRITE_DELAY_MS=1000 "$nnrun" "$spec" "${tiny[@]}" --set train.epochs=2 --seed 2 \
    --out old --force > int.out 2> int.err & pid=$!
wait_for "ls .old.new.* 2> /dev/null | grep -q '^spec\.yaml\.tmp\.'" || bad "no staging spec.yaml seen"
kill -INT $pid
wait $pid
st=$?
[ $st = 130 ] && [ "$(same_or_new old)" = new ] && [ -s old/checkpoint.nnc ] &&
    "$nnrun" --resume old --quiet > /dev/null 2>&1 && whole old 2 2 &&
    ok "--force stopped by SIGINT: the new record replaced the old one and resumes to the end" ||
    bad "--force + SIGINT: exit $st $(cat int.err; ls old)"

# a new run that fails before its first checkpoint: the old record untouched
rm -rf old && cp -a old.copy old
"$nnrun" lin.yaml --set data.train_samples=1000 --out old --force > fail.out 2>&1
st=$?
[ $st = 1 ] && diff -r old old.copy > /dev/null && grep -q "the old record in old is unchanged" fail.out &&
    [ -z "$(ls -a | grep '^\.old\.')" ] &&
    ok "--force with a run that fails (NaN loss): old record untouched, nothing left" ||
    bad "--force failing: exit $st $(cat fail.out; ls -a . old)"

# what --force refuses: a directory that is not a run record, a file
mkdir notrec && echo keep > notrec/notes.txt
"$nnrun" "$spec" "${tiny[@]}" --out notrec --force > nr.out 2>&1
st=$?
[ $st = 2 ] && grep -q "notes.txt" nr.out && [ "$(ls -a notrec | wc -l)" = 3 ] &&
    ok "--force refuses a directory holding other files (exit 2, untouched)" ||
    bad "--force into notrec: exit $st $(cat nr.out; ls notrec)"

# sweep --force replaces the sweep directory whole (sw is from part 1, seed 1)
sed 's/seed: \[1\]/seed: [2]/' grid.yaml > grid2.yaml
"$nnrun" sweep grid2.yaml --out sw --force --threads 1 > swf.out 2>&1
st=$?
[ $st = 0 ] && whole sw/runs/g-001 2 && [ "$(ls sw/runs | tr '\n' ' ')" = "g-001 g-001.log " ] &&
    grep -q "seed: \[2\]" sw/sweep.yaml && [ -z "$(ls -a | grep '^\.sw\.')" ] &&
    ok "sweep --force: the old sweep directory replaced whole" || bad "sweep --force: exit $st $(cat swf.out; ls -R sw)"
"$nnrun" sweep grid2.yaml --out notrec --force > swn.out 2>&1
[ $? = 2 ] && [ "$(ls notrec)" = notes.txt ] && ok "sweep --force refuses a directory that is not a sweep's" ||
    bad "sweep --force notrec: $(cat swn.out)"

# a record being written (locked) is neither resumed nor replaced
NNRUN_TEST_WRITE_DELAY_MS=1000 "$nnrun" "$spec" "${tiny[@]}" --set train.epochs=3 --out busy \
    --quiet > /dev/null 2>&1 & pid=$!
for i in $(seq 100); do [ -s busy/checkpoint.nnc ] && break; sleep 0.1; done
"$nnrun" --resume busy > busy1.out 2>&1; s1=$?
"$nnrun" "$spec" "${tiny[@]}" --out busy --force > busy2.out 2>&1; s2=$?
wait $pid; s0=$?
[ $s0 = 0 ] && [ $s1 = 1 ] && [ $s2 = 1 ] && grep -q "in use by another nnrun process" busy1.out &&
    grep -q "in use by another nnrun process" busy2.out && whole busy 1 3 &&
    ok "a record being written refuses --resume and --force (exit 1) and ends whole" ||
    bad "busy: $s0 $s1 $s2 $(cat busy1.out busy2.out)"

# ---- 3. a write killed before its rename leaves NAME.tmp.PID; resume removes it --
NNRUN_TEST_WRITE_DELAY_MS=1500 "$nnrun" "$spec" "${tiny[@]}" --set train.epochs=3 --out kt \
    --quiet > /dev/null 2>&1 & pid=$!
for i in $(seq 400); do
    [ -s kt/checkpoint.nnc ] && ls kt | grep -q '^checkpoint\.nnc\.tmp\.' && break
    sleep 0.05
done
kill -KILL $pid
wait $pid 2> /dev/null
left=$(ls kt | grep -c '\.tmp\.')
"$nnrun" --resume kt --quiet > kt.out 2>&1
st=$?
[ "$left" -ge 1 ] && [ $st = 0 ] && [ -z "$(ls kt | grep '\.tmp\.')" ] && whole kt 1 3 &&
    ok "SIGKILL during a checkpoint write left $left .tmp file(s); --resume removed them and finished" ||
    bad "tmp leftovers: $left before, exit $st, $(ls kt; cat kt.out)"

# ---- 4. a full disk: the message names no checkpoint that was not written ---------
# (a file-size limit, SIGXFSZ ignored: writes past 100 KiB fail with EFBIG)
(ulimit -f 100; trap '' XFSZ; exec "$nnrun" "$spec" "${tiny[@]}" --set train.epochs=2 --out full) \
    > full.out 2>&1
st=$?
[ $st = 1 ] && grep -q "checkpoint.nnc: not written" full.out && grep -q "no checkpoint was written" full.out &&
    ! grep -q "last good checkpoint" full.out && [ ! -e full/checkpoint.nnc ] &&
    [ -z "$(ls full | grep '\.tmp\.')" ] &&
    ok "a full disk: 'not written', 'no checkpoint was written', no .tmp file left" ||
    bad "full disk: exit $st $(cat full.out; ls full)"
rm -rf old && cp -a old.copy old
(ulimit -f 100; trap '' XFSZ; exec "$nnrun" "$spec" "${tiny[@]}" --seed 2 --out old --force) \
    > full2.out 2>&1
st=$?
[ $st = 1 ] && diff -r old old.copy > /dev/null && grep -q "old record in old is unchanged" full2.out &&
    grep -Eq "old/(spec.yaml|checkpoint.nnc): not written" full2.out && ! grep -q "\.new\." full2.out &&
    ! grep -q "the previous" full2.out &&
    ok "a full disk under --force: the old record unchanged" || bad "full disk --force: $st $(cat full2.out)"

# ---- 5. --out that cannot be a directory name: refused, nothing made ----------------
mkdir long && cd long || exit 1
long=$(printf 'x%.0s' $(seq 300))
"$nnrun" "$spec" "${tiny[@]}" --out "a/$long" > l1.out 2>&1; s1=$?
deep=$(for i in $(seq 20); do printf '%s/' "$(printf 'y%.0s' $(seq 250))"; done)
"$nnrun" "$spec" "${tiny[@]}" --out "${deep}run" > l2.out 2>&1; s2=$?
"$nnrun" "$src/models/mnist.yaml" --out '' > l3.out 2>&1; s3=$?   # no data here
"$nnrun" sweep ../grid.yaml --out '' > l4.out 2>&1; s4=$?
[ $s1 = 2 ] && [ $s2 = 2 ] && [ $s3 = 2 ] && [ $s4 = 2 ] && [ "$(ls | grep -v '\.out$')" = "" ] &&
    grep -q "300 bytes long" l1.out && grep -q "PATH_MAX" l2.out && grep -q "needs a path" l3.out &&
    ok "--out with a 300-byte name, a 5000-byte path or '' (before the data): exit 2, nothing made" ||
    bad "long/empty --out: $s1 $s2 $s3 $s4 $(cat l1.out l2.out l3.out l4.out; ls)"
cd .. || exit 1

# ---- 6. JSON stays JSON: an overflowing loss, odd names and paths ------------------
odd=$'we"ird\\dir\ttab'
"$nnrun" lin.yaml --out "$odd" --json > lin.out 2>&1
st=$?
python3 - "$odd" lin.out <<'PY' && [ $st = 0 ] && ok "results.json and --json with an infinite loss and an odd path: valid JSON, null" || bad "JSON: exit $st $(cat lin.out)"
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/results.json"))
assert r["test"]["loss"] is None, r["test"]
lines = [json.loads(l) for l in open(sys.argv[2])]
assert lines[-1]["run_dir"] == d and lines[-1]["test_loss"] is None, lines[-1]
PY
"$nnrun" "$spec" "${tiny[@]}" --set 'name="q\"b\\s é"' --out nm --quiet > /dev/null 2>&1 &&
    [ "$(json 'd["name"]' nm/results.json)" = 'q"b\s é' ] &&
    ok "a name with a quote, a backslash and UTF-8: results.json reads it back" ||
    bad "odd name: $(cat nm/results.json)"
"$nnrun" "$spec" "${tiny[@]}" --out $'not\xffutf8\x01' --json > nu.out 2>&1 &&
    python3 -c "import json; d=[json.loads(l) for l in open('nu.out', encoding='utf-8')][-1]; assert d['run_dir'] == 'not\ufffdutf8\x01', d" &&
    ok "--json: a path that is not UTF-8 and holds a control character stays valid JSON" ||
    bad "non-UTF-8 path in --json: $(cat nu.out)"
"$nnrun" eval "$odd" --json > ev.out 2>&1 && python3 -c "import json; d=json.load(open('ev.out')); assert d['loss'] is None" &&
    ok "eval --json: null for the infinite loss" || bad "eval --json: $(cat ev.out)"
"$nnrun" collect "$odd" > coll.out 2>&1 && "$nnrun" report "$odd" -o rep.html > /dev/null 2>&1 &&
    ok "collect and report read a results.json with null" || bad "collect/report on null: $(cat coll.out)"

# ---- 7. --smoke: seconds, exits as the full run would, nothing left ---------------
mkdir smoke smoketmp && cd smoke || exit 1
export TMPDIR=$tmp/smoketmp
t0=$(date +%s)
"$nnrun" "$src/models/cnn.yaml" --smoke --out runs/x > s0.out 2>&1; s0=$?
t1=$(date +%s)
"$nnrun" "$src/models/mnist.yaml" --smoke > s1.out 2>&1; s1=$?   # data/mnist/ is not here
echo file > afile
"$nnrun" "$spec" --smoke --out afile/run > s2.out 2>&1; s2=$?
"$nnrun" "$spec" --smoke --set model.layers.1.dense.units=0 > s3.out 2>&1; s3=$?
"$nnrun" "$spec" --smoke --set model.input=[32,32,3] > s4.out 2>&1; s4=$?
unset TMPDIR
[ $s0 = 0 ] && grep -q "smoke test passed" s0.out && [ $((t1 - t0)) -le 20 ] &&
    ok "--smoke on models/cnn.yaml: exit 0 in $((t1 - t0)) s" || bad "--smoke good: exit $s0 $(cat s0.out)"
[ $s1 = 1 ] && ok "--smoke with a missing data file: exit 1" || bad "--smoke no data: exit $s1 $(cat s1.out)"
[ $s2 = 1 ] && grep -q "afile" s2.out && ok "--smoke with an --out that cannot be made: exit 1" ||
    bad "--smoke unwritable: exit $s2 $(cat s2.out)"
[ $s3 = 2 ] && [ $s4 = 2 ] && ok "--smoke with a bad spec or a shape that does not fit the data: exit 2" ||
    bad "--smoke bad spec: $s3 $s4 $(cat s3.out s4.out)"
[ "$(ls | grep -v '\.out$' | grep -v '^afile$')" = "" ] && [ -z "$(ls -A ../smoketmp)" ] &&
    ok "--smoke left nothing behind (no --out, no temporary directory)" ||
    bad "--smoke left: $(ls -A . ../smoketmp)"
cd .. || exit 1

# ---- a written file never replaces a device, a FIFO or a link to one -------------
# (an atomic write renames over its target: as root, `report -o /dev/null`
# once replaced the system's /dev/null with a regular file)
mkdir targets && cd targets || exit 1
"$nnrun" "$spec" "${tiny[@]}" --out rec --quiet > /dev/null 2>&1 || bad "targets: the run failed"
mkfifo fifo
ln -s fifo link
made=fifo
if mknod null c 1 3 2>/dev/null; then made="fifo null"; fi
for t in $made link; do
    kind=$(stat -c %F "$t"); lkind=$(stat -L -c %F "$t")
    "$nnrun" report rec -o "$t" > rep.out 2>&1; s1=$?
    "$nnrun" collect rec --csv "$t" > col.out 2>&1; s2=$?
    if [ $s1 = 1 ] && [ $s2 = 1 ] && grep -q "$t: is a" rep.out && grep -q "writes only regular files" col.out &&
        [ "$(stat -c %F "$t")" = "$kind" ] && [ "$(stat -L -c %F "$t")" = "$lkind" ]; then
        ok "report -o and collect --csv refuse $t ($kind) and leave it as it was"
    else
        bad "write over $t ($kind): exits $s1 $s2, now $(stat -c %F "$t"): $(cat rep.out col.out)"
    fi
done
cd .. || exit 1


# ---- 7. claims and --force, the holes a reviewer found -------------------------------
mkdir claims && cd claims || exit 1
# (1) the window between a claim's mkdir and its lock, widened: a --force run
# in it finds nothing to replace (the claim is not visible yet), so the two
# runs get two records and neither writes into the other's
NNRUN_TEST_LOCK_DELAY_MS=2500 "$nnrun" "$spec" "${tiny[@]}" --set train.epochs=2 --seed 1 \
    --out lr > lra.out 2>&1 & pid=$!
sleep 1
"$nnrun" "$spec" "${tiny[@]}" --seed 2 --out lr --force > lrb.out 2>&1; s2=$?
wait $pid; s1=$?
d1=$(sed -n 's/^run record: //p' lra.out); d2=$(sed -n 's/^run record: //p' lrb.out)
[ $s1 = 0 ] && [ $s2 = 0 ] && [ "$d2" = lr ] && [ "$d1" = lr-2 ] && whole lr 2 && whole lr-2 1 2 &&
    [ -z "$(ls -a | grep '^\.lr\.')" ] &&
    ok "a --force run inside another's claim window: two records (lr, lr-2), each whole" ||
    bad "claim window: exits $s1 $s2 dirs '$d1' '$d2' $(cat lra.out lrb.out; ls -a)"

# (2) --force replaces a real record only
mkdir exp && cp "$spec" exp/spec.yaml && echo '# mine' >> exp/spec.yaml && cp exp/spec.yaml mine.copy
"$nnrun" exp/spec.yaml "${tiny[@]}" --out exp --force > f1.out 2>&1; s1=$?
cp -a ../old.copy rec
"$nnrun" rec/spec.yaml "${tiny[@]}" --out rec --force > f2.out 2>&1; s2=$?
[ $s1 = 2 ] && cmp -s exp/spec.yaml mine.copy && [ "$(ls exp)" = spec.yaml ] &&
    grep -q "exp/spec.yaml was not written by nnrun" f1.out &&
    [ $s2 = 2 ] && diff -r rec ../old.copy > /dev/null && grep -q "rec/spec.yaml lies inside --out rec" f2.out &&
    ok "--force refuses a user's own spec.yaml and a SPEC inside the directory (exit 2, untouched)" ||
    bad "--force over a spec: $s1 $s2 $(cat f1.out f2.out; ls exp rec)"
mkdir lnk && cp ../old.copy/* lnk/ && rm lnk/model.nnw && ln -s ../mine.copy lnk/model.nnw
mkdir part && cp ../old.copy/spec.yaml ../old.copy/metrics.csv part/
"$nnrun" "$spec" "${tiny[@]}" --out lnk --force > f3.out 2>&1; s3=$?
"$nnrun" "$spec" "${tiny[@]}" --out part --force > f4.out 2>&1; s4=$?
[ $s3 = 2 ] && [ -L lnk/model.nnw ] && grep -q "lnk/model.nnw is a symbolic link" f3.out &&
    [ $s4 = 2 ] && [ "$(ls part | tr '\n' ' ')" = "metrics.csv spec.yaml " ] &&
    grep -q "no complete run record" f4.out &&
    ok "--force refuses a record with a symbolic link in it, or one with no checkpoint or results" ||
    bad "--force link/partial: $s3 $s4 $(cat f3.out f4.out)"
cp -a ../sw sw && mkdir -p sw/runs/precious && echo x > sw/runs/precious/notes
"$nnrun" sweep ../grid.yaml --out sw --force --threads 1 > f5.out 2>&1; s5=$?
kept=$(cat sw/runs/precious/notes)
rm -r sw/runs/precious && mkdir sw/specs/mine && echo x > sw/specs/mine/notes
"$nnrun" sweep ../grid.yaml --out sw --force --threads 1 > f6.out 2>&1; s6=$?
[ $s5 = 2 ] && [ "$kept" = x ] && grep -q "sw/runs/precious holds 'notes'" f5.out && [ $s6 = 2 ] &&
    [ "$(cat sw/specs/mine/notes)" = x ] && grep -q "sw/specs holds 'mine'" f6.out &&
    whole sw/runs/g-001 2 &&
    ok "sweep --force checks runs/* and specs/* recursively: a stranger's files refused (exit 2, kept)" ||
    bad "sweep --force with strangers: $s5 $s6 $(cat f5.out f6.out; ls -R sw)"
rm -r sw/specs/mine

# (3) sweep --force while a trial's record is locked (as a --resume of it holds it)
python3 -c 'import fcntl,os,sys,time
fd=os.open(sys.argv[1],os.O_RDONLY); fcntl.flock(fd,fcntl.LOCK_EX)
open(sys.argv[2],"w").close(); time.sleep(4)' sw/runs/g-001 held & pid=$!
for i in $(seq 50); do [ -e held ] && break; sleep 0.1; done
cp -a sw sw.copy
"$nnrun" sweep ../grid.yaml --out sw --force --threads 1 > f7.out 2>&1; s7=$?
wait $pid
[ $s7 = 1 ] && grep -q "sw/runs/g-001: in use by another nnrun process" f7.out &&
    diff -r sw sw.copy > /dev/null && [ -z "$(ls -a | grep '^\.sw\.')" ] &&
    ok "sweep --force refuses while one of its trials is locked (exit 1, nothing touched)" ||
    bad "sweep --force, trial locked: $s7 $(cat f7.out)"

# (11) '.', '..', '/' and names ending in them are not record directories
mkdir dots && cd dots || exit 1
n=0; okd=1
for o in . .. / ./ a/.. a/. ../.; do
    for f in "" --force; do
        n=$((n + 1))
        "$nnrun" "$src/models/mnist.yaml" --out "$o" $f > d$n.out 2>&1; st=$?   # no data here
        # (with '/' the sweep file is missing, so that a binary with the bug
        # would stop there and not make /-2: refused before it is read)
        sf=../../grid.yaml; [ "$o" = / ] && sf=missing.yaml
        "$nnrun" sweep $sf --out "$o" $f > e$n.out 2>&1; se=$?
        if [ $st != 2 ] || [ $se != 2 ] || ! grep -q "a directory of its own" d$n.out ||
            ! grep -q "a directory of its own" e$n.out; then
            okd=0; bad "--out '$o' $f: exits $st $se $(cat d$n.out e$n.out)"
        fi
    done
done
[ $okd = 1 ] && [ "$(ls -A | grep -v '\.out$')" = "" ] && [ ! -e ../..-2 ] &&
    [ ! -e /-2 ] && ok "--out . .. / a/.. a/. (with and without --force): exit 2 before the data, nothing made" ||
    bad "--out dots: $(ls -A . ..)"
cd .. || exit 1

# (resume) a run killed before its spec.yaml was in place: --resume says so
# and removes the leftover
NNRUN_TEST_WRITE_DELAY_MS=3000 "$nnrun" "$spec" "${tiny[@]}" --out ks --quiet > /dev/null 2>&1 & pid=$!
wait_for "ls ks 2> /dev/null | grep -q '^spec\.yaml\.tmp\.'" || bad "no spec.yaml.tmp seen"
kill -KILL $pid
wait $pid 2> /dev/null
"$nnrun" --resume ks > ks.out 2>&1; st=$?
[ $st = 2 ] && grep -q "ks/spec.yaml: no such file: the record holds no spec: the run was stopped before it got started" ks.out &&
    [ -z "$(ls -A ks)" ] &&
    ok "--resume of a run killed before its spec.yaml: exit 2, 'holds no spec', leftover removed" ||
    bad "--resume without spec: $st $(cat ks.out; ls -A ks)"
cd .. || exit 1

exit $fail
