#!/bin/sh
# test_sweep.sh NNRUN SRCDIR - `nnrun sweep` and `nnrun collect`: a grid of 4
# small runs with -j 2 and its leaderboard; the same specs written by --emit
# and run by GNU parallel give the same results; --max-runs, a failing trial
# and bad sweep files.
#   exit 77 (skip) when Fashion-MNIST is missing, unless NNRUN_REQUIRE_DATA=1;
#   exit 77 when GNU parallel is missing, unless NNRUN_REQUIRE_TOOLS=1 (the
#   other checks run first).
set -u
nnrun=$1
src=$2
case $nnrun in /*) ;; */*) nnrun=$(pwd)/$nnrun ;; esac   # the tests below change directory
case $src in /*) ;; *) src=$(pwd)/$src ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

. "$src/tests/lib.sh"
need_data "$nnrun" "$src"

# csv_col FILE NAME: the values of column NAME (no quoting needed here)
csv_col() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                          { print $c }' "$1"
}
# the test set's line of a results.json: loss, accuracy, mse
test_line() { grep '^  "test": {' "$1/results.json"; }
test_acc() { test_line "$1" | sed 's/.*"accuracy": \([0-9.]*\).*/\1/'; }

cat > grid.yaml <<YAML
base: $src/models/dense.yaml
name: grid
set: {data.train_samples: 2000, data.test_samples: 500, train.epochs: 1}
grid:
  train.optimizer.learning_rate: [0.001, 0.01]
  train.batch_size: [32, 100]
YAML

