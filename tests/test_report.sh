#!/bin/sh
# test_report.sh NNRUN SRCDIR - `nnrun report`: trains two tiny runs, writes
# the HTML page, checks it with grep, then loads it in headless Chromium
# (--dump-dom and --screenshot) and checks the charts are in the loaded DOM.
#   exit 77 (skip) when Fashion-MNIST is missing, unless NNRUN_REQUIRE_DATA=1;
#   exit 77 when chromium is missing, unless NNRUN_REQUIRE_TOOLS=1.
#   NNRUN_REPORT_KEEP=DIR keeps report.html and report.png in DIR.
set -u
nnrun=$1
src=$2
case $nnrun in /*) ;; */*) nnrun=$(pwd)/$nnrun ;; esac   # the tests below change directory
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# two runs of the dense model on a subset, differing in the learning rate
train() {   # NAME LR DIR
    "$nnrun" "$src/models/dense.yaml" --quiet --threads 2 --set "name=$1" \
        --set data.train_samples=2000 --set data.test_samples=500 --set train.epochs=2 \
        --set "train.optimizer.learning_rate=$2" --out "$3" > "$tmp/train.log" 2>&1
}
. "$src/tests/lib.sh"
need_data "$nnrun" "$src"
train report-alpha 0.001 "$tmp/a" || { cat "$tmp/train.log"; echo "FAIL: training the first run"; exit 1; }
train report-beta 0.003 "$tmp/b" || { cat "$tmp/train.log"; echo "FAIL: training the second run"; exit 1; }

html=$tmp/report.html
out=$("$nnrun" report "$tmp/a" "$tmp/b" -o "$html" 2>&1)
st=$?
if [ $st = 0 ] && [ -s "$html" ]; then ok "report of two runs: $out"; else bad "report exited $st: $out"; fi

# has FIXED-STRING DESCRIPTION
has() {
    if grep -qF -- "$1" "$html"; then ok "$2"; else bad "the page lacks '$1' ($2)"; fi
}
has "<!DOCTYPE html>" "an HTML document"
has "report-alpha" "the first run's name"
has "report-beta" "the second run's name"
has "Ankle boot" "class names"
has "T-shirt/top" "class names"
has "train.optimizer.learning_rate" "the differing spec key"
has "Comparison of 2 runs" "the comparison section"
has "Confusion matrix" "the confusion matrix"
has 'aria-label="' "charts have aria labels"
n=$(grep -o '<svg class="chart"' "$html" | wc -l)
# per run: loss, accuracy, confusion, per class; then the two comparison charts
if [ "$n" = 10 ]; then ok "10 svg charts"; else bad "$n svg charts, expected 10"; fi
if grep -qiE '<script|<link|@import|url\(|src=|https?://' "$html"; then
    bad "the page refers to something outside itself or has a script"
else
    ok "self-contained: no script, no link, no external reference"
fi
size=$(wc -c < "$html")
if [ "$size" -gt 5000 ] && [ "$size" -lt 200000 ]; then ok "$size bytes"; else bad "$size bytes"; fi

# text from files is escaped
mkdir "$tmp/evil"
cp "$tmp/a/spec.yaml" "$tmp/a/metrics.csv" "$tmp/evil/"
sed 's|"name": "report-alpha"|"name": "<script>alert(1)</script>\&co"|' "$tmp/a/results.json" \
    > "$tmp/evil/results.json"
"$nnrun" report "$tmp/evil" -o "$tmp/evil.html" > /dev/null 2>&1 || bad "report of the escaped run failed"
if grep -qF "&lt;script&gt;alert(1)&lt;/script&gt;&amp;co" "$tmp/evil.html" &&
   ! grep -qF "<script>" "$tmp/evil.html"; then
    ok "names are HTML-escaped"
else
    bad "a name with markup was not escaped"
fi

