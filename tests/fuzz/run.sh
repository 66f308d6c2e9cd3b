#!/bin/sh
# run.sh [SECONDS] - builds the libFuzzer targets in build-fuzz/ (clang,
# ASan + UBSan) and fuzzes each one for SECONDS (default 60).
#
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/T and
# tests/fuzz/regress/T) in build-fuzz/fuzz/T/corpus; new inputs go there,
# never into tests/.  That working corpus is kept between runs (FUZZ_FRESH=1
# starts again from the seeds).  Crash, leak, timeout and out-of-memory
# inputs are written to build-fuzz/fuzz/T/artifacts/, the log to
# build-fuzz/fuzz/T/log.
#
# Prints one line per target, e.g. "fuzz_spec: 123456 runs in 60 s, clean",
# writes the same as JSON lines ({"name", "result": "OK" or "FAIL", "runs",
# "seconds"}, the fields .ci/run counts in meson's testlog.json) to
# build-fuzz/fuzz/results.json, and exits 1 if any target failed (0 when
# every one ran clean, 2 when the build failed).
# Environment: FUZZ_TARGETS (default "spec idx checkpoint roundtrip csv"), FUZZ_BUILD (build-fuzz),
# FUZZ_FRESH=1, FUZZ_ARGS (extra libFuzzer flags, e.g. -jobs=2).
set -u
secs=${1:-60}
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2;; esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2
build=${FUZZ_BUILD:-build-fuzz}
targets=${FUZZ_TARGETS:-spec idx checkpoint roundtrip csv}

# ---- configure and build ----------------------------------------------------
if [ -f "$build/build.ninja" ]; then
    meson configure "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized >/dev/null || exit 2
else
    CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized || exit 2
fi
ninja -C "$build" $(for t in $targets; do printf 'tests/fuzz/fuzz_%s ' "$t"; done) || exit 2

# a UBSan report is a crash: stop at the first one, with its stack
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"

max_len_of() {
    case $1 in
        spec|roundtrip) echo 8192;;
        idx) echo 65536;;
        checkpoint) echo 16384;;
        csv) echo 65536;;
        *) echo 65536;;
    esac
}

failed=0
summary=""
mkdir -p "$build/fuzz"
results="$build/fuzz/results.json"
: >"$results"
for t in $targets; do
    exe="$build/tests/fuzz/fuzz_$t"
    work="$build/fuzz/$t"
    [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    # fuzz_roundtrip reads fuzz_spec's input format: it starts from its seeds and dictionary too
    also=""
    [ "$t" = roundtrip ] && also="$here/corpus/spec"
    for seeds in "$here/corpus/$t" $also "$here/regress/$t"; do
        [ -d "$seeds" ] && cp -p "$seeds"/* "$work/corpus/" 2>/dev/null
    done
    dict=""
    [ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
    [ "$t" = roundtrip ] && dict="-dict=$here/spec.dict"
    log="$work/log"
    before=$(ls "$work/artifacts" | wc -l)
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$exe" "$work/corpus" $dict -max_total_time="$secs" -max_len="$(max_len_of "$t")" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    corpus=$(ls "$work/corpus" | wc -l)
    new=$(ls -t "$work/artifacts" | head -n $(( $(ls "$work/artifacts" | wc -l) - before )))
    if [ "$rc" -eq 0 ]; then
        result="clean"
        status=OK
    else
        failed=1
        status=FAIL
        # the first sanitizer or libFuzzer summary, e.g. "AddressSanitizer: heap-buffer-overflow
        # src/x.c:12 in f", "UndefinedBehaviorSanitizer: ...", "libFuzzer: timeout"
        kind=$(sed -n 's/^SUMMARY: //p' "$log" | head -n 1 | cut -c 1-120)
        result="FAILED (exit $rc${kind:+: $kind})${new:+, input: $work/artifacts/$(echo "$new" | head -1)}"
        echo "---- fuzz_$t: last lines of $log ----" >&2
        tail -n 40 "$log" >&2
    fi
    line="fuzz_$t: $runs runs in $took s, $result (corpus $corpus inputs)"
    echo "$line"
    printf '{"name": "fuzz_%s", "result": "%s", "runs": %s, "seconds": %s}\n' \
        "$t" "$status" "$runs" "$took" >>"$results"
    summary="$summary$line
"
done
echo "---- fuzzing summary ----"
printf '%s' "$summary"
exit $failed
