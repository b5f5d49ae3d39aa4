#!/bin/sh
# The install round trip (issue 14): `make install` into a temporary prefix;
# the README's library example compiled with `pkg-config --cflags --libs
# energylens` against it and run; the installed `energylens demo` run from /
# (so nothing resolves against the source tree) with the completions loaded
# into bash; `make uninstall` must leave the prefix empty. Prints one line
# per check and, last, "install-tally PASSED FAILED".
# BUILD selects the build folder (default build).
BUILD=${BUILD:-build}
ROOT=$(pwd)
P=$(mktemp -d)
W=$(mktemp -d)
passed=0
failed=0
check() { # check NAME STATUS
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        printf '%-28s %3s passed, %s failed\n' "install-$1" 1 0
    else
        failed=$((failed + 1))
        printf '%-28s %3s passed, %s failed\n' "install-$1" 0 1
        [ -s "$W/log" ] && sed 's/^/    /' "$W/log" | tail -20
    fi
}

make -s install BUILD="$BUILD" PREFIX="$P" >"$W/log" 2>&1
check make-install $?

# The SONAME and the links (MAJOR from the header, as the Makefile reads it).
MAJOR=$(sed -n 's/^#define EL_VERSION_MAJOR *\([0-9]*\)$/\1/p' include/energylens/core.h)
rc=1
if [ -n "$MAJOR" ] && [ -L "$P/lib/libenergylens.so" ] && [ -L "$P/lib/libenergylens.so.$MAJOR" ] &&
    readelf -d "$P/lib/libenergylens.so" 2>"$W/log" | grep -q "SONAME.*\[libenergylens\.so\.$MAJOR\]"; then
    rc=0
fi
check soname $rc

# The build tree has the same links: a program linked with -Lbuild
# -lenergylens asks the loader for the SONAME, which must exist there.
rc=1
[ -n "$MAJOR" ] && [ -L "$BUILD/libenergylens.so.$MAJOR" ] && [ -e "$BUILD/libenergylens.so.$MAJOR" ] && rc=0
[ "$rc" -eq 0 ] || echo "$BUILD/libenergylens.so.$MAJOR: missing after make" >"$W/log"
check build-tree-soname $rc

# The README's example, extracted verbatim, built with pkg-config.
awk '/^```c$/{on=1; next} /^```$/{on=0} on' README.md >"$W/example.c"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
rc=1
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Werror "$W/example.c" $(pkg-config --cflags --libs energylens) \
    -o "$W/example" >"$W/log" 2>&1; then
    cp data/mlenergy_v3/mlenergy_v3_llm_mllm.csv "$W/measurements.csv"
    (cd "$W" && LD_LIBRARY_PATH="$P/lib" ./example) >"$W/log" 2>&1 &&
        grep -q 'wrote model.json' "$W/log" && [ -s "$W/model.json" ] && rc=0
fi
check readme-example $rc

# Static linking through pkg-config --static.
rc=1
# shellcheck disable=SC2046
if cc -std=c11 "$W/example.c" $(pkg-config --static --cflags energylens) -o "$W/example-static" \
    "$P/lib/libenergylens.a" $(pkg-config --static --libs-only-l energylens | sed 's/-lenergylens//') \
    >"$W/log" 2>&1; then
    ! ldd "$W/example-static" | grep -q libenergylens && rc=0
fi
check static-link $rc

# The installed CLI, from /, with no build tree to fall back on.
(cd / && "$P/bin/energylens" demo -o "$W/demo") >"$W/log" 2>&1 &&
    grep -q "^data: $P/share/energylens/" "$W/log" && [ -s "$W/demo/report.html" ]
check demo-from-root $?

# The data directory can be moved and named by the environment.
mkdir -p "$W/moved" && cp -r "$P/share/energylens/mlenergy_v3" "$W/moved/" &&
    (cd / && ENERGYLENS_DATADIR="$W/moved" "$P/bin/energylens" demo) >"$W/log" 2>&1 &&
    grep -q "^data: $W/moved/" "$W/log"
check datadir-env $?

# The bash completion that was installed completes commands and options.
rc=1
if command -v bash >/dev/null 2>&1; then
    out=$(bash -c ". '$P/share/bash-completion/completions/energylens'
        COMP_WORDS=(energylens se); COMP_CWORD=1; _energylens; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(energylens fit --meth); COMP_CWORD=2; _energylens; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(energylens fit --method g); COMP_CWORD=3; _energylens; echo \"\${COMPREPLY[*]}\"" 2>"$W/log")
    [ "$out" = "select
--method
gbdt" ] && rc=0 || echo "bash completion gave: $out" >>"$W/log"
fi
check bash-completion $rc
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$P/share/zsh/site-functions/_energylens" >"$W/log" 2>&1
    check zsh-completion-syntax $?
fi

# The Python binding as installed finds the installed library by itself,
# and its test suite passes against it.
PYDIR=$(sed -n 's|^f \(.*\)/energylens/__init__.py$|\1|p' "$P/share/energylens/install-manifest")
if [ -n "$PYDIR" ]; then
    # Bytecode caches are written (as on any machine), and uninstall must
    # remove them.
    (cd / && env -u ENERGYLENS_LIBRARY -u PYTHONDONTWRITEBYTECODE PYTHONPATH="$PYDIR" python3 -c "
import energylens as el
assert el.library_path().startswith('$P/lib/'), el.library_path()
m = el.Model.from_template('energylens12')
print(el.version(), len(m.params))") >"$W/log" 2>&1 && grep -q '^[0-9.]* 12$' "$W/log" &&
        [ -d "$PYDIR/energylens/__pycache__" ]
    check python-installed $?
    env -u ENERGYLENS_LIBRARY -u PYTHONDONTWRITEBYTECODE QUIET=1 ENERGYLENS_PYTHONPATH="$PYDIR" python3 python/tests/run.py \
        >"$W/log" 2>&1
    check python-tests-installed $?
fi

# The man page renders (where man is installed).
if command -v man >/dev/null 2>&1; then
    man -l "$P/share/man/man1/energylens.1" 2>"$W/log" | grep -q 'SYNOPSIS'
    check man-page $?
fi

make -s uninstall BUILD="$BUILD" PREFIX="$P" >"$W/log" 2>&1
rc=$?
left=$(cd "$P" && find . -mindepth 1 | head -5)
[ -n "$left" ] && { rc=1; echo "left after uninstall: $left" >"$W/log"; }
check uninstall-empty $rc

cd "$ROOT" || exit 1
rm -rf "$P" "$W"
printf '%-28s %3s passed, %s failed\n' "install round trip" "$passed" "$failed"
echo "install-tally $passed $failed"
[ "$failed" -eq 0 ]
