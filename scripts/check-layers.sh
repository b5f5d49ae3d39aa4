#!/bin/sh
# check-layers.sh - fails when a source folder under src/ reaches up the
# layer order (docs/DESIGN.md section 9):
#
#   core -> expr -> data -> model -> fit | ml | sr -> method -> eval
#        -> report | prof          (and the CLI, tools/energylens, on top)
#
# A folder may use its own files and any folder of a lower layer; folders of
# the same layer (fit, ml and sr; report and prof) do not use each other.
#
# Two checks:
#   1. every `#include "..."` line of src/*/*.c, *.h and *.S (always);
#   2. with --objects DIR (DIR = a build folder, e.g. build), every el_ and
#      eli_ symbol that an object file of DIR/obj/src/ uses and another
#      folder defines: this catches calls through the public header, which
#      the include check cannot see.
#
# usage: sh scripts/check-layers.sh [--objects build]
# exit status: 0 clean, 1 a violation (each printed), 2 usage or setup.
set -eu
cd "$(dirname "$0")/.."

# The order, lowest first; folders on one line share a layer.
LAYERS='core
expr
data
model
fit ml sr
method
eval
report prof'

rank_of() { # folder -> layer number, or empty when the folder is unknown
    printf '%s\n' "$LAYERS" | awk -v f="$1" '{ for (i = 1; i <= NF; i++) if ($i == f) print NR }'
}

objdir=
case "${1:-}" in
"") ;;
--objects)
    [ $# -eq 2 ] || { echo "usage: $0 [--objects BUILD_DIR]" >&2; exit 2; }
    objdir=$2/obj/src
    [ -d "$objdir" ] || { echo "check-layers: $objdir not found (build first: make lib)" >&2; exit 2; }
    ;;
*) echo "usage: $0 [--objects BUILD_DIR]" >&2; exit 2 ;;
esac

bad=0
allowed() { # from-folder to-folder -> 0 when the dependency runs down the order
    [ "$1" = "$2" ] && return 0
    rf=$(rank_of "$1")
    rt=$(rank_of "$2")
    [ -n "$rf" ] && [ -n "$rt" ] && [ "$rt" -lt "$rf" ]
}

for d in src/*/; do
    d=${d%/}
    f=${d#src/}
    if [ -z "$(rank_of "$f")" ]; then
        echo "check-layers: src/$f is not in the layer order (add it to scripts/check-layers.sh and docs/DESIGN.md section 9)" >&2
        bad=1
    fi
done

# 1. includes. A quoted include resolves against the including file's folder.
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
for file in src/*/*.c src/*/*.h src/*/*.S; do
    [ -f "$file" ] || continue
    from=$(basename "$(dirname "$file")")
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | while IFS= read -r line; do
        inc=$(printf '%s\n' "$line" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
        case "$inc" in
        energylens/*) continue ;; # the public header: below everything
        ../*/*) to=$(printf '%s\n' "$inc" | cut -d/ -f2) ;;
        */*)
            echo "$file:${line%%:*}: include \"$inc\" is not of the form \"../folder/file.h\""
            continue
            ;;
        *) to=$from ;;
        esac
        if ! allowed "$from" "$to"; then
            echo "$file:${line%%:*}: $from includes $inc, which runs up the layer order"
        fi
    done >>"$out"
done
if [ -s "$out" ]; then
    cat "$out"
    bad=1
fi

# 2. symbols of the object files.
if [ -n "$objdir" ]; then
    tmp=$(mktemp -d)
    trap 'rm -f "$out"; rm -rf "$tmp"' EXIT INT TERM
    for o in "$objdir"/*/*.o; do
        [ -f "$o" ] || continue
        folder=$(basename "$(dirname "$o")")
        src=src/$folder/$(basename "$o" .o)
        # Objects whose source is gone (moved files) are stale, not code.
        [ -f "$src.c" ] || [ -f "$src.S" ] || continue
        nm -g --defined-only "$o" | awk -v f="$folder" '$3 ~ /^eli?_/ { print $3, f }' >>"$tmp/def"
        nm -u "$o" | awk -v f="$folder" -v o="$src" '$2 ~ /^eli?_/ { print $2, f, o }' >>"$tmp/use"
    done
    touch "$tmp/def" "$tmp/use"
    sort -u "$tmp/def" >"$tmp/def.s"
    sort "$tmp/use" >"$tmp/use.s"
    # symbol user-folder user-file definer-folder
    join "$tmp/use.s" "$tmp/def.s" >"$tmp/pairs"
    while read -r sym from file to; do
        if ! allowed "$from" "$to"; then
            echo "$file.c: calls $sym (src/$to), which runs up the layer order"
            bad=1
        fi
    done <"$tmp/pairs"
fi

if [ "$bad" -ne 0 ]; then
    echo "check-layers: FAILED (see docs/DESIGN.md section 9)" >&2
    exit 1
fi
echo "check-layers: ok"
