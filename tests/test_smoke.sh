#!/bin/sh
# test_smoke.sh NNRUN SRCDIR - `--smoke` exits as the full run would where
# the two could part: a --force record locked by another process (both fail)
# and a $TMPDIR that does not exist (both succeed: the smoke test falls back
# to /tmp, then to a hidden directory beside --out); nothing is left behind.
set -u
nnrun=$(realpath "$1")
tmp=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# same STATUS PATTERN ARGS...: nnrun ARGS --smoke and nnrun ARGS both exit
# STATUS, and the smoke test's output holds PATTERN
same() {
    want=$1 pattern=$2
    shift 2
    out=$(timeout 20 "$nnrun" "$@" --smoke 2>&1); st_smoke=$?
    full=$(timeout 20 "$nnrun" "$@" 2>&1); st_full=$?
    if [ "$st_smoke" != "$want" ] || [ "$st_full" != "$want" ]; then
        bad "nnrun $*: --smoke exited $st_smoke, the full run $st_full, expected $want"
        echo "$out"; echo "$full"
    elif ! printf '%s' "$out" | grep -qF -- "$pattern"; then
        bad "nnrun $* --smoke: output lacks '$pattern'"; echo "$out"
    else
        ok "nnrun $* [--smoke] -> $want"
    fi
}

python3 - <<'PY' || exit 1
import random, struct
def idx(name, dims, data):
    open(name, "wb").write(struct.pack(">BBBB" + "I" * len(dims), 0, 0, 8, len(dims), *dims) + bytes(data))
for part, n, seed in (("train", 200, 1), ("test", 60, 2)):
    r = random.Random(seed)
    idx(part + "-images", (n, 6, 6), [r.randrange(256) for _ in range(n * 36)])
    idx(part + "-labels", (n,), [r.randrange(4) for _ in range(n)])
PY
cat > s.yaml <<'YAML'
name: smoke
data: {train_images: train-images, train_labels: train-labels, test_images: test-images,
       test_labels: test-labels, classes: 4}
model:
  input: [6, 6, 1]
  layers: [flatten, {dense: {units: 4, activation: softmax}}]
train: {loss: sparse_categorical_crossentropy, epochs: 1, batch_size: 20}
YAML

# (a) --force on a record another process holds (flock, as nnrun's own lock)
"$nnrun" s.yaml --out lk --quiet > /dev/null || bad "the first run of lk"
python3 -c "
import fcntl, os, time
fd = os.open('lk', os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
open('held', 'w').close()
time.sleep(60)" &
holder=$!
for i in $(seq 50); do [ -e held ] && break; sleep 0.1; done   # until the lock is held
[ -e held ] || bad "the lock holder did not start"
rm -f held
same 1 "lk: in use by another nnrun process" s.yaml --out lk --force
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=
same 0 "smoke test passed" s.yaml --out lk --force

# (b) a $TMPDIR that does not exist fails neither
export TMPDIR=/nonexistent
same 0 "smoke test passed" s.yaml --out tm
same 0 "smoke test passed" s.yaml --no-record
# and /tmp read-only too (in a mount namespace of its own, where one can be
# made): the temporary record goes beside --out
case $nnrun in /tmp/*) can_mount=false ;; *) can_mount=true ;; esac   # it would be hidden
if $can_mount && unshare -m sh -c 'mount -t tmpfs -o ro tmpfs /tmp' 2>/dev/null; then
    out=$(unshare -m sh -c 'mount -t tmpfs -o ro tmpfs /tmp && exec "$0" s.yaml --out deep/x --smoke' "$nnrun" 2>&1)
    st=$?
    if [ $st = 0 ] && printf '%s' "$out" | grep -qF "the record goes to ./.nnrun-smoke-"; then
        ok "no \$TMPDIR, /tmp read-only: --smoke -> 0 beside --out"
    else
        bad "no \$TMPDIR, /tmp read-only: --smoke exited $st"; echo "$out"
    fi
else
    echo "note: no mount namespace here; the read-only /tmp case is skipped"
fi
unset TMPDIR
if ls -a | grep -q smoke; then bad "a smoke directory was left: $(ls -a)"; else ok "nothing left behind"; fi
exit $fail
