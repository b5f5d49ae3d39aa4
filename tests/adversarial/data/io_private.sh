#!/bin/sh
# Private devices and filesystems for the io_* adversarial cases.
# io_private.sh check            succeeds when this user may mount a tmpfs
# io_private.sh devcheck         succeeds when this user may make a private full
#                              device node (mknod c 1 7) and open it
# io_private.sh full DIR         mounts a 16 KiB tmpfs at DIR and fills it
# io_private.sh ro DIR           mounts a read-only tmpfs at DIR
# Used by the io_* adversarial cases (a private full filesystem, never the
# machine's); each case unmounts DIR in a check: line.
set -u
case "$1" in
check)
    [ "$(id -u)" = 0 ] || exit 1
    d=$(mktemp -d) || exit 1
    if mount -t tmpfs -o size=16k none "$d" 2>/dev/null; then
        umount "$d"
        rmdir "$d"
        exit 0
    fi
    rmdir "$d"
    exit 1
    ;;
devcheck)
    [ "$(id -u)" = 0 ] || exit 1
    d=$(mktemp -d) || exit 1
    ok=1
    if mknod "$d/full" c 1 7 2>/dev/null && ! (echo x >"$d/full") 2>/dev/null &&
        [ -c "$d/full" ]; then
        ok=0
    fi
    rm -rf "$d"
    exit $ok
    ;;
full)
    mkdir -p "$2" && mount -t tmpfs -o size=16k,nr_inodes=64 none "$2" || exit 1
    head -c 1048576 /dev/zero >"$2/fill" 2>/dev/null
    [ "$(df -k "$2" | awk 'NR==2 {print $4}')" = 0 ]
    ;;
ro)
    mkdir -p "$2" && mount -t tmpfs -o ro,size=16k none "$2"
    ;;
*)
    exit 2
    ;;
esac
