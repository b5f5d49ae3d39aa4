#!/bin/sh
# install.sh install|uninstall - called by `make install` / `make uninstall`
# with the directories in the environment (see the Makefile). Installs the
# CLI, the shared library (real file, SONAME link, linker link), the static
# library, the headers, energylens.pc, the man pages, the shipped data and
# the shell completions and the Python binding under $DESTDIR, and records every file and every
# directory it had to create in $DATADIR/install-manifest (paths without
# DESTDIR: "f PATH" / "d PATH"; "c PATH" is a Python bytecode cache that
# may appear later). uninstall removes exactly those: the files,
# then the directories it created, deepest first, each only if empty.
set -eu
: "${BUILD:?}" "${BINDIR:?}" "${LIBDIR:?}" "${INCLUDEDIR:?}" "${DATADIR:?}" "${MANDIR:?}"
: "${PKGCONFIGDIR:?}" "${BASHCOMPDIR:?}" "${ZSHCOMPDIR:?}" "${SOREAL:?}" "${SONAME:?}"
D=${DESTDIR:-}
MANIFEST=$DATADIR/install-manifest

if [ "${1:-}" = uninstall ]; then
    M=$D$MANIFEST
    [ -f "$M" ] || { echo "uninstall: $M not found: nothing installed under this PREFIX/DESTDIR" >&2; exit 1; }
    # Read everything first: the manifest is itself one of the files.
    dirs=$(sed -n 's/^d //p' "$M" | LC_ALL=C sort -r -u)
    caches=$(sed -n 's/^c //p' "$M")
    sed -n 's/^f //p' "$M" | while IFS= read -r f; do
        rm -f "$D$f" && echo "remove $D$f"
    done
    printf '%s\n' "$caches" | while IFS= read -r f; do
        case "$f" in */energylens/__pycache__) rm -rf "$D$f" && echo "remove $D$f/" ;; esac
    done
    # Children sort after their parents, so reverse order removes them first.
    printf '%s\n' "$dirs" | while IFS= read -r d; do
        [ -n "$d" ] && rmdir "$D$d" 2>/dev/null && echo "remove $D$d/"
    done
    exit 0
fi
[ "${1:-}" = install ] || { echo "usage: install.sh install|uninstall" >&2; exit 1; }

TMPM=$(mktemp)
trap 'rm -f "$TMPM"' EXIT
# Reinstalling over an earlier install keeps the directories it created.
[ -f "$D$MANIFEST" ] && grep '^d ' "$D$MANIFEST" >>"$TMPM" || true
# mkdirs DIR: creates DIR and its missing parents, recording each one made.
mkdirs() {
    _new=""
    _d=$1
    while [ ! -d "$D$_d" ]; do
        _new="$_d
$_new"
        _d=$(dirname "$_d")
    done
    mkdir -p "$D$1"
    printf '%s' "$_new" | while IFS= read -r _x; do [ -n "$_x" ] && echo "d $_x" >>"$TMPM"; done
    return 0
}
# put MODE SRC DST
put() {
    mkdirs "$(dirname "$3")"
    rm -f "$D$3"
    cp "$2" "$D$3"
    chmod "$1" "$D$3"
    echo "f $3" >>"$TMPM"
    echo "install $D$3"
}
# link TARGET NAME (a symbolic link NAME -> TARGET)
link() {
    ln -sfn "$1" "$D$2"
    echo "f $2" >>"$TMPM"
    echo "link $D$2 -> $1"
}

put 755 "$BUILD/energylens" "$BINDIR/energylens"
put 755 "$BUILD/$SOREAL" "$LIBDIR/$SOREAL"
link "$SOREAL" "$LIBDIR/$SONAME"
link "$SONAME" "$LIBDIR/libenergylens.so"
put 644 "$BUILD/libenergylens.a" "$LIBDIR/libenergylens.a"
for h in include/energylens/*.h; do put 644 "$h" "$INCLUDEDIR/energylens/${h##*/}"; done
put 644 "$BUILD/energylens.pc" "$PKGCONFIGDIR/energylens.pc"
for m in docs/*.1; do put 644 "$m" "$MANDIR/man1/${m##*/}"; done
find data -type f | LC_ALL=C sort | while IFS= read -r f; do
    put 644 "$f" "$DATADIR/${f#data/}"
done
put 644 "$BUILD/completion/energylens.bash" "$BASHCOMPDIR/energylens"
put 644 "$BUILD/completion/_energylens" "$ZSHCOMPDIR/_energylens"
if [ -n "${PYTHONDIR:-}" ]; then
    for f in python/energylens/*.py; do put 644 "$f" "$PYTHONDIR/energylens/${f##*/}"; done
    # python3 may write a bytecode cache there once imported: ours to remove.
    echo "c $PYTHONDIR/energylens/__pycache__" >>"$TMPM"
else
    echo "install: no python3, so the Python binding is not installed (set PYTHONDIR)"
fi
echo "f $MANIFEST" >>"$TMPM"
cp "$TMPM" "$D$MANIFEST"
chmod 644 "$D$MANIFEST"
echo "manifest $D$MANIFEST"
