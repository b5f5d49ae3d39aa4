/* file.c - the one write path for every file EnergyLens creates, and the one
 * escaper for text that echoes user input.
 *
 * el_file_write: a regular file (or a name that does not exist yet) is
 * replaced atomically: a temporary sibling in the same directory is created
 * exclusively, written, fsynced and closed, each step checked, then renamed
 * over the final name, and the directory is fsynced. A symlink is followed to
 * its target (also a dangling one), so the link stays a link and its target
 * gets the new contents. A FIFO or character device is written directly
 * (a rename would replace the node with a regular file); a directory, block
 * device or socket is refused. Any failure leaves the final name as it was
 * and removes the temporary file. */
#define _GNU_SOURCE
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define MAX_LINK_HOPS 40

static el_status write_err(struct el_error *err, const char *path, const char *what, int e)
{
    return eli_err_at(err, EL_ERR_IO, path, 0, 0, "%s: %s: %s", path, what, strerror(e));
}

static int write_all(int fd, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* A FIFO or character device: written in place, never replaced. */
static el_status write_direct(const char *path, const char *data, size_t len, struct el_error *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return write_err(err, path, "cannot open for writing", errno);
    if (write_all(fd, data, len) != 0) {
        int e = errno;
        close(fd);
        return write_err(err, path, "cannot write", e);
    }
    if (close(fd) != 0)
        return write_err(err, path, "cannot write", errno);
    return EL_OK;
}

/* Directory part of p ("." when none), newly allocated. */
static char *dir_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash)
        return eli_strdup(".");
    if (slash == p)
        return eli_strdup("/");
    return eli_strndup(p, (size_t)(slash - p));
}

/* Follows a chain of symlinks whose end does not exist yet; returns the
 * path the file is to be created at (newly allocated), or NULL with errno. */
static char *resolve_dangling(const char *path)
{
    char *cur = eli_strdup(path);
    for (int hop = 0; cur && hop < MAX_LINK_HOPS; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur; /* the end of the chain (normally ENOENT) */
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0) {
            int e = errno;
            eli_free(cur);
            errno = e;
            return NULL;
        }
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = eli_strdup(target);
        } else {
            char *dir = dir_of(cur);
            size_t len = dir ? strlen(dir) + 1 + (size_t)n + 1 : 0;
            next = dir ? eli_malloc(len) : NULL;
            if (next)
                snprintf(next, len, "%s/%s", dir, target);
            eli_free(dir);
        }
        eli_free(cur);
        cur = next;
    }
    if (cur) {
        eli_free(cur);
        errno = ELOOP;
    } else {
        errno = ENOMEM;
    }
    return NULL;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some filesystems refuse it */
        close(fd);
    }
}

/* The atomic replacement of `target` (a regular file or a new name); errors
 * name `shown`, the path as the caller gave it. `old` is the existing file's
 * status, or NULL. */
static el_status write_atomic(const char *shown, const char *target, const struct stat *old,
                              const char *data, size_t len, struct el_error *err)
{
    static atomic_uint counter;
    char *dir = dir_of(target);
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    size_t cap = (dir ? strlen(dir) : 0) + strlen(base) + 64;
    char *tmp = dir ? eli_malloc(cap) : NULL;
    if (!tmp) {
        eli_free(dir);
        return eli_err(err, EL_ERR_NOMEM, "out of memory writing %s", shown);
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned k = atomic_fetch_add(&counter, 1u);
        snprintf(tmp, cap, "%s/.%s.tmp-%ld-%u", dir, base, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, old ? 0600 : 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        el_status st =
            eli_err_at(err, EL_ERR_IO, shown, 0, 0, "%s: cannot create a temporary file in %s: %s",
                       shown, dir, strerror(e));
        eli_free(tmp);
        eli_free(dir);
        return st;
    }
    const char *what = "cannot write";
    int e = 0;
    if (old) {
        /* Keep the replaced file's permissions (and owner, where allowed). */
        if (fchmod(fd, old->st_mode & 07777) != 0) {
            e = errno;
            what = "cannot set the permissions of its temporary file";
        } else if (fchown(fd, old->st_uid, old->st_gid) != 0) {
            errno = 0; /* not the owner: the new file is ours, as with any editor */
        }
    }
    if (!e && write_all(fd, data, len) != 0)
        e = errno;
    if (!e && fsync(fd) != 0) {
        e = errno;
        what = "cannot sync to disk";
    }
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, target) != 0) {
        e = errno;
        what = "cannot rename its temporary file over it";
    }
    if (e) {
        unlink(tmp);
        eli_free(tmp);
        eli_free(dir);
        return write_err(err, shown, what, e);
    }
    fsync_dir(dir);
    eli_free(tmp);
    eli_free(dir);
    return EL_OK;
}

