#!/bin/sh
# Adversarial suite: hostile inputs against every command and parser, each
# run under a time and memory limit so that a hang or a blow-up fails its
# case instead of stalling CI. Each tests/adversarial/cases/*.case holds
#   cmd: SH               a shell command line; $EL is the CLI, $TMP a fresh
#                         scratch dir, $ADV tests/adversarial/data, $BUILD the
#                         build folder. Runs with the repository root as cwd.
#   setup: SH             run first (repeatable); a failing setup fails the case
#   skip-unless: SH       the case is skipped (not counted) unless SH succeeds,
#                         e.g. "[ $(id -u) = 0 ]" for a private device node
#   exit: N               expected exit status of cmd (124 = timed out: never
#                         expect it, it is how a hang shows)
#   stdout: TEXT          a line of stdout must contain TEXT; repeatable
#   stderr: TEXT          same for stderr
#   nostdout: TEXT        no line of stdout may contain TEXT (also nostderr:)
#   file: PATH            must exist and be non-empty afterwards
#   nofile: PATH          must not exist afterwards (no partial outputs)
#   check: SH             run after cmd; must succeed (repeatable)
#   timeout: S            wall-clock limit in seconds (default 20)
#   mem: MB               address-space limit in MiB (default 2048; not
#                         applied to sanitizer builds, whose shadow memory
#                         needs far more address space than they use)
# Every case must also exit with a code from the README's exit-code table
# (0-5); any other status (a signal, 124 from timeout) fails it whatever
# `exit:` says. Lines starting with # are comments. Prints one line per
# failing or skipped case and, last, "adv-tally PASSED FAILED".
BUILD=${BUILD:-build}
EL="$PWD/$BUILD/energylens"
ADV="$PWD/tests/adversarial/data"
export EL ADV BUILD
passed=0
failed=0
skipped=0
sanitized=0
case "$BUILD" in *san*) sanitized=1 ;; esac
for case in tests/adversarial/cases/*.case; do
    [ -f "$case" ] || continue
    name=$(basename "$case" .case)
    TMP=$(mktemp -d)
    export TMP
    ok=1
    why=""
    cond=$(sed -n 's/^skip-unless: //p' "$case")
    if [ -n "$cond" ] && ! sh -c "$cond" >/dev/null 2>&1; then
        skipped=$((skipped + 1))
        echo "SKIP adversarial/$name: needs $cond"
        rm -rf "$TMP"
        continue
    fi
    while IFS= read -r line; do
        case "$line" in
        "setup: "*)
            sh -c "${line#setup: }" >/dev/null 2>"$TMP/.setup" ||
                { ok=0; why="$why; setup failed: ${line#setup: }: $(head -c 200 "$TMP/.setup")"; }
            ;;
        esac
    done <"$case"
    cmd=$(sed -n 's/^cmd: //p' "$case")
    want_exit=$(sed -n 's/^exit: //p' "$case")
    limit=$(sed -n 's/^timeout: //p' "$case")
    limit=${limit:-20}
    mem=$(sed -n 's/^mem: //p' "$case")
    mem=${mem:-2048}
    if [ "$sanitized" = 1 ]; then
        limit=$((limit * 4))
        ulimit_cmd=":"
    else
        ulimit_cmd="ulimit -v $((mem * 1024))"
    fi
    start=$(date +%s)
    timeout -k 5 "$limit" sh -c "$ulimit_cmd; $cmd" >"$TMP/.out" 2>"$TMP/.err" </dev/null
    rc=$?
    took=$(($(date +%s) - start))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        ok=0
        why="$why; timed out after ${limit}s (or killed)"
    elif [ "$rc" -gt 5 ]; then
        ok=0
        why="$why; exit $rc is outside the README's table (0-5)"
    fi
    if [ "$rc" != "$want_exit" ]; then
        ok=0
        why="$why; exit $rc, expected $want_exit"
    fi
    while IFS= read -r line; do
        case "$line" in
        "stdout: "*)
            want=${line#stdout: }
            grep -qF -- "$want" "$TMP/.out" || { ok=0; why="$why; stdout lacks: $want"; } ;;
        "stderr: "*)
            want=${line#stderr: }
            grep -qF -- "$want" "$TMP/.err" || { ok=0; why="$why; stderr lacks: $want"; } ;;
        "nostdout: "*)
            want=${line#nostdout: }
            grep -qF -- "$want" "$TMP/.out" && { ok=0; why="$why; stdout has: $want"; } ;;
        "nostderr: "*)
            want=${line#nostderr: }
            grep -qF -- "$want" "$TMP/.err" && { ok=0; why="$why; stderr has: $want"; } ;;
        "file: "*)
            f=$(eval "printf '%s' \"${line#file: }\"")
            [ -s "$f" ] || { ok=0; why="$why; missing file $f"; } ;;
        "nofile: "*)
            f=$(eval "printf '%s' \"${line#nofile: }\"")
            [ -e "$f" ] && { ok=0; why="$why; unexpected file $f"; } ;;
        "check: "*)
            sh -c "${line#check: }" >/dev/null 2>&1 || { ok=0; why="$why; check failed: ${line#check: }"; } ;;
        esac
    done <"$case"
    if [ "$ok" = 1 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL adversarial/$name (${took}s):$why"
        echo "  stdout:"; head -c 2000 "$TMP/.out" | sed 's/^/    /' | head -20
        echo "  stderr:"; head -c 2000 "$TMP/.err" | sed 's/^/    /' | head -20
    fi
    chmod -R u+w "$TMP" 2>/dev/null
    rm -rf "$TMP"
done
printf '%-28s %3s passed, %s failed, %s skipped\n' "adversarial cases" "$passed" "$failed" "$skipped"
echo "adv-tally $passed $failed"
