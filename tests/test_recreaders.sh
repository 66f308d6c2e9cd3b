#!/bin/bash
# test_recreaders.sh NNRUN SRCDIR - every reader of a run record is bounded:
# weights (model.nnw, --weights), the checkpoint (--resume), metrics.csv
# (--resume, report), results.json (report, collect) and the record's
# spec.yaml (eval, --resume, report, collect), each given /dev/zero, a FIFO,
# a directory, a truncated file, a wrong magic or header and a file
# declaring huge sizes, must end at once (timeout 10 s) with an exit status
# of 1 or 2 and a message naming the file.  Also: eval --weights with --set
# changing the model, a weights file with more or fewer parameters, a
# checkpoint with impossible counters under a correct CRC, report and
# collect with missing files, predict on 0 images and absurd dimensions.
# Skips (77) without the data set unless NNRUN_REQUIRE_DATA=1.
set -u
nnrun=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
n_ok=0
ok() { n_ok=$((n_ok + 1)); }
bad() { echo "FAIL: $*"; fail=1; }

. "$src/tests/lib.sh"
need_data "$nnrun" "$src"

spec=$src/models/dense.yaml
tiny=(--set data.train_samples=500 --set data.test_samples=200 --set train.epochs=1)
"$nnrun" "$spec" "${tiny[@]}" --quiet --out r1 > r1.log 2>&1 || { cat r1.log; echo "FAIL: training"; exit 1; }
for f in spec.yaml metrics.csv results.json model.nnw checkpoint.nnc; do
    [ -s "r1/$f" ] || { echo "FAIL: r1/$f is missing"; exit 1; }
done

# expect WHAT STATUS PATTERN CMD...: CMD ends within 10 s with STATUS and
# its stderr matches PATTERN (an extended regex)
expect() {
    local what=$1 want=$2 pat=$3
    shift 3
    local out st
    out=$(timeout 10 "$@" 2>&1 >/dev/null < /dev/null)
    st=$?
    if [ $st = 124 ]; then
        bad "$what: did not end within 10 s"
    elif [ $st != "$want" ]; then
        bad "$what: exit $st, expected $want: $out"
    elif ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
        bad "$what: message does not match '$pat': $out"
    else
        ok
    fi
}

# damage DIR FILE KIND: replaces DIR/FILE by a damaged version of itself
damage() {
    local f=$1/$2
    case $3 in
    zero) rm -f "$f"; ln -s /dev/zero "$f" ;;
    urandom) rm -f "$f"; ln -s /dev/urandom "$f" ;;
    fifo) rm -f "$f"; mkfifo "$f" ;;
    dir) rm -f "$f"; mkdir "$f" ;;
    missing) rm -f "$f" ;;
    truncated) head -c $(($(stat -c %s "$f") / 2)) "$f" > "$f.t" && mv "$f.t" "$f" ;;
    empty) : > "$f" ;;
    magic) printf 'XXXXXXXXXXXXXXXXXXXXXXXX' | dd of="$f" conv=notrunc status=none ;;
    esac
}
kinds=(zero urandom fifo dir truncated magic)
# what each kind must say about a file (the file itself is in every message)
why() {
    case $1 in
    zero | urandom) echo "character device" ;;
    fifo) echo "FIFO" ;;
    dir) echo "directory" ;;
    missing) echo "No such file" ;;
    *) echo "." ;;
    esac
}
fresh() { rm -rf "$1"; cp -r r1 "$1"; }

# ---- weights: eval SPEC --weights, eval RUN_DIR, predict ------------------
idx_one() { python3 - "$@" <<'PY'
import struct, sys
dims = [int(x) for x in sys.argv[2:]]
n = 1
for d in dims: n *= d
with open(sys.argv[1], "wb") as f:
    f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims))
    f.write(bytes(n if n < 1 << 24 else 0))
