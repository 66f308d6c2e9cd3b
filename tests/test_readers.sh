#!/bin/sh
# test_readers.sh NNRUN SRCDIR - every data reader is bounded, through the
# command line (issue 13): devices, a FIFO nobody writes to, a directory,
# random bytes, a sparse file of zeros and an empty file as each data path of
# an IDX spec and a CSV spec, and as predict's images, end in a clear message
# naming the file, at once (each run under `timeout 10`: a hang fails); a gzip
# bomb whose counts disagree is refused from the headers in bounded time and
# memory; --max-memory covers the data sets and `nnrun bench`; damaged
# payloads and CSV line ends get the right message.
set -u
nnrun=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# run STATUS PATTERN ARGS...: nnrun ARGS under `timeout 10` exits STATUS and
# its output holds PATTERN (fixed string)
run() {
    want=$1 pattern=$2
    shift 2
    out=$(timeout 10 "$nnrun" "$@" 2>&1)
    got=$?
    if [ "$got" = 124 ]; then
        bad "nnrun $* did not end within 10 s"
    elif [ "$got" != "$want" ]; then
        bad "nnrun $* exited $got, expected $want"; echo "$out"
    elif ! printf '%s' "$out" | grep -qF -- "$pattern"; then
        bad "nnrun $*: output lacks '$pattern'"; echo "$out"
    elif printf '%s' "$out" | grep -q -- '-1\b'; then
        bad "nnrun $*: a -1 in the message"; echo "$out"
    else
        ok "nnrun $* -> $got: $(printf '%s' "$out" | grep -F -- "$pattern" | head -1 | cut -c 1-150)"
    fi
}

# a tiny data set: 6x6 images of 4 classes, as IDX (plain and gzipped) and CSV
python3 - <<'PY' || exit 1
import gzip, random, struct
def idx(name, dims, data, gz=False):
    body = struct.pack(">BBBB" + "I" * len(dims), 0, 0, 8, len(dims), *dims) + bytes(data)
    (gzip.open if gz else open)(name, "wb").write(body)
for part, n, seed in (("train", 200, 1), ("test", 60, 2)):
    r = random.Random(seed)
    labels = [r.randrange(4) for _ in range(n)]
    px = [r.randrange(256) for _ in range(n * 36)]
    idx(part + "-images.gz", (n, 6, 6), px, gz=True)
    idx(part + "-labels", (n,), labels)
    with open(part + ".csv", "w") as f:
        f.write("label," + ",".join("p%d" % i for i in range(36)) + "\n")
        for i in range(n):
            f.write(",".join(map(str, [labels[i]] + px[i * 36:(i + 1) * 36])) + "\n")
# 20000 images of 28 x 28 (15.7 MB) for the memory limit
r = random.Random(3)
idx("big-images", (20000, 28, 28), bytes(r.getrandbits(8) for _ in range(20000 * 784)))
idx("big-labels", (20000,), [i % 10 for i in range(20000)])
idx("zero-images", (0, 6, 6), b"")
PY
cat > idx.yaml <<'YAML'
name: readers-idx
data: {train_images: train-images.gz, train_labels: train-labels, test_images: test-images.gz,
       test_labels: test-labels, classes: 4}
model:
  input: [6, 6, 1]
  layers: [flatten, {dense: {units: 4, activation: softmax}}]
train: {loss: sparse_categorical_crossentropy, epochs: 1, batch_size: 20}
YAML
sed -e 's/name: readers-idx/name: readers-csv/' \
    -e 's/^data: .*/data: {format: csv, train: train.csv, test: test.csv, classes: 4}/' \
    -e '/^       test_labels/d' idx.yaml > csv.yaml
run 0 "test accuracy" idx.yaml --no-record
run 0 "test accuracy" csv.yaml --out run-csv

