#!/bin/sh
# clang-tidy over the library (src/*/*.c), the CLI (tools/energylens/*.c) and
# the public headers, with the checks in .clang-tidy and the flags the build
# uses. Fails on any finding (.clang-tidy sets WarningsAsErrors). `make tidy`
# runs it; TIDY_JOBS files are checked in parallel (default 2, CI's cores).
#
#   TIDY_JOBS=2 CLANG_TIDY=clang-tidy-14 TIDY_CPPFLAGS='...' sh scripts/run-tidy.sh [files...]
set -eu
cd "$(dirname "$0")/.."

TIDY=${CLANG_TIDY:-}
if [ -z "$TIDY" ]; then
    for t in clang-tidy-14 clang-tidy; do
        command -v "$t" >/dev/null 2>&1 && { TIDY=$t; break; }
    done
fi
[ -n "$TIDY" ] || { echo "run-tidy: clang-tidy not found (sh scripts/install-deps.sh)" >&2; exit 2; }
JOBS=${TIDY_JOBS:-2}
# The Makefile passes its CPPFLAGS; the default is the same list.
CPPF=${TIDY_CPPFLAGS:--Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE}

if [ $# -gt 0 ]; then
    FILES="$*"
else
    FILES="$(ls src/*/*.c tools/energylens/*.c include/energylens/*.h)"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT INT TERM

# One file per clang-tidy run, JOBS at a time; each run's output goes to its
# own log so parallel runs do not interleave. Findings in our own headers
# (src/, tools/, include/) are reported from whichever file includes them.
# Headers are checked as C (-x c), like every file that includes them.
export TIDY CPPF OUT
# shellcheck disable=SC2086
printf '%s\n' $FILES | xargs -P "$JOBS" -I{} sh -c '
    f={}
    log="$OUT/$(printf %s "$f" | tr / _).log"
    # shellcheck disable=SC2086
    if ! "$TIDY" --quiet --header-filter="^(src|tools|include)/" "$f" -- \
        -x c -std=c11 $CPPF -pthread >"$log" 2>&1; then
        echo "$f" >"$log.failed"
    fi
'

status=0
for log in "$OUT"/*.log; do
    if [ -e "$log.failed" ] || grep -q "warning:\|error:" "$log"; then
        status=1
        # Drop clang-tidy's "N warnings generated" chatter; keep findings.
        grep -v "warnings\? generated\.$\|^Suppressed \|^Use -header-filter\|^Error while processing" "$log" || true
    fi
done
if [ $status -ne 0 ]; then
    echo "run-tidy: findings above (config: .clang-tidy)" >&2
else
    echo "run-tidy: clean ($(printf '%s\n' $FILES | wc -l) files)"
fi
exit $status
