#!/bin/sh
# test_yaml_cli.sh NNRUN SRCDIR - the YAML refusals and the key path grammar
# through the command line: exit status 2, nothing written, the message at its
# own place; sweep keys refused by the same rules as --set keys.  Needs no
# data: every case is refused before anything is read.
set -u
nnrun=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0

# expect STATUS TEXT -- ARGS...: the exit status and a line of output that is exactly TEXT
expect() {
    want=$1 text=$2
    shift 3
    out=$("$nnrun" "$@" 2>&1)
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: nnrun $* exited $got, expected $want"; echo "$out"; fail=1
    elif ! printf '%s\n' "$out" | grep -qxF -- "$text"; then
        echo "FAIL: nnrun $*: no line '$text'"; echo "$out"; fail=1
    else
        echo "ok: nnrun $* -> $got"
    fi
}

dense=$src/models/dense.yaml

# ---- tags, anchors, encoding in a spec file, at their line and column ----
sed 's/units: 30,/units: !!str 30,/' "$dense" > str.yaml
expect 2 "str.yaml:9:22: error: dense: 'units' must be an integer, found the text '30' (tagged !!str)" -- check str.yaml
sed 's/^  epochs: 10/  \&e epochs: 10/' "$dense" > anchor.yaml
expect 2 "anchor.yaml:16:3: error: YAML anchor found on a mapping key: &e; anchors and aliases are not accepted in a spec (write the value out)" -- check anchor.yaml
sed 's/^  loss: /  loss: !!python\/object:x /' "$dense" > tag.yaml
expect 2 "tag.yaml:13:9: error: YAML tag '!!python/object:x' is not accepted in a spec; only the core schema's !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are, where they fit the value" -- check tag.yaml
sed 's/activation: tanh}/activation: t\xe9nh}/' "$dense" > latin1.yaml
expect 2 "latin1.yaml:9:39: error: invalid UTF-8: byte 0xE9 starts a character that the next byte does not continue; a spec must be UTF-8 text (was it saved in another encoding, such as Latin-1?)" -- check latin1.yaml
printf 'name: x\nseed: 1\ndata:\n  dataset: "fashion\001"\n' > ctrl.yaml
expect 2 "ctrl.yaml:4:20: error: control character U+0001 is not allowed in a spec, not even written as an escape (\\x01): no value of a spec can hold one; delete it" -- check ctrl.yaml
# the hints of encoding errors suggest nothing that is refused in turn: no
# escape inside double quotes (the escapes are refused as well)
for c in '\001' '\302\205' '\342\200\250' '\342\200\251'; do
    printf "name: x\nseed: 1\ndata:\n  dataset: fashion$c\n" > hint.yaml
    out=$("$nnrun" check hint.yaml 2>&1)
    if printf '%s' "$out" | grep -q "hint.yaml:4:.*is not allowed" &&
            ! printf '%s' "$out" | grep -qi "double quotes"; then
        echo "ok: $(printf '%s' "$out" | head -1 | cut -c 1-110)"
    else
        echo "FAIL: the hint for $c:"; echo "$out"; fail=1
    fi
done
# and those escapes are refused, as the hints now say
printf 'name: x\nseed: 1\ndata:\n  dataset: "fashion\\x01"\n' > esc.yaml
expect 2 "esc.yaml:4:12: error: data: 'dataset' holds the control character U+0001 at character 8 (from 1); names and file paths in a spec must be printable text, on one line" -- check esc.yaml
for e in N:0085 L:2028 P:2029; do
    printf 'name: x\nseed: 1\ndata:\n  dataset: "fashion\\%s"\n' "${e%:*}" > esc.yaml
    expect 2 "esc.yaml:4:12: error: the text holds U+${e#*:}, a control character, line break or byte order mark that a spec may not hold, even as an escape" -- check esc.yaml