PY
}
idx_one img.idx 3 28 28
for k in "${kinds[@]}" missing empty; do
    fresh w; damage w model.nnw "$k"
    expect "eval RUN_DIR, model.nnw $k" 1 "w/model.nnw(:[0-9]+)*: .*$(why "$k")" "$nnrun" eval w
    expect "predict RUN_DIR, model.nnw $k" 1 "w/model.nnw(:[0-9]+)*: .*$(why "$k")" "$nnrun" predict w img.idx
    expect "eval SPEC --weights ($k)" 1 "w/model.nnw(:[0-9]+)*: .*$(why "$k")" \
        "$nnrun" eval "$spec" "${tiny[@]}" --weights w/model.nnw
done
fresh w
expect "weights: truncated says so" 1 "w/model.nnw: (truncated|not an nnrun)" \
    bash -c "head -c 100 r1/model.nnw > w/model.nnw; exec '$nnrun' eval w"
expect "weights: wrong magic says so" 1 "w/model.nnw: not an nnrun checkpoint or weights file" \
    bash -c "cp r1/model.nnw w/; printf XXXX | dd of=w/model.nnw conv=notrunc status=none; exec '$nnrun' eval w"

# a file whose header declares huge sizes, with a correct CRC: refused from
# the header, before the payload is read or allocated (the sparse files are
# 16 and 48 GB long, a compressed payload as long as the raw one; only their
# headers are ever read)
patch_ckpt() {   # SRC DST FIELD=VALUE... (fields at their offsets; the CRC fixed)
    python3 - "$@" <<'PY'
import struct, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
b = bytearray(open(src, "rb").read())
at = {"kind": (12, "<I"), "n_params": (24, "<Q"), "n_state": (32, "<I"), "epoch": (36, "<i"),
      "batch": (40, "<Q"), "step": (48, "<Q"), "optim_t": (56, "<q"), "loss": (64, "<d"),
      "correct": (72, "<d"), "n": (88, "<q"), "best_epoch": (112, "<i"), "wait": (116, "<i"),
      "raw_len": (120, "<Q"), "comp_len": (128, "<Q"), "lr": (136, "<f")}
grow = 0
for a in sys.argv[3:]:
    k, v = a.split("=")
    if k == "grow":
        grow = int(v)
        continue
    off, fmt = at[k]
    struct.pack_into(fmt, b, off, float(v) if fmt in ("<d", "<f") else int(v))
b[-4:] = struct.pack("<I", zlib.crc32(bytes(b[:-4])))
with open(dst, "wb") as f:
    f.write(b)
if grow:
    # the same header, a compressed length that fills a sparse file of grow bytes
    struct.pack_into("<Q", b, 128, grow - 168 - 4)
    with open(dst, "wb") as f:
        f.write(b[:168])
        f.truncate(grow)
PY
}
fresh w
patch_ckpt r1/model.nnw w/model.nnw n_params=4000000000 raw_len=16000000000 grow=16000000172
expect "weights: 4e9 parameters declared in a 16 GB sparse file" 1 \
    "w/model.nnw: holds 4000000000 parameters, the model has 24380" "$nnrun" eval w
patch_ckpt r1/model.nnw w/model.nnw comp_len=999999999999
expect "weights: a compressed length beyond the file" 1 "w/model.nnw: truncated or padded" \
    "$nnrun" eval w

# ---- class 5: the weights belong to the model ------------------------------
"$nnrun" "$src/models/cnn.yaml" "${tiny[@]}" --quiet --out cnn > cnn.log 2>&1 || bad "cnn training: $(cat cnn.log)"
expect "weights with more parameters" 1 "cnn/model.nnw: holds [0-9]+ parameters, the model has 24380" \
    "$nnrun" eval "$spec" "${tiny[@]}" --weights cnn/model.nnw
expect "weights with fewer parameters" 1 "r1/model.nnw: holds 24380 parameters, the model has [0-9]+" \
    "$nnrun" eval "$src/models/cnn.yaml" "${tiny[@]}" --weights r1/model.nnw
expect "eval RUN_DIR --set changing a layer's units" 1 "r1/model.nnw: holds 24380 parameters, the model has" \
    "$nnrun" eval r1 --set model.layers.1.dense.units=31