# ---- not regular files, and regular files of no data -------------------------
mkfifo fifo
mkdir adir
: > empty
truncate -s 1G zeros
head -c 1000000 /dev/urandom > random
for p in /dev/zero /dev/urandom fifo adir; do
    case $p in /dev/*) [ -c "$p" ] || { echo "note: $p is not a device here; skipped"; continue; };; esac
    case $p in
        fifo) what="is a FIFO (named pipe)";;
        adir) what="is a directory";;
        *) what="is a character device";;
    esac
    for key in train_images train_labels test_images test_labels; do
        run 1 "$p: $what, not a regular file" idx.yaml --no-record \
            --set data.$key=$p
    done
    for key in train test; do
        run 1 "$p: $what" csv.yaml --no-record --set data.$key=$p
    done
    run 1 "$p: $what" predict run-csv "$p"
done
run 1 "empty: empty file, not an IDX file" idx.yaml --no-record --set data.train_images=empty
run 1 "empty: holds no samples (the file is empty)" csv.yaml --no-record --set data.train=empty
run 1 "zeros: not an IDX file (magic 0x00000000)" idx.yaml --no-record --set data.test_labels=zeros
run 1 "zeros:1: the header line is longer than" csv.yaml --no-record --set data.train=zeros
run 1 "zeros:1: field 1 is longer than 64 characters" csv.yaml --no-record \
    --set data.train=zeros --set data.header=false
run 1 "random: not an IDX file" idx.yaml --no-record --set data.train_labels=random
run 1 "random:" csv.yaml --no-record --set data.test=random
run 1 "zero-images: holds no images (the header says 0 images of 6 x 6 x 1)" idx.yaml \
    --no-record --set data.train_images=zero-images

# ---- a gzip bomb: 5,000,000 images of 28 x 28 (3.9 GB) in a 3.8 MB file ------
python3 - <<'PY' || exit 1
import struct, zlib
# the deflate stream really inflates to the 3.9 GB it announces: one block of
# 16 MiB of zeros ended by a full flush (so each copy stands alone), repeated;
# the trailer's CRC is left 0 (a reader that refuses from the headers never
# gets there)
n = 5000000
total = n * 28 * 28
raw = lambda: zlib.compressobj(9, zlib.DEFLATED, -15)
c = raw()
head = c.compress(struct.pack(">BBBBIII", 0, 0, 8, 3, n, 28, 28)) + c.flush(zlib.Z_FULL_FLUSH)
c = raw()
block = c.compress(bytes(1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)
with open("bomb-images.gz", "wb") as f:
    f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + head)
    for _ in range(total >> 24):
        f.write(block)
    c = raw()
    f.write(c.compress(bytes(total & ((1 << 24) - 1))) + c.flush())
    f.write(struct.pack("<II", 0, (total + 16) & 0xffffffff))
open("ten-labels", "wb").write(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + bytes(10))
open("bomb-labels", "wb").write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(n))
PY
cat > bomb.yaml <<'YAML'
name: bomb
data: {train_images: bomb-images.gz, train_labels: ten-labels, test_images: test-images.gz,
       test_labels: test-labels, classes: 10}
model:
  input: [28, 28, 1]
  layers: [flatten, {dense: {units: 10, activation: softmax}}]
train: {loss: sparse_categorical_crossentropy, epochs: 1, batch_size: 20}
YAML
# bounded memory: under `ulimit -v` (1 GB of address space, where the build
# allows it: not under ASan) or by /usr/bin/time's maximum resident set
limit_v=""
sh -c 'ulimit -v 1000000 && "$0" --version' "$nnrun" >/dev/null 2>&1 && limit_v="ulimit -v 1000000;"
timer=""
[ -x /usr/bin/time ] && timer="/usr/bin/time -f 'maxrss %M'"
start=$(date +%s)
out=$(sh -c "$limit_v exec $timer timeout 10 '$nnrun' bomb.yaml --no-record" 2>&1)
took=$(( $(date +%s) - start ))
rss=$(printf '%s\n' "$out" | sed -n 's/^maxrss //p')
[ -z "$timer" ] && rss=0 && echo "note: no /usr/bin/time; the bomb's memory is bounded by ulimit -v only"
if printf '%s' "$out" | grep -qF "ten-labels: 10 labels but bomb-images.gz has 5000000 images (from the headers)" &&
        [ "$took" -le 2 ] && [ -n "$rss" ] && [ "$rss" -lt 200000 ]; then
    ok "gzip bomb with disagreeing counts refused from the headers in ${took} s, max RSS ${rss} KB${limit_v:+, under ulimit -v}"
else
    bad "gzip bomb: ${took} s, max RSS ${rss:-?} KB: $out"
fi
run 1 "bomb-images.gz: 5000000 images of 28 x 28 x 1 and their labels take 3925000000 bytes (3.7 GiB), more than the" \
    bomb.yaml --no-record --set data.train_labels=bomb-labels --max-memory 1G

# ---- --max-memory covers the data sets ------------------------------------------
cat > big.yaml <<'YAML'
name: big
data: {train_images: big-images, train_labels: big-labels, test_images: test-images.gz,
       test_labels: test-labels, classes: 10, train_samples: 200, test_samples: 60}
model:
  input: [28, 28, 1]
  layers: [flatten, {dense: {units: 10, activation: softmax}}]
train: {loss: sparse_categorical_crossentropy, epochs: 1, batch_size: 20}
YAML
run 1 "big-images: 20000 images of 28 x 28 x 1 and their labels take 15700000 bytes (15.0 MiB), more than the" \
    big.yaml --no-record --max-memory 10M
run 1 "(--max-memory), of which the model plans" big.yaml --no-record --max-memory 10M
run 0 "test accuracy" big.yaml --no-record --max-memory 64M --set data.test_images=big-images \
    --set data.test_labels=big-labels
# the test set counts after the training set: 2 x 15.7 MB does not fit in 24M
run 1 "and the training set takes 15.0 MiB" big.yaml --no-record --max-memory 24M \
    --set data.test_images=big-images --set data.test_labels=big-labels
# CSV: counted as the samples arrive
python3 -c "
import random
r = random.Random(4)
with open('big.csv', 'w') as f:
    f.write('label,' + ','.join('p%d' % i for i in range(36)) + '\n')
    for i in range(3000):
        f.write(','.join(str(v) for v in [i % 4] + [r.randrange(256) for _ in range(36)]) + '\n')
"
run 1 "samples of 6 x 6 x 1 and their labels would pass the" csv.yaml \
    --no-record --max-memory 100K --set data.train=big.csv
run 0 "3000 training" csv.yaml --no-record --max-memory 1M --set data.train=big.csv

# ---- nnrun bench --------------------------------------------------------------
run 2 "the benchmark needs" bench idx.yaml --max-memory 10K
run 2 "(--max-memory)" bench idx.yaml --max-memory 10K
run 0 "training step" bench idx.yaml --max-memory 1G --threads 1

# ---- messages -------------------------------------------------------------------
# damage in a gzip payload is not a header error
python3 - <<'PY' || exit 1
data = open("train-images.gz", "rb").read()
open("cut.gz", "wb").write(data[:len(data) // 2])
b = bytearray(data)
b[-8] ^= 1   # the CRC
open("crc.gz", "wb").write(bytes(b))
open("junk.gz", "wb").write(data + b"junk")
open("trail", "wb").write(open("train-labels", "rb").read() + b"\0")
# CR-only line ends (old Mac), with a header
lines = open("train.csv").read().split("\n")
open("cr.csv", "w", newline="").write("\r".join(lines))
open("crlf.csv", "w", newline="").write("\r\n".join(lines))
PY
run 1 "cut.gz: truncated: expected 7200 bytes of image data, got" idx.yaml --no-record \
    --set data.train_images=cut.gz
run 1 "crc.gz: corrupt gzip stream: incorrect data check, at the end of the image data (the payload is damaged)" \
    idx.yaml --no-record --set data.train_images=crc.gz
run 1 "junk.gz: trailing data after the gzip stream" idx.yaml --no-record --set data.train_images=junk.gz
run 1 "trail: trailing data: 1 bytes after the 200 bytes of label data" idx.yaml --no-record \
    --set data.train_labels=trail
for f in cut.gz crc.gz junk.gz; do
    out=$(timeout 10 "$nnrun" idx.yaml --no-record --set data.train_images=$f 2>&1)
    printf '%s' "$out" | grep -qi header && bad "$f: called a header error: $out"
done
run 0 "200 training" csv.yaml --no-record --set data.train=cr.csv
run 0 "200 training" csv.yaml --no-record --set data.train=crlf.csv
# a gzip file of nothing but line breaks (64 MiB of them in 64 KB): refused after about 1 MiB
python3 -c "import gzip; gzip.open('lines.csv.gz', 'wb').write(b'label\n' + b'\n' * (1 << 26))"
run 1 "lines.csv.gz:1050983: more than 1050981 bytes of blank lines and spaces without a sample" \
    csv.yaml --no-record --set data.train=lines.csv.gz
printf 'label,a\n' > header-only.csv
run 1 "header-only.csv: holds no samples (only a header)" csv.yaml --no-record \
    --set data.train=header-only.csv

# ---- a file-size limit (ulimit -f) is a write error, not a silent death -------
# (the shell keeps SIGXFSZ's default action: nnrun itself must ignore it)
out=$(sh -c "ulimit -f 2; exec \"$nnrun\" idx.yaml --out xf" 2>&1)
st=$?
if [ $st != 1 ] || ! printf '%s' "$out" | grep -qF "xf/checkpoint.nnc: not written (File too large)"; then
    bad "ulimit -f 2: exited $st, expected 1 and 'not written (File too large)'"; echo "$out"
elif ls xf | grep -q '\.tmp\.'; then
    bad "ulimit -f 2: a temporary file was left: $(ls xf)"
else
    ok "ulimit -f 2 -> 1: $(printf '%s' "$out" | grep -F 'not written' | cut -c 1-120)"
fi

# ---- a resume that fails does not claim the checkpoint on disk is missing -----
run 0 "test accuracy" idx.yaml --out esr
out=$(timeout 10 "$nnrun" --resume esr --set train.epochs=3 2>&1)
st=$?
if [ $st != 1 ] || ! printf '%s' "$out" | grep -qF "esr/checkpoint.nnc was not changed" ||
        printf '%s' "$out" | grep -qF "no checkpoint was written"; then
    bad "--resume with a hash mismatch: exited $st"; echo "$out"
else
    ok "--resume with a hash mismatch -> 1: $(printf '%s' "$out" | tail -1)"
fi

# ---- a data path too long to keep is refused at its key, never cut -----------
# 1038 bytes: '/' padding, the real file, ".DOES-NOT-EXIST" past byte 1023
long=$(python3 -c "import sys; p = sys.argv[1] + '/train-labels'; print('/' * (1023 - len(p)) + p + '.DOES-NOT-EXIST')" "$PWD")
run 2 "--set data.train_labels=" idx.yaml --no-record --set "data.train_labels=$long"
run 2 "error: data: 'train_labels' is a path of 1038 bytes; a data path may have at most 1023" \
    idx.yaml --no-record --set "data.train_labels=$long"
sed "s|train_labels: train-labels|train_labels: '$long'|" idx.yaml > long.yaml
run 2 "long.yaml:2:" long.yaml --no-record
run 2 "error: data: 'test' is a path of 1038 bytes" csv.yaml --no-record \
    --set "data.test=$long"
run 0 "test accuracy" idx.yaml --no-record --set "data.train_labels=${long%.DOES-NOT-EXIST}"

# ---- checks against the data and the memory plan name the --set that caused them
run 2 "--set train.batch_size=100000: error: batch_size 100000 is larger than the 200 training samples" \
    idx.yaml --no-record --set train.batch_size=100000
run 2 "--set data.train_samples=3: error: batch_size 20 is larger than the 3 training samples" \
    idx.yaml --no-record --set data.train_samples=3
run 2 "--set data.validation_split=0.001: error: validation_split 0.001 of 200 training samples" \
    idx.yaml --no-record --set data.validation_split=0.001
run 2 "--set model.input=[5,6,1]: error: model input [5, 6, 1] does not match the images" \
    idx.yaml --no-record --set model.input=[5,6,1]
run 2 "--set model.layers.1.dense.units=100000: error: the model needs" idx.yaml --no-record \
    --set "model.layers=[flatten, {dense: {units: 4}}, {dense: {units: 4, activation: softmax}}]" \
    --set model.layers.1.dense.units=100000 --max-memory 10M
run 2 "--set train.batch_size=100000: error: the benchmark needs" bench idx.yaml \
    --set train.batch_size=100000 --max-memory 1M
# without an override: the file's position (or the file) as before
sed 's/batch_size: 20/batch_size: 300/' idx.yaml > bs.yaml
run 2 "bs.yaml:7:71: error: batch_size 300 is larger than the 200 training samples" bs.yaml --no-record
run 2 "idx.yaml: error: the model needs" idx.yaml --no-record --max-memory 1K

exit $fail