done
# CR-only line endings are read: the same model, and errors at the right line
tr '\n' '\r' < "$dense" > cr.yaml
out_lf=$("$nnrun" check "$dense" | tail -n +2)
out_cr=$("$nnrun" check cr.yaml | tail -n +2)
if [ -n "$out_lf" ] && [ "$out_lf" = "$out_cr" ]; then echo "ok: a CR-only spec reads as the LF one"
else echo "FAIL: CR-only spec"; echo "$out_cr"; fail=1; fi
sed 's/units: 20,/units: 0,/' "$dense" | tr '\n' '\r' > cr-bad.yaml
expect 2 "cr-bad.yaml:10:22: error: dense: 'units' is 0; it must be >= 1 and <= 16777216" -- check cr-bad.yaml
# a spec that is not a regular file is refused at once (a FIFO without a writer cannot hang it)
mkfifo fifo.yaml
expect 2 "fifo.yaml: error: cannot read the spec: is a FIFO (named pipe), not a regular file" -- check fifo.yaml
expect 2 "/dev/zero: error: cannot read the spec: is a character device, not a regular file" -- check /dev/zero
mkdir dir.yaml
expect 2 "dir.yaml: error: cannot read the spec: is a directory, not a regular file" -- check dir.yaml

# ---- --set errors name the override ----
expect 2 "--set train.epochs=!!binary AA==: error: the value (column 1): YAML tag '!!binary' is not accepted in a spec; only the core schema's !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are, where they fit the value" -- check "$dense" --set 'train.epochs=!!binary AA=='
expect 2 "--set train.epochs=[1: error: the value is not valid YAML (at its end): did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 1)" -- check "$dense" --set 'train.epochs=[1'
expect 2 "--set model.layers.1.dense.units=16000000: error: layer 'dense_1' would have an output of [1, 1, 16000000] and 12560000000 parameters (50.2 GB); nnrun accepts at most 2147483648 of each (at $dense:9:7)" -- check "$dense" --set model.layers.1.dense.units=16000000

# ---- one grammar for --set keys and sweep keys ----
# key  reason (the same text from both)
while IFS='|' read -r key why; do
    expect 2 "--set $key=3: error: '$key' is not a key path such as train.batch_size or model.layers.2.dense.units: $why" -- check "$dense" --set "$key=3"
    printf 'base: %s\ngrid:\n  "%s": [1, 2]\n' "$dense" "$key" > sweep.yaml
    expect 2 "sweep.yaml:3:3: error: '$key' is not a key path such as train.batch_size: $why" -- sweep sweep.yaml --emit out
    [ -e out ] && { echo "FAIL: sweep --emit wrote out/ for a bad key"; fail=1; }
    printf 'base: %s\nset: {"%s": 3}\ngrid:\n  train.epochs: [1, 2]\n' "$dense" "$key" > sweep.yaml
    expect 2 "sweep.yaml:2:7: error: '$key' is not a key path such as train.batch_size: $why" -- sweep sweep.yaml --emit out
done <<'KEYS'
train..epochs|the key has an empty segment between two dots
.train|the key starts with '.'
train.|the key ends with '.'
.|'.' alone is not a key
model.layers.+1.dense.units|'+1' is not a list index: an index has no sign (items count from 0)
model.layers.-1.dense.units|'-1' is not a list index: an index has no sign (items count from 0)
model.layers.01.dense.units|'01' is not a list index: an index has no leading zero
model.layers. 1.dense.units|' 1' has a space; a key segment is letters, digits, '_' and '-' (a letter or '_' first), a list index is digits
model.layers.1 .dense.units|'1 ' is neither a key (a letter or '_' first) nor a list index (digits only)
KEYS
# a good key works in both
printf 'base: %s\ngrid:\n  model.layers.1.dense.units: [8, 16]\n' "$dense" > sweep.yaml
"$nnrun" sweep sweep.yaml --emit out > /dev/null 2>&1 && [ -f out/sweep-001.yaml ] &&
    grep -q 'units: 16' out/sweep-002.yaml && echo "ok: a sweep over model.layers.1.dense.units" ||
    { echo "FAIL: a good sweep key"; ls out; fail=1; }

exit $fail