# ---- nnrun sweep -j 2 ----
"$nnrun" sweep grid.yaml -j 2 --out sw > sweep.out 2>&1
st=$?
if [ $st = 0 ]; then ok "sweep -j 2 exited 0"; else bad "sweep exited $st"; cat sweep.out; fi
n=$(grep -c '^\[[1-4]/4\] grid-00[1-4] .*test_accuracy 0\.[0-9]*' sweep.out)
[ "$n" = 4 ] && ok "a line per finished trial" || { bad "$n trial lines"; cat sweep.out; }
n=$(grep -cE '^ +[1-4]  grid-00[1-4]  ' sweep.out)
[ "$n" = 4 ] && ok "4 leaderboard rows printed" || { bad "$n leaderboard rows"; cat sweep.out; }
n=$(ls sw/specs/*.yaml | wc -l)
[ "$n" = 4 ] && ok "4 specs in sw/specs" || bad "$n specs in sw/specs"
[ -s sw/sweep.yaml ] && [ -s sw/specs/trials.csv ] && ok "sweep.yaml and trials.csv" \
    || bad "sweep.yaml or trials.csv missing"
rows=$(($(wc -l < sw/sweep.csv) - 1))
[ "$rows" = 4 ] && ok "sweep.csv has 4 rows" || { bad "sweep.csv has $rows rows"; cat sw/sweep.csv; }

# each row's accuracy is its run's results.json accuracy; its values are its trial's
csv_col sw/sweep.csv run > runs.txt
csv_col sw/sweep.csv test_accuracy > accs.txt
i=0
while read -r run; do
    i=$((i + 1))
    want=$(test_acc "$run") got=$(sed -n "${i}p" accs.txt)
    [ -n "$want" ] && [ "$want" = "$got" ] && ok "row $i: $run accuracy $got" \
        || bad "row $i: $run: sweep.csv says '$got', results.json '$want'"
    trial=$(basename "$run" | sed 's/grid-0*//')
    want=$(awk -F, -v t="$trial" '$1 == t { print $3 "," $4 }' sw/specs/trials.csv)
    got=$(sed -n "$((i + 1))p" sw/sweep.csv | cut -d, -f5,6)
    [ "$want" = "$got" ] && ok "row $i: learning_rate,batch_size $got" \
        || bad "row $i: values '$got', trials.csv '$want'"
done < runs.txt
# best first: accuracies do not increase down the table
if sort -c -r -g accs.txt 2>/dev/null; then ok "sorted by test_accuracy"; else
    bad "not sorted by test_accuracy:"; cat accs.txt; fi
# and by --sort's metric in collect
"$nnrun" collect sw/runs --sort test_loss --csv byloss.csv > /dev/null 2>&1
if csv_col byloss.csv test_loss | sort -c -g; then ok "collect --sort test_loss"; else
    bad "collect --sort test_loss is not ascending"; cat byloss.csv; fi

# ---- --emit, then GNU parallel ----
"$nnrun" sweep grid.yaml --emit em > emit.out 2>&1
st=$?
n=$(ls em/*.yaml 2>/dev/null | wc -l)
[ $st = 0 ] && [ "$n" = 4 ] && ok "--emit wrote 4 specs" || { bad "--emit: exit $st, $n specs"; cat emit.out; }
diff -r em sw/specs > /dev/null && ok "--emit wrote the same files as the sweep" \
    || bad "--emit and sw/specs differ"
grep -q "parallel nnrun {}" emit.out && ok "--emit says how to run them" || bad "no hint in: $(cat emit.out)"
"$nnrun" sweep grid.yaml --emit em > emit2.out 2>&1
st=$?
[ $st = 2 ] && grep -q "not empty" emit2.out && ok "--emit refuses a non-empty directory" \
    || bad "--emit into em again: exit $st, $(cat emit2.out)"

# ---- --max-runs and bad sweep files: exit 2, nothing written ----
before=$(ls)
"$nnrun" sweep grid.yaml --max-runs 3 > mr.out 2>&1
st=$?
[ $st = 2 ] && grep -q "expands to 4 runs, more than --max-runs 3" mr.out \
    && ok "--max-runs 3 refuses 4 runs" || bad "--max-runs 3: exit $st, $(cat mr.out)"
"$nnrun" sweep grid.yaml --max-runs 3 --emit mr > /dev/null 2>&1
[ "$(ls | grep -v '^mr.out$')" = "$before" ] && ok "--max-runs: nothing written" \
    || bad "--max-runs wrote: $(ls)"

cat > typo.yaml <<YAML
base: $src/models/dense.yaml
grid:
  train.epoch: [1, 2]
YAML
out=$("$nnrun" sweep typo.yaml --emit typo 2>&1)
st=$?
echo "$out" | grep -qF "typo.yaml:3:17: error: trial 1: train.epoch=1: unknown key for train 'epoch'" \
    && [ $st = 2 ] && ok "unknown spec key: file:line:column" || bad "unknown key: exit $st, $out"
printf 'base: %s/models/dense.yaml\ngird:\n  train.epochs: [1, 2]\n' "$src" > typo2.yaml
out=$("$nnrun" sweep typo2.yaml 2>&1)
st=$?
echo "$out" | grep -qF "typo2.yaml:2:1: error: unknown key 'gird' in a sweep file" \
    && echo "$out" | grep -qF "(did you mean 'grid'?)" && [ $st = 2 ] \
    && ok "unknown sweep key: file:line:column and did-you-mean" || bad "gird: exit $st, $out"
[ ! -e typo ] && [ ! -e runs ] && ok "bad sweep files: nothing written" || bad "files were written: $(ls)"

# the shipped sweep expands to 6 valid specs (relative base; nothing trains)
"$nnrun" sweep "$src/models/sweeps/cnn-lr-batch.yaml" --emit shipped > /dev/null 2>&1
n=$(ls shipped/cnn-lr-batch-00[1-6].yaml 2>/dev/null | wc -l)
[ "$n" = 6 ] && ok "models/sweeps/cnn-lr-batch.yaml: 6 specs" || bad "the shipped sweep gave $n specs"

# a trial that fails (batch 100 > 60 samples) does not stop the others: exit 1
cat > failing.yaml <<YAML
base: $src/models/dense.yaml
set: {data.train_samples: 60, data.test_samples: 100, train.epochs: 1}
grid: {train.batch_size: [32, 100]}
YAML
"$nnrun" sweep failing.yaml -j 2 --out fl > fl.out 2>&1
st=$?
[ $st = 1 ] && grep -q "failing-002 .*FAILED (exit 2), log: fl/runs/failing-002.log" fl.out \
    && grep -q "larger than the 60 training samples" fl/runs/failing-002.log \
    && [ "$(($(wc -l < fl/sweep.csv) - 1))" = 1 ] && ok "a failed trial: exit 1, its log, 1 row" \
    || { bad "failing trial: exit $st"; cat fl.out; }

# ---- the emitted specs run by GNU parallel give the same results ----
if ! command -v parallel > /dev/null; then
    [ $fail = 0 ] || exit 1
    if [ "${NNRUN_REQUIRE_TOOLS:-}" = 1 ]; then echo "FAIL: GNU parallel is not installed"; exit 1; fi
    echo "skip: GNU parallel is not installed (apt-get install parallel)"; exit 77
fi
parallel --will-cite "$nnrun" {} --out par/{/.} --quiet --threads 1 ::: em/*.yaml > par.out 2>&1
st=$?
[ $st = 0 ] && ok "parallel ran the 4 specs" || { bad "parallel exited $st"; cat par.out; }
for spec in em/*.yaml; do
    t=$(basename "$spec" .yaml)
    a=$(test_line "par/$t") b=$(test_line "sw/runs/$t")
    [ -n "$a" ] && [ "$a" = "$b" ] && ok "$t: the same test results under parallel" \
        || bad "$t: parallel '$a', sweep '$b'"
done
# collect over both: the same rows, bar the directory and the seconds
"$nnrun" collect par --csv par.csv > par.table 2>&1 || bad "collect par: $(cat par.table)"
"$nnrun" collect sw/runs --csv sw.csv > sw.table 2>&1 || bad "collect sw/runs: $(cat sw.table)"
rows() { awk -F, '{ $2 = ""; $NF = ""; print }' "$1"; }
[ "$(rows par.csv)" = "$(rows sw.csv)" ] && ok "collect: the same rows for parallel and sweep" \
    || { bad "collect rows differ"; cat par.csv sw.csv; }
head -1 par.csv | grep -q '^rank,run,name,seed,train.optimizer.learning_rate,train.batch_size,test_accuracy,' \
    && ok "collect found the varied keys" || bad "collect header: $(head -1 par.csv)"
[ "$(wc -l < par.csv)" = 5 ] && ok "collect: 4 rows" || bad "collect: $(cat par.csv)"
exit $fail