# the default output: report.html in the current directory; DIR/report.html for a sweep
mkdir -p "$tmp/cwd" "$tmp/sweep/runs" "$tmp/sweep/specs"
cp -r "$tmp/a" "$tmp/sweep/runs/dense-000"
cp -r "$tmp/b" "$tmp/sweep/runs/dense-001"
(cd "$tmp/cwd" && "$nnrun" report "$tmp/a" > /dev/null 2>&1) && [ -s "$tmp/cwd/report.html" ] &&
    ok "default output report.html" || bad "no report.html in the current directory"
"$nnrun" report "$tmp/sweep" > /dev/null 2>&1 && [ -s "$tmp/sweep/report.html" ] &&
    grep -qF "Comparison of 2 runs" "$tmp/sweep/report.html" &&
    ok "a sweep directory: DIR/report.html with both runs" || bad "sweep directory report"

# bad input: exit status, a message naming the file, nothing written
expect() {   # STATUS PATTERN ARGS...
    want=$1 pattern=$2
    shift 2
    rm -f "$tmp/bad.html"
    o=$("$nnrun" report "$@" -o "$tmp/bad.html" 2>&1)
    got=$?
    if [ "$got" != "$want" ]; then bad "nnrun report $* exited $got, expected $want: $o"
    elif ! printf '%s' "$o" | grep -qF -- "$pattern"; then bad "nnrun report $*: '$o' lacks '$pattern'"
    elif [ -e "$tmp/bad.html" ]; then bad "nnrun report $* wrote a file"
    else ok "nnrun report $* -> $got"
    fi
}
mkdir "$tmp/empty" "$tmp/badjson" "$tmp/badcsv"
cp "$tmp/a/"* "$tmp/badjson/"
cp "$tmp/a/"* "$tmp/badcsv/"
printf '{"name": "x", "test": {\n' > "$tmp/badjson/results.json"
printf 'epoch,loss,accuracy,mse,test_loss,test_accuracy,test_mse,seconds\n1,0.5,oops\n' \
    > "$tmp/badcsv/metrics.csv"
expect 2 "$tmp/empty: no results.json (not a run record)" "$tmp/empty"
expect 1 "badjson/results.json" "$tmp/a" "$tmp/badjson"
expect 1 "badcsv/metrics.csv" "$tmp/badcsv"
expect 2 "No such file" "$tmp/nothing-here"

# load it in a browser: the DOM must hold the charts, the screenshot must exist
chrome=
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" > /dev/null 2>&1; then chrome=$c; break; fi
done
if [ -z "$chrome" ]; then
    if [ "${NNRUN_REQUIRE_TOOLS:-}" = 1 ]; then echo "FAIL: chromium is not installed"; exit 1; fi
    [ $fail = 0 ] || exit 1
    echo "skip: chromium is not installed (the other checks passed)"; exit 77
fi
run_chrome() {
    HOME=$tmp timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --window-size=1200,3000 "$@" "file://$html" 2> "$tmp/chrome.log"
}
run_chrome --dump-dom > "$tmp/dom.html"
n=$(grep -o '<svg class="chart"' "$tmp/dom.html" | wc -l)
if [ "$n" = 10 ] && grep -qF "Comparison of 2 runs" "$tmp/dom.html"; then
    ok "the browser loaded the page: 10 svg charts in the DOM"
else
    bad "the loaded DOM has $n svg charts (expected 10)"; tail -5 "$tmp/chrome.log"
fi
run_chrome --screenshot="$tmp/report.png" > /dev/null
if [ -s "$tmp/report.png" ] && [ "$(wc -c < "$tmp/report.png")" -gt 20000 ] &&
   [ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    ok "screenshot $(wc -c < "$tmp/report.png") bytes"
else
    bad "no screenshot"; tail -5 "$tmp/chrome.log"
fi
if [ -n "${NNRUN_REPORT_KEEP:-}" ]; then
    mkdir -p "$NNRUN_REPORT_KEEP" && cp "$html" "$tmp/report.png" "$NNRUN_REPORT_KEEP/" &&
        echo "kept $NNRUN_REPORT_KEEP/report.html and report.png"
fi
exit $fail
