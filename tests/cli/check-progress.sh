#!/bin/sh
# fit's progress line: on stderr with --progress (the default on a terminal
# only), absent with --no-progress, -q or a non-terminal stderr, and never on
# stdout: stdout is the same with and without it (the fit's own wall time in
# the summary line masked). Prints "progress-tally PASSED FAILED" last.
BUILD=${BUILD:-build}
E="$BUILD/energylens"
D=tests/cli/data/small.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'progress: %s ok\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'progress: %s FAILED\n' "$1"; }
mask() { sed 's/evaluations, [0-9.]* s;/evaluations, T s;/' "$1"; }
run() { # name, then the fit options
    n=$1
    shift
    "$E" fit "$D" "$@" >"$tmp/$n.out" 2>"$tmp/$n.err"
    echo $? >"$tmp/$n.rc"
}
run plain
run on --progress
run off --progress --no-progress
run quiet --progress -q
run json --progress --format json
run jsonplain --format json
for n in plain on off quiet json jsonplain; do
    [ "$(cat "$tmp/$n.rc")" = 0 ] && ok "$n exit 0" || bad "$n exit 0"
done
# stderr is not a terminal here: no progress unless asked for.
[ ! -s "$tmp/plain.err" ] && ok "none by default off a terminal" || bad "none by default off a terminal"
tr '\r' '\n' <"$tmp/on.err" | grep -q '^fit: start \([0-9]*\)/\1 ' && ok "--progress on stderr" || bad "--progress on stderr"
grep -q 'fit: start' "$tmp/on.out" "$tmp/json.out" && bad "never on stdout" || ok "never on stdout"
[ "$(mask "$tmp/plain.out")" = "$(mask "$tmp/on.out")" ] && ok "stdout unchanged" || bad "stdout unchanged"
grep -q '"energylens_model"\|"params"' "$tmp/json.out" && grep -q 'fit: start' "$tmp/json.err" &&
    ok "json stdout with progress" || bad "json stdout with progress"
[ ! -s "$tmp/off.err" ] && ok "--no-progress wins" || bad "--no-progress wins"
[ ! -s "$tmp/quiet.err" ] && [ ! -s "$tmp/quiet.out" ] && ok "-q silences it" || bad "-q silences it"
echo "progress-tally $pass $fail"
[ "$fail" -eq 0 ]