expect "eval RUN_DIR --set changing an activation (same parameter count)" 1 \
    "--set model.layers.3.dense.activation=sigmoid: changes the model that r1/model.nnw was trained as" \
    "$nnrun" eval r1 --set model.layers.3.dense.activation=sigmoid
expect "eval RUN_DIR --set changing divide_by" 1 "--set data.divide_by=1: changes the model" \
    "$nnrun" eval r1 --set data.test_samples=100 --set data.divide_by=1
expect "eval SPEC --weights --set changing the model" 1 \
    "--set model.layers.3.dense.activation=sigmoid: changes the model" \
    "$nnrun" eval r1/spec.yaml --weights r1/model.nnw --set model.layers.3.dense.activation=sigmoid
expect "eval SPEC --weights from another spec" 1 "r1/model.nnw: was written for a spec with hash [0-9a-f]{16}; .* has hash" \
    "$nnrun" eval "$spec" --weights r1/model.nnw
# what may change: the test data; the same weights give the same accuracy
a=$("$nnrun" eval r1 --json 2>&1)
b=$("$nnrun" eval r1 --set train.batch_size=7 --json 2>&1)
c=$("$nnrun" eval "$spec" "${tiny[@]}" --weights r1/model.nnw --json 2>&1)
d=$("$nnrun" eval r1 --set data.test_samples=100 --json 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && ok || bad "eval with a harmless --set or the training overrides: '$a' / '$b' / '$c'"
printf '%s\n' "$d" | grep -q '"samples": 100,' && ok || bad "eval --set data.test_samples=100: $d"
# the training overrides, then a free one: accepted (the weights are the spec's
# with the first overrides); then one that changes the model: refused
e=$("$nnrun" eval "$spec" "${tiny[@]}" --set data.test_samples=100 --weights r1/model.nnw --json 2>&1)
printf '%s\n' "$e" | grep -q '"samples": 100,' && ok || bad "eval SPEC the training overrides + test_samples=100: $e"
expect "eval SPEC --weights, the training overrides, then one changing the model" 1 \
    "--set model.layers.3.dense.activation=sigmoid: changes the model that r1/model.nnw was trained as .*with the first 3 overrides" \
    "$nnrun" eval "$spec" "${tiny[@]}" --set model.layers.3.dense.activation=sigmoid --weights r1/model.nnw

# ---- the checkpoint: --resume ---------------------------------------------
for k in "${kinds[@]}" missing empty; do
    fresh c; damage c checkpoint.nnc "$k"
    expect "resume, checkpoint.nnc $k" 1 "c/checkpoint.nnc(:[0-9]+)*: .*$(why "$k")" "$nnrun" --resume c --quiet
done
fresh c
patch_ckpt r1/checkpoint.nnc c/checkpoint.nnc n_params=4000000000 raw_len=48000000000 grow=48000000172
expect "resume, checkpoint declaring 4e9 parameters in 48 GB" 1 \
    "c/checkpoint.nnc: holds 4000000000 parameters, the model has 24380" "$nnrun" --resume c --quiet
# impossible counters under a correct CRC
imp=("n=-5" "epoch=-1" "epoch=7" "batch=1 step=1" "step=3" "optim_t=-1" "loss=-1" "correct=1e9 n=0"
     "best_epoch=9" "wait=-2" "lr=-0.5")
for p in "${imp[@]}"; do
    fresh c
    # shellcheck disable=SC2086
    patch_ckpt r1/checkpoint.nnc c/checkpoint.nnc $p
    expect "resume, checkpoint with $p (CRC correct)" 1 "c/checkpoint.nnc: (holds|is after|bad header)" \
        "$nnrun" --resume c --quiet
done
# counters only the spec can refute: 20 batches an epoch here (500 / 25)
fresh c
patch_ckpt r1/checkpoint.nnc c/checkpoint.nnc epoch=0 batch=25 step=25 optim_t=25 n=625
expect "resume, batch beyond the epoch's batches" 1 "c/checkpoint.nnc: is after 25 batches of an epoch; the spec's epochs have 20 batches" \
    "$nnrun" --resume c --quiet
fresh c
patch_ckpt r1/checkpoint.nnc c/checkpoint.nnc epoch=0 batch=5 step=5 optim_t=5 n=5
expect "resume, running sums over too few samples" 1 "c/checkpoint.nnc: holds running sums over 5 samples after 5 batches of 25" \
    "$nnrun" --resume c --quiet
fresh c
patch_ckpt r1/checkpoint.nnc c/checkpoint.nnc epoch=1 batch=0 step=30 optim_t=30
expect "resume, a step other than epochs x batches + batch" 1 "c/checkpoint.nnc: holds step 30 after 1 epochs and 0 batches; with 20 batches an epoch that is step 20" \
    "$nnrun" --resume c --quiet
# and the untouched record still resumes (a finished run: evaluated again)
fresh c
expect "resume of an intact record" 0 "^$" "$nnrun" --resume c --quiet

# ---- metrics.csv: --resume and report -------------------------------------
for k in "${kinds[@]}" missing empty; do
    fresh m; damage m metrics.csv "$k"
    expect "resume, metrics.csv $k" 1 "m/metrics.csv(:[0-9]+)*: .*$(why "$k")" "$nnrun" --resume m --quiet
    fresh m; damage m metrics.csv "$k"
    expect "report, metrics.csv $k" 1 "m/metrics.csv(:[0-9]+)*: .*$(why "$k")" "$nnrun" report m -o m.html
done
fresh m
head -c 5000 /dev/zero > m/metrics.csv
expect "report, metrics.csv of NUL bytes" 1 "m/metrics.csv: a NUL byte at offset 0" "$nnrun" report m -o m.html
expect "resume, metrics.csv of NUL bytes" 1 "m/metrics.csv:1: the header is not" "$nnrun" --resume m --quiet
fresh m
{ head -1 r1/metrics.csv; head -c 10000 /dev/zero | tr '\0' '1'; echo; } > m/metrics.csv
expect "report, a 10000-byte line" 1 "m/metrics.csv:2: a line longer than 4096 bytes" "$nnrun" report m -o m.html
expect "resume, a 10000-byte line" 1 "m/metrics.csv:2: a line longer than 4096 bytes" "$nnrun" --resume m --quiet
fresh m
truncate -s 300M m/metrics.csv
expect "report, a 300 MB metrics.csv" 1 "m/metrics.csv: is 314572800 bytes, more than the" "$nnrun" report m -o m.html
expect "resume, a 300 MB metrics.csv" 1 "m/metrics.csv: is 314572800 bytes, more than the" "$nnrun" --resume m --quiet
fresh m
sed -i 's/^epoch,/epoch_x,/' m/metrics.csv
expect "resume, a foreign header" 1 "m/metrics.csv:1: the header is not" "$nnrun" --resume m --quiet
expect "report, a foreign header" 1 "m/metrics.csv:1: the header is not" "$nnrun" report m -o m.html

# ---- results.json: report and collect -------------------------------------
for k in "${kinds[@]}" empty; do
    fresh j; damage j results.json "$k"
    # a runtime problem with a file (1), for report and collect alike, said once
    expect "report, results.json $k" 1 "j/results.json(:[0-9]+)*: .*$(why "$k")" "$nnrun" report j -o j.html
    expect "collect, results.json $k" 1 "j/results.json(:[0-9]+)*: .*$(why "$k")" "$nnrun" collect j
    for cmd in "report j -o j.html" "collect j"; do
        n=$(timeout 10 "$nnrun" $cmd 2>&1 >/dev/null < /dev/null | grep -c "j/results.json")
        [ "$n" = 1 ] || bad "$cmd, results.json $k: $n lines name results.json, expected 1"
    done
done
# under a directory of runs: the damaged one is left out, and said why, once
rm -rf many; mkdir many; cp -r r1 many/a; cp -r r1 many/b; rm many/b/results.json; mkdir many/b/results.json
expect "report, a run of many whose results.json is a directory" 0 \
    "^nnrun: note: many/b/results.json: is a directory, not a regular file; left out$" \
    "$nnrun" report many -o many.html
fresh j
truncate -s 20M j/results.json
expect "report, a 20 MB results.json" 1 "j/results.json: .*is 20971520 bytes, more than the" "$nnrun" report j -o j.html
expect "collect, a 20 MB results.json" 1 "skipping j: j/results.json: .*is 20971520 bytes" "$nnrun" collect j
fresh j; damage j results.json missing
expect "report, results.json missing" 2 "j: no results.json" "$nnrun" report j -o j.html

# ---- the record's spec.yaml: eval, --resume, report, collect ---------------
for k in "${kinds[@]}" missing; do
    fresh s; damage s spec.yaml "$k"
    expect "eval RUN_DIR, spec.yaml $k" 2 "s/spec.yaml(:[0-9]+)*: .*$(why "$k")" "$nnrun" eval s
    fresh s; damage s spec.yaml "$k"
    expect "resume, spec.yaml $k" 2 "s/spec.yaml" "$nnrun" --resume s --quiet
    fresh s; damage s spec.yaml "$k"
    expect "report, spec.yaml $k" 1 "s/spec.yaml" "$nnrun" report s -o s.html
    fresh s; damage s spec.yaml "$k"
    # collect: the spec is optional; the record is listed without spec columns
    expect "collect, spec.yaml $k" 0 "^$" "$nnrun" collect s
done
fresh s
truncate -s 17M s/spec.yaml
expect "eval RUN_DIR, a 17 MB spec.yaml" 2 "s/spec.yaml: is 17825792 bytes, more than the 16777216" "$nnrun" eval s
expect "resume, a 17 MB spec.yaml" 2 "s/spec.yaml: is 17825792 bytes" "$nnrun" --resume s --quiet
expect "report, a 17 MB spec.yaml" 1 "s/spec.yaml: .*is 17825792 bytes" "$nnrun" report s -o s.html

# ---- predict: 0 images, absurd dimensions, the model's shape ----------------
idx_one zero.idx 0 28 28
idx_one huge.idx 0 100000 4294967295
idx_one small.idx 2 10 10
idx_one rgb.idx 1 28 28 3
idx_one flat.idx 5
expect "predict on 0 images" 1 "zero.idx: holds 0 images of \[28, 28, 1\]: nothing to predict" \
    "$nnrun" predict r1 zero.idx
expect "predict on absurd dimensions" 1 "huge.idx: dimension 3 of 3 in the IDX header is 4294967295, over 2147483647" \
    "$nnrun" predict r1 huge.idx
expect "predict on other dimensions" 1 "small.idx: an IDX file of rank 3: 2 images of \[10, 10\] \(1 channel\); the model takes images of \[28, 28, 1\]" \
    "$nnrun" predict r1 small.idx
expect "predict on 3 channels" 1 "rgb.idx: an IDX file of rank 4: 1 image of \[28, 28, 3\]; the model takes images of \[28, 28, 1\]" \
    "$nnrun" predict r1 rgb.idx
expect "predict on rank 1" 1 "flat.idx: an IDX file of rank 1: 5 images of \[\]" "$nnrun" predict r1 flat.idx
mkfifo images.fifo
expect "predict on a FIFO" 1 "images.fifo: is a FIFO" "$nnrun" predict r1 images.fifo
expect "predict on /dev/zero" 1 "/dev/zero: is a character device" "$nnrun" predict r1 /dev/zero
expect "predict on a directory" 1 "r1: is a directory" "$nnrun" predict r1 r1
[ "$("$nnrun" predict r1 img.idx 2>&1 | wc -l)" = 3 ] && ok || bad "predict on 3 good images"

echo "$n_ok checks passed"
[ $fail = 0 ] && echo "PASS" || echo "FAILED"
exit $fail
