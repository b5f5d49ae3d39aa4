/* meter_rapl.c - CPU packages through the Linux powercap RAPL tree.
 *
 * Each top-level zone ROOT/intel-rapl:N (one per package; AMD Zen exposes
 * the same names) has energy_uj, a counter in microjoules that wraps at
 * max_energy_range_uj (about 262 kJ: minutes at full load), which the
 * generic layer handles. Sub-zones (intel-rapl:N:M, core/uncore/dram) are
 * parts of their package or overlap it and are not summed. energy_uj has
 * been readable by root only since Linux 5.10 (CVE-2020-8694, "Platypus"),
 * so a permission error says so. Files stay open and are re-read with
 * pread at offset 0 (sysfs regenerates the value on each read). */
#include "../core/core_int.h"

#include "prof_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../core/banned.h"

struct rapl_priv {
    int fd[ELI_METER_MAX_DEVICES];
    double range_j[ELI_METER_MAX_DEVICES];
};

static int read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (r < 0)
        return -e;
    buf[r] = '\0';
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
        buf[--r] = '\0';
    return 0;
}

static int parse_u64_text(const char *s, unsigned long long *out)
{
    if (*s < '0' || *s > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || (*end != '\0' && *end != '\n'))
        return 0;
    *out = v;
    return 1;
}

/* "intel-rapl:N" with no further colon: a package zone. */
static int zone_index(const char *name, unsigned *out)
{
    const char *pre = "intel-rapl:";
    size_t k = strlen(pre);
    if (strncmp(name, pre, k) != 0 || name[k] < '0' || name[k] > '9')
        return 0;
    unsigned v = 0;
    for (const char *c = name + k; *c; c++) {
        if (*c < '0' || *c > '9' || v > 100000)
            return 0;
        v = v * 10 + (unsigned)(*c - '0');
    }
    *out = v;
    return 1;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

static el_status rapl_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    const char *root = cfg && cfg->root ? cfg->root : "/sys/class/powercap";
    DIR *dir = opendir(root);
    if (!dir)
        return eli_err(err, EL_ERR_UNAVAILABLE, "rapl: no powercap tree at %s: %s", root,
                       strerror(errno));
    unsigned idx[ELI_METER_MAX_DEVICES];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && n < ELI_METER_MAX_DEVICES) {
        unsigned v;
        if (zone_index(de->d_name, &v))
            idx[n++] = v;
    }
    closedir(dir);
    if (n == 0)
        return eli_err(err, EL_ERR_UNAVAILABLE, "rapl: no intel-rapl zone under %s", root);
    qsort(idx, n, sizeof idx[0], cmp_unsigned);
    struct rapl_priv *p = eli_calloc(1, sizeof *p);
    if (!p)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    for (size_t d = 0; d < ELI_METER_MAX_DEVICES; d++)
        p->fd[d] = -1;
    char names[256] = "";
    size_t off = 0;
    el_status st = EL_OK;
    for (size_t d = 0; d < n; d++) {
        char path[4096], buf[128];
        snprintf(path, sizeof path, "%s/intel-rapl:%u/max_energy_range_uj", root, idx[d]);
        unsigned long long range = 0;
        int rc = read_text(path, buf, sizeof buf);
        if (rc == 0 && !parse_u64_text(buf, &range))
            rc = -EINVAL;
        if (rc != 0) {
            st = eli_err(err, EL_ERR_UNAVAILABLE, "rapl: cannot read %s: %s", path, strerror(-rc));
            goto fail;
        }
        p->range_j[d] = (double)range * 1e-6;
        snprintf(path, sizeof path, "%s/intel-rapl:%u/energy_uj", root, idx[d]);
        p->fd[d] = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t r = p->fd[d] >= 0 ? pread(p->fd[d], buf, sizeof buf - 1, 0) : -1;
        if (r <= 0) {
            int e = r == 0 ? EINVAL : errno;
            st = eli_err(err, EL_ERR_UNAVAILABLE, "rapl: cannot read %s: %s%s", path, strerror(e),
                         e == EACCES ? " (energy_uj is readable by root only since Linux 5.10; "
                                       "run as root or grant read access)"
                                     : "");
            goto fail;
        }
        snprintf(path, sizeof path, "%s/intel-rapl:%u/name", root, idx[d]);
        if (read_text(path, buf, sizeof buf) != 0)
            snprintf(buf, sizeof buf, "intel-rapl:%u", idx[d]);
        int w = snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", buf);
        if (w > 0 && off + (size_t)w < sizeof names)
            off += (size_t)w;
    }
    m->priv = p;
    m->ndev = n;
    m->has_counter = 1;
    m->has_power = 0;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->driver, sizeof m->driver, "linux %s", u.release);
    eli_meter_set_desc(m, "rapl (%s): %zu zone%s (%s), energy counter", root, n, n == 1 ? "" : "s",
                       names);
    return EL_OK;
fail:
    for (size_t d = 0; d < n; d++)
        if (p->fd[d] >= 0)
            close(p->fd[d]);
    eli_free(p);
    return st;
}

static el_status rapl_read_energy(el_meter *m, size_t d, double *joules, double *range_j)
{
    struct rapl_priv *p = m->priv;
    char buf[64];
    ssize_t r = pread(p->fd[d], buf, sizeof buf - 1, 0);
    if (r <= 0)
        return EL_ERR_IO;
    buf[r] = '\0';
    unsigned long long uj;
    if (!parse_u64_text(buf, &uj))
        return EL_ERR_PARSE;
    *joules = (double)uj * 1e-6;
    *range_j = p->range_j[d];
    return EL_OK;
}

static el_status rapl_read_power(el_meter *m, size_t d, double *watts)
{
    (void)m;
    (void)d;
    *watts = ELI_NAN; /* no power reading */
    return EL_ERR_UNAVAILABLE;
}

static void rapl_close(el_meter *m)
{
    struct rapl_priv *p = m->priv;
    if (!p)
        return;
    for (size_t d = 0; d < m->ndev; d++)
        if (p->fd[d] >= 0)
            close(p->fd[d]);
    eli_free(p);
    m->priv = NULL;
}

const struct eli_meter_backend eli_meter_rapl = {
    "rapl", rapl_open, rapl_read_energy, rapl_read_power, rapl_close, NULL, NULL, NULL, NULL,
};
