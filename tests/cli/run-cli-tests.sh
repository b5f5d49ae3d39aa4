#!/bin/sh
# Golden CLI cases (jq/curl style): each tests/cli/cases/*.case holds
#   cmd: ARGS            arguments of build/energylens (sh syntax; $TMP is a scratch dir)
#   exit: N              expected exit code
#   stdout: TEXT         a line that must appear in stdout (substring); repeatable
#   stderr: TEXT         same for stderr
#   file: PATH           a file that must exist afterwards ($TMP allowed)
#   nofile: PATH         a file that must not exist (no partial outputs)
# Lines starting with # are comments. Prints one line per case and, last,
# "cli-tally PASSED FAILED".
BUILD=${BUILD:-build}
EL="$BUILD/energylens"
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
