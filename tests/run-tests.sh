#!/bin/sh
# Runs every unit-test binary (cmocka), fuzz-corpus replay, CLI golden case
# and adversarial case, then prints
# the tally as its last line: "N passed, N failed".
# BUILD selects the build folder (default build). Exit status 1 if any failed.
BUILD=${BUILD:-build}
passed=0
failed=0
bad_bins=""
log=$(mktemp)
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed or exited before its summary
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        bad_bins="$bad_bins $(basename "$t")"
        cat "$log"
    fi
    printf '%-28s %3s passed, %s failed\n' "$(basename "$t")" "$p" "$f"
done
for r in "$BUILD"/fuzz/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    if "$r" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf '%-28s %3s passed, %s failed\n' "fuzz-replay-$name" 1 0
    else
        failed=$((failed + 1))
        bad_bins="$bad_bins fuzz-replay-$name"
        cat "$log"
    fi
done
rm -f "$log"
if [ -f tests/cli/run-cli-tests.sh ]; then
    out=$(BUILD="$BUILD" sh tests/cli/run-cli-tests.sh)
    rc=$?
    printf '%s\n' "$out" | grep -v '^cli-tally' 
    p=$(printf '%s\n' "$out" | sed -n 's/^cli-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^cli-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    p=${p:-0}
    f=${f:-1}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && bad_bins="$bad_bins cli"
fi
# fit's progress line: stderr only, on request or on a terminal.
if [ -f tests/cli/check-progress.sh ]; then
    out=$(BUILD="$BUILD" sh tests/cli/check-progress.sh)
    printf '%s\n' "$out" | grep -v '^progress-tally' | grep -v ' ok$'
    p=$(printf '%s\n' "$out" | sed -n 's/^progress-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^progress-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-1}))
    [ "${f:-1}" -ne 0 ] && bad_bins="$bad_bins progress"
    printf '%-28s %3s passed, %s failed\n' "fit-progress" "${p:-0}" "${f:-1}"
fi
# Hostile inputs under time and memory limits (tests/adversarial/).
if [ -f tests/adversarial/run-adversarial.sh ]; then
    out=$(BUILD="$BUILD" sh tests/adversarial/run-adversarial.sh)
    rc=$?
    printf '%s\n' "$out" | grep -v '^adv-tally'
    p=$(printf '%s\n' "$out" | sed -n 's/^adv-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^adv-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    p=${p:-0}
    f=${f:-1}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && bad_bins="$bad_bins adversarial"
fi
# The man page's table of limits against the constants in the code.
if [ -f tests/check-limits.sh ]; then
    out=$(sh tests/check-limits.sh)
    printf '%s\n' "$out" | grep -v '^limits-tally'
    p=$(printf '%s\n' "$out" | sed -n 's/^limits-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^limits-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-1}))
    [ "${f:-1}" -ne 0 ] && bad_bins="$bad_bins limits"
fi
# The Python binding (python/energylens) with unittest, on this build's
# shared library. Not under the sanitizers (ctypes would load an
# instrumented library into an uninstrumented python3).
if [ -f python/tests/run.py ] && [ "$BUILD" = build ]; then
    if command -v "${PYTHON:-python3}" >/dev/null 2>&1; then
        out=$(QUIET=1 ENERGYLENS_LIBRARY="$PWD/$BUILD/libenergylens.so" "${PYTHON:-python3}" python/tests/run.py 2>&1)
        rc=$?
    else
        out="python3 not found (sh scripts/install-deps.sh installs it)"
        rc=1
    fi
    printf '%s\n' "$out" | grep -v '^python-tally'
    p=$(printf '%s\n' "$out" | sed -n 's/^python-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^python-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    p=${p:-0}
    f=${f:-1}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    printf '%-28s %3s passed, %s failed\n' "python binding" "$p" "$f"
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && bad_bins="$bad_bins python"
fi
# make install into a temporary prefix, pkg-config, the installed CLI, make
# uninstall (tests/install/). Not under the sanitizers: the installed
# programs would need their runtime.
if [ -f tests/install/run-install-test.sh ] && [ "$BUILD" = build ]; then
    out=$(BUILD="$BUILD" sh tests/install/run-install-test.sh)
    rc=$?
    printf '%s\n' "$out" | grep -v '^install-tally'
    p=$(printf '%s\n' "$out" | sed -n 's/^install-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^install-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    p=${p:-0}
    f=${f:-1}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && bad_bins="$bad_bins install"
fi
# The report rendered in headless Chromium (skips itself without chromium).
if [ -f tests/report/run-report-test.sh ]; then
    out=$(BUILD="$BUILD" sh tests/report/run-report-test.sh)
    rc=$?
    printf '%s\n' "$out" | grep -v '^report-tally'
    p=$(printf '%s\n' "$out" | sed -n 's/^report-tally \([0-9]*\) \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^report-tally \([0-9]*\) \([0-9]*\)$/\2/p')
    p=${p:-0}
    f=${f:-1}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && bad_bins="$bad_bins report"
fi
[ -n "$bad_bins" ] && echo "failing:$bad_bins"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
