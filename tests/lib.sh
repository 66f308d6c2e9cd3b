# lib.sh - sourced by the shell tests.
#
# need_data NNRUN SRCDIR: returns when nnrun finds Fashion-MNIST; otherwise
# exits 77 (skip), or 1 when NNRUN_REQUIRE_DATA=1 (CI).  The probe is a tiny
# training run, so the check follows nnrun's own search path (NNRUN_DATA,
# data/, /usr/share/datasets) rather than a copy of it.
need_data() {
    _probe=$(mktemp)
    if "$1" "$2/models/dense.yaml" --no-record --quiet --set data.train_samples=100 \
            --set data.test_samples=100 --set train.epochs=1 > "$_probe" 2>&1; then
        rm -f "$_probe"
        return 0
    fi
    if grep -q "Fashion-MNIST not found" "$_probe"; then
        rm -f "$_probe"
        [ "${NNRUN_REQUIRE_DATA:-0}" = 1 ] && { echo "FAIL: the data set is missing"; exit 1; }
        echo "SKIP: Fashion-MNIST is not installed"
        exit 77
    fi
    cat "$_probe"
    rm -f "$_probe"
    echo "FAIL: a tiny training run"
    exit 1
}
