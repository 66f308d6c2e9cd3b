#!/bin/sh
# test_seed_range.sh NNRUN SRCDIR - the seed's range is one (issue 13, class 8):
# `seed:` in a spec, `--seed N`, `--set seed=N`, a sweep's `random: {seed: N}`
# and a sweep grid over `seed` accept and refuse the same texts (0 to 2^53,
# whole numbers), and an accepted seed is the one the resolved spec states.
# Needs no data: only validation runs (check, sweep --emit).
set -u
nnrun=$1
src=$2
case $nnrun in /*) ;; */*) nnrun=$(pwd)/$nnrun ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

cat > base.yaml <<'YAML'
name: seeds
model:
  input: [4]
  layers:
    - dense: {units: 10, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
YAML

# text  expected (0: accepted, 2: refused)  the seed it means
while read -r text want value; do
    # a spec's seed:
    { echo "seed: $text"; cat base.yaml; } > spec.yaml
    "$nnrun" check spec.yaml > out 2>&1; spec=$?
    # --seed and --set seed=
    "$nnrun" check base.yaml --seed "$text" > out 2>&1; opt=$?
    "$nnrun" check base.yaml --set "seed=$text" > out 2>&1; set=$?
    # a random search's own seed
    printf 'base: base.yaml\nname: r\nrandom: {trials: 1, seed: %s, keys: {train.epochs: [1]}}\n' \
        "$text" > random.yaml
    rm -rf emit-r
    "$nnrun" sweep random.yaml --emit emit-r > out 2>&1; rnd=$?
    # a grid over the model's seed: each trial is a spec
    printf 'base: base.yaml\nname: g\ngrid: {seed: [%s]}\n' "$text" > grid.yaml
    rm -rf emit-g
    "$nnrun" sweep grid.yaml --emit emit-g > out 2>&1; grid=$?
    if [ "$spec $opt $set $rnd $grid" = "$want $want $want $want $want" ]; then
        ok "seed $text: exit $want from the spec, --seed, --set, random.seed and a grid"
    else
        bad "seed $text: spec $spec, --seed $opt, --set $set, random.seed $rnd, grid $grid (want $want)"
        cat out
    fi
    if [ "$want" = 0 ]; then
        got=$(sed -n 's/^seed: //p' emit-g/g-001.yaml)
        [ "$got" = "$value" ] && ok "seed $text is written $value" ||
            bad "seed $text: the trial's resolved spec says seed '$got', not $value"
    fi
done <<'CASES'
0 0 0
1 0 1
9007199254740991 0 9007199254740991
9007199254740992 0 9007199254740992
9007199254740993 2 -
18446744073709551615 2 -
18446744073709551616 2 -
-1 2 -
1e3 0 1000
9.007199254740992e15 0 9007199254740992
9.007199254740993e15 2 -
1.5 2 -
0x10 2 -
inf 2 -
CASES

# the message states the range, the same words everywhere
"$nnrun" check base.yaml --seed 9007199254740993 2> out
grep -q -- "--seed needs an integer from 0 to 9007199254740992 (2^53), got '9007199254740993'" out &&
    ok "--seed's message" || { bad "--seed's message"; cat out; }
{ echo "seed: -1"; cat base.yaml; } > spec.yaml
"$nnrun" check spec.yaml 2> out
grep -q "spec.yaml:1:7: error: 'seed' must be an integer from 0 to 9007199254740992 (2^53)" out &&
    ok "the spec's message, at the value" || { bad "the spec's message"; cat out; }
printf 'base: base.yaml\nrandom: {trials: 1, seed: 1.5, keys: {train.epochs: [1]}}\n' > random.yaml
"$nnrun" sweep random.yaml --emit emit-x 2> out
grep -q "random.yaml:2:27: error: seed must be an integer from 0 to 9007199254740992 (2^53)" out &&
    ok "the sweep's message, at the value" || { bad "the sweep's message"; cat out; }

exit $fail
