#!/bin/sh
# test_valgrind.sh NNRUN SRCDIR - a short training run (two threads, a run
# record, eval) under valgrind's memcheck: no invalid access, no leak.
# Skips (77) without valgrind or the data set unless NNRUN_REQUIRE_TOOLS=1 /
# NNRUN_REQUIRE_DATA=1.
set -u
nnrun=$(realpath "$1")
src=$(realpath "$2")
if ! command -v valgrind >/dev/null; then
    [ "${NNRUN_REQUIRE_TOOLS:-0}" = 1 ] && { echo "FAIL: valgrind is missing"; exit 1; }
    echo "SKIP: valgrind not installed"; exit 77
fi
. "$src/tests/lib.sh"
need_data "$nnrun" "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
vg="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
fail=0
$vg "$nnrun" "$src/models/cnn.yaml" --set data.train_samples=300 --set data.test_samples=100 \
    --set train.epochs=2 --threads 2 --out run --quiet || { echo "FAIL: train under memcheck ($?)"; fail=1; }
$vg "$nnrun" eval run > /dev/null || { echo "FAIL: eval under memcheck ($?)"; fail=1; }
$vg "$nnrun" check "$src/tests/specs/bad/14-input-cycle.yaml" 2> /dev/null
[ $? = 2 ] || { echo "FAIL: a bad spec under memcheck"; fail=1; }
[ $fail = 0 ] && echo "ok: train, eval and a bad spec are clean under memcheck"
exit $fail
