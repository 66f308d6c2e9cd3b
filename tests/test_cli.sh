#!/bin/sh
# test_cli.sh NNRUN SRCDIR - the command line: exit statuses and messages.
#   0 success, 1 runtime failure, 2 bad spec or usage; errors on stderr.
set -u
nnrun=$(realpath "$1")
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect STATUS PATTERN-IN-OUTPUT -- ARGS...
expect() {
    want=$1 pattern=$2
    shift 3
    out=$("$nnrun" "$@" 2>&1)
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: nnrun $* exited $got, expected $want"; echo "$out"; fail=1
    elif ! printf '%s' "$out" | grep -qF -- "$pattern"; then
        echo "FAIL: nnrun $*: output lacks '$pattern'"; echo "$out"; fail=1
    else
        echo "ok: nnrun $* -> $got"
    fi
}

expect 0 "usage: nnrun" -- --help
expect 0 "nnrun 0." -- --version
expect 0 "Total params: 95,100" -- check "$src/models/cnn.yaml"
expect 0 "Total params: 24,380" -- check "$src/models/dense.yaml"
# every shipped spec validates
for m in "$src"/models/*.yaml; do expect 0 "Total params:" -- check "$m"; done
expect 2 "no spec file given" --
expect 2 "unknown option '--bogus'" -- --bogus "$src/models/cnn.yaml"
expect 2 "--threads needs an integer" -- "$src/models/cnn.yaml" --threads zero
expect 2 "cannot open the spec" -- check "$tmp/none.yaml"

# a typo: file:line:column, what was found, what is accepted, did-you-mean
sed 's/activation: tanh}/activation: tahn}/' "$src/models/cnn.yaml" > "$tmp/typo.yaml"
expect 2 "typo.yaml:8:72: error: unknown activation 'tahn'; expected one of: linear, tanh, relu, sigmoid, softmax, leaky_relu, elu (did you mean 'tanh'?)" -- "$tmp/typo.yaml"
# every error is reported, not just the first
printf 'model:\n  input: [4]\n  layers:\n    - dense: {units: 0}\n    - dense: {unit: 10}\ntrain: {loss: mse, epochs: 0}\n' > "$tmp/many.yaml"
out=$("$nnrun" check "$tmp/many.yaml" 2>&1)
n=$(printf '%s\n' "$out" | grep -c "many.yaml:[0-9]*:[0-9]*: error:")
if [ "$n" -ge 4 ]; then echo "ok: $n errors reported at once"; else echo "FAIL: $n errors in:"; echo "$out"; fail=1; fi

# overrides change the spec before it is checked; their errors name them
expect 0 "200,768" -- check "$src/models/cnn.yaml" --set model.layers.3.dense.units=64
expect 2 "--set train.epoch=5: error: unknown key for train 'epoch'" -- check "$src/models/cnn.yaml" --set train.epoch=5

# every malformed spec of the corpus, run as a training command from an
# empty directory: exit status 2, a file:line:column error, nothing written
mkdir "$tmp/empty"
n_bad=0 bad_fail=0
for f in "$src"/tests/specs/bad/*.yaml; do
    out=$(cd "$tmp/empty" && "$nnrun" "$f" 2>&1 >/dev/null)
    st=$?
    if [ $st != 2 ] || ! printf '%s' "$out" | grep -q "^$f:[0-9]*:[0-9]*: error: "; then
        echo "FAIL: nnrun $f exited $st:"; echo "$out"; bad_fail=1
    fi
    n_bad=$((n_bad + 1))
done
if [ -n "$(ls -A "$tmp/empty")" ]; then echo "FAIL: bad specs wrote files:"; ls -A "$tmp/empty"; bad_fail=1; fi
rmdir "$tmp/empty" 2>/dev/null
if [ $bad_fail = 0 ]; then echo "ok: $n_bad malformed specs: exit 2, file:line:column, nothing written"; else fail=1; fi

# a --resume path too long for the record's files is refused, not cut
expect 2 "--resume: the path is 4200 bytes long" -- "$src/models/dense.yaml" --resume "$(printf 'a/%.0s' $(seq 2100))"
# a data file that is not there: runtime failure (1), naming the file
cat > "$tmp/paths.yaml" <<YAML
data: {train_images: $tmp/no-images.gz, train_labels: $tmp/l.gz, test_images: $tmp/t.gz, test_labels: $tmp/tl.gz}
model: {input: [28, 28, 1], layers: [flatten, {dense: {units: 10, activation: softmax}}]}
train: {loss: sparse_categorical_crossentropy}
YAML
expect 1 "no-images.gz: cannot open" -- "$tmp/paths.yaml"
# nothing was written next to the spec or in the working directory
if [ -n "$(ls -A "$tmp" | grep -v -e '^typo.yaml$' -e '^many.yaml$' -e '^paths.yaml$')" ]; then
    echo "FAIL: files were written:"; ls -A "$tmp"; fail=1
fi
exit $fail