el_status el_file_write(const char *path, const void *data, size_t len, struct el_error *err)
{
    eli_err_clear(err);
    if (!path || !*path || (!data && len))
        return eli_err(err, EL_ERR_INVALID_ARG, "el_file_write: no path or no data");
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return write_err(err, path, "cannot write", EISDIR);
        if (S_ISBLK(st.st_mode))
            return eli_err_at(err, EL_ERR_IO, path, 0, 0,
                              "%s: is a block device; refusing to write to it", path);
        if (S_ISSOCK(st.st_mode))
            return eli_err_at(err, EL_ERR_IO, path, 0, 0,
                              "%s: is a socket; refusing to write to it", path);
        if (!S_ISREG(st.st_mode)) /* FIFO, character device */
            return write_direct(path, data, len, err);
        char *real = realpath(path, NULL);
        if (!real)
            return write_err(err, path, "cannot resolve", errno);
        char *target = eli_strdup(real);
        free(real);
        if (!target)
            return eli_err(err, EL_ERR_NOMEM, "out of memory writing %s", path);
        el_status s = write_atomic(path, target, &st, data, len, err);
        eli_free(target);
        return s;
    }
    if (errno != ENOENT)
        return write_err(err, path, "cannot write", errno);
    char *target = resolve_dangling(path);
    if (!target)
        return write_err(err, path, "cannot write", errno);
    el_status s = write_atomic(path, target, NULL, data, len, err);
    eli_free(target);
    return s;
}

int eli_is_temp_name(const char *name)
{
    if (!name || name[0] != '.')
        return 0;
    const char *t = strstr(name + 1, ".tmp-");
    if (!t || t == name + 1)
        return 0;
    const char *q = t + 5;
    for (int part = 0; part < 2; part++) {
        const char *start = q;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q == start)
            return 0;
        if (part == 0 && *q++ != '-')
            return 0;
    }
    return *q == '\0';
}

int el_file_same(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Length of the valid UTF-8 sequence at s (2-4), or 0 when it is not one
 * (a stray continuation byte, an overlong form, a surrogate, a cut-off
 * sequence at the end of the string). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    if (cp >= 0x80 && cp <= 0x9F) /* C1 controls (CSI is U+009B) */
        return 0;
    return n;
}

size_t el_text_escape(char *dst, size_t cap, const char *src)
{
    if (!dst || cap == 0)
        return 0;
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        char piece[16];
        size_t plen;
        size_t take = 1;
        unsigned c = *s;
        if (c >= 0x20 && c < 0x7F) {
            piece[0] = (char)c;
            plen = 1;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            piece[0] = '\\';
            piece[1] = (char)(c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            plen = 2;
        } else if (c >= 0x80 && (take = utf8_len(s)) > 0) {
            memcpy(piece, s, take);
            plen = take;
        } else {
            take = 1;
            snprintf(piece, sizeof piece, "\\x%02X", c);
            plen = 4;
        }
        if (o + plen >= cap)
            break; /* never cut an escape or a character in half */
        memcpy(dst + o, piece, plen);
        o += plen;
        s += take;
    }
    dst[o] = '\0';
    return o;
}

el_status eli_save_text(const char *path, char *text, const char *what, struct el_error *err)
{
    if (!text)
        return eli_err(err, EL_ERR_NOMEM, "out of memory serialising %s", what);
    struct eli_buf b;
    eli_buf_init(&b);
    eli_buf_puts(&b, text);
    eli_buf_putc(&b, '\n');
    eli_free(text);
    if (b.failed) {
        eli_buf_free(&b);
        return eli_err(err, EL_ERR_NOMEM, "out of memory serialising %s", what);
    }
    el_status st = el_file_write(path, b.data, b.len, err);
    eli_buf_free(&b);
    return st;
}
