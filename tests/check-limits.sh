#!/bin/sh
# check-limits.sh - the man page's table of limits (docs/energylens.1,
# LIMITS, "All limits") against the source: for each row the constant's
# #define is taken from the file the row names, evaluated by the C compiler
# and compared with the documented value (an integer, or N MiB), so the
# documentation and the code cannot drift. Ends with "limits-tally P F".
# usage: sh tests/check-limits.sh   (from the repository root; CC optional)
CC=${CC:-cc}
man=docs/energylens.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
rows=$(sed -n '/^\.\\" limits-table-begin/,/^\.\\" limits-table-end/p' "$man" | grep '|')
if [ -z "$rows" ]; then
    echo "check-limits: no limits table in $man"
    echo "limits-tally 0 1"
    exit 1
fi
{
    echo '#include <stdio.h>'
    echo '#include <stddef.h>'
    echo 'int main(void) {'
} >"$tmp/c.c"
failed=0
printf '%s\n' "$rows" >"$tmp/rows"
while IFS='|' read -r what value name file raise; do
    name=$(echo "$name" | tr -d ' ')
    file=$(echo "$file" | tr -d ' ')
    expr=$(sed -n "s/^#[[:space:]]*define[[:space:]]\{1,\}$name[[:space:]]\{1,\}\(.*\)/\1/p" "$file" 2>/dev/null |
        sed 's|/\*.*||' | head -n 1)
    if [ -z "$expr" ]; then
        echo "check-limits: $name: no #define in $file"
        failed=$((failed + 1))
        continue
    fi
    printf '    printf("%s %%llu\\n", (unsigned long long)(%s));\n' "$name" "$expr" >>"$tmp/c.c"
done <"$tmp/rows"
echo '    return 0; }' >>"$tmp/c.c"
if ! $CC -o "$tmp/c" "$tmp/c.c" 2>"$tmp/cc.log"; then
    cat "$tmp/cc.log"
    echo "limits-tally 0 1"
    exit 1
fi
"$tmp/c" >"$tmp/actual"
passed=0
while IFS='|' read -r what value name file raise; do
    name=$(echo "$name" | tr -d ' ')
    value=$(echo "$value" | sed 's/^ *//; s/ *$//')
    case "$value" in
    *MiB) want=$((${value% MiB} * 1048576)) ;;
    *) want=$value ;;
    esac
    got=$(sed -n "s/^$name //p" "$tmp/actual")
    [ -n "$got" ] || continue # reported above
    if [ "$got" = "$want" ]; then
        passed=$((passed + 1))
    else
        echo "check-limits: $(echo "$what" | sed 's/ *$//'): the man page says $value ($want), $name is $got"
        failed=$((failed + 1))
    fi
done <"$tmp/rows"
printf '%-28s %3s passed, %s failed\n' "limits (man page vs code)" "$passed" "$failed"
echo "limits-tally $passed $failed"
[ "$failed" -eq 0 ]
