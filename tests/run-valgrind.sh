#!/bin/sh
# run-valgrind.sh - every unit-test binary under valgrind's memcheck: any
# memory error (invalid read or write, use of uninitialised values, bad
# free) or any definite or indirect leak fails the binary. Run on the plain
# build (make tests), not the sanitizer one. Children forked by the tests
# (the profiler's server and meter commands) are not checked: between fork
# and exec they hold a copy of the parent's heap, which is no leak of
# theirs, and their exit status must stay theirs. No suppressions. Prints one line per binary and
# ends with the tally "N passed, N failed" (exit status 1 if any failed).
#
# usage: sh tests/run-valgrind.sh [BINARY...]   (default: $BUILD/tests/test_*)
# environment: BUILD (default build), VALGRIND_OPTS (extra options)
BUILD=${BUILD:-build}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "run-valgrind.sh: valgrind not installed (apt-get install valgrind)" >&2
    exit 2
fi
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
[ $# -gt 0 ] || set -- "$BUILD"/tests/test_*
for t in "$@"; do
    [ -x "$t" ] || continue
    # shellcheck disable=SC2086
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --track-origins=yes --child-silent-after-fork=yes --quiet $VALGRIND_OPTS \
        "$t" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        printf '%-28s ok\n' "$(basename "$t")"
    else
        failed=$((failed + 1))
        cat "$log"
        printf '%-28s FAILED (exit %s)\n' "$(basename "$t")" "$rc"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
