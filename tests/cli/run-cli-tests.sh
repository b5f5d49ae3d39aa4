#!/bin/sh
# Golden CLI cases (jq/curl style): each tests/cli/cases/*.case holds
#   cmd: ARGS            arguments of build/energylens (sh syntax; $TMP is a scratch dir)
#   exit: N              expected exit code
#   stdout: TEXT         a line that must appear in stdout (substring); repeatable
#   stderr: TEXT         same for stderr
#   file: PATH           a file that must exist afterwards ($TMP allowed)
#   nofile: PATH         a file that must not exist (no partial outputs)
#   stdout-golden: NAME  the whole stdout must equal tests/cli/golden/NAME
#   stderr-golden: NAME  the whole stderr must equal tests/cli/golden/NAME
# In golden comparisons the scratch directory's path reads as $TMP. Use them
# where the output is deterministic (no timings, no absolute paths).
# Regenerate the golden files after a deliberate output change with
#   UPDATE_GOLDEN=1 sh tests/cli/run-cli-tests.sh
# and review the diff (git diff tests/cli/golden) before committing it.
# Lines starting with # are comments. Prints one line per case and, last,
# "cli-tally PASSED FAILED".
BUILD=${BUILD:-build}
EL="$BUILD/energylens"
GOLDEN=tests/cli/golden

# golden NAME FILE: compares FILE ($TMP replaced) with the golden file NAME,
# or rewrites the golden file when UPDATE_GOLDEN=1. Returns 1 on a mismatch.
golden() {
    sed "s#$TMP#\$TMP#g" "$2" >"$2.golden"
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        mkdir -p "$GOLDEN"
        cp "$2.golden" "$GOLDEN/$1"
        return 0
    fi
    if ! cmp -s "$2.golden" "$GOLDEN/$1"; then
        echo "  diff $GOLDEN/$1 (expected) against the output:"
        diff -u "$GOLDEN/$1" "$2.golden" | head -40 | sed 's/^/    /'
        return 1
    fi
}
passed=0
failed=0
for case in tests/cli/cases/*.case; do
    name=$(basename "$case" .case)
    TMP=$(mktemp -d)
    export TMP
    args=$(sed -n 's/^cmd: //p' "$case")
    want_exit=$(sed -n 's/^exit: //p' "$case")
    eval "\"$EL\" $args" >"$TMP/.out" 2>"$TMP/.err"
    rc=$?
    ok=1
    why=""
    if [ "$rc" != "$want_exit" ]; then
        ok=0
        why="exit $rc, expected $want_exit"
    fi
    while IFS= read -r line; do
        case "$line" in
        "stdout: "*)
            want=${line#stdout: }
            grep -qF -- "$want" "$TMP/.out" || { ok=0; why="$why; stdout lacks: $want"; }
            ;;
        "stderr: "*)
            want=${line#stderr: }
            grep -qF -- "$want" "$TMP/.err" || { ok=0; why="$why; stderr lacks: $want"; }
            ;;
        "file: "*)
            f=$(eval "printf '%s' \"${line#file: }\"")
            [ -s "$f" ] || { ok=0; why="$why; missing file $f"; }
            ;;
        "stdout-golden: "*)
            golden "${line#stdout-golden: }" "$TMP/.out" ||
                { ok=0; why="$why; stdout differs from golden ${line#stdout-golden: } (regenerate: UPDATE_GOLDEN=1 sh tests/cli/run-cli-tests.sh)"; }
            ;;
        "stderr-golden: "*)
            golden "${line#stderr-golden: }" "$TMP/.err" ||
                { ok=0; why="$why; stderr differs from golden ${line#stderr-golden: } (regenerate: UPDATE_GOLDEN=1 sh tests/cli/run-cli-tests.sh)"; }
            ;;
        "nofile: "*)
            f=$(eval "printf '%s' \"${line#nofile: }\"")
            [ -e "$f" ] && { ok=0; why="$why; unexpected file $f"; }
            ;;
        esac
    done <"$case"
    if [ "$ok" = 1 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL cli/$name:$why"
        echo "  stdout:"; sed 's/^/    /' "$TMP/.out" | head -20
        echo "  stderr:"; sed 's/^/    /' "$TMP/.err" | head -20
    fi
    rm -rf "$TMP"
done
printf '%-28s %3s passed, %s failed\n' "cli golden cases" "$passed" "$failed"
echo "cli-tally $passed $failed"
[ "$failed" -eq 0 ]
