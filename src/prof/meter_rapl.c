/* meter_rapl.c - CPU packages and DRAM through the Linux powercap RAPL tree.
 *
 * Each top-level zone ROOT/intel-rapl:N (one per package; AMD Zen exposes
 * the same names) has energy_uj, a counter in microjoules that wraps at
 * max_energy_range_uj (about 262 kJ: minutes at full load), which the
 * generic layer handles. A top-level zone named "psys" (the whole platform
 * on client parts) contains the packages and is skipped. Sub-zones
 * (intel-rapl:N:M) named core/uncore are parts of their package and are not
 * summed; those named "dram" are outside it and form a meter of their own
 * (eli_meter_rapl_dram, one device per package's DRAM; absent on most client
 * and AMD parts). energy_uj has been readable by root only since Linux 5.10
 * (CVE-2020-8694, "Platypus"), so a permission error says so. Files stay
 * open and are re-read with pread at offset 0 (sysfs regenerates the value
 * on each read). */
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

/* Parses "intel-rapl:N" (package zone: *sub = -1) or "intel-rapl:N:M". */
static int zone_name(const char *name, unsigned *pkg, long *sub)
{
    const char *pre = "intel-rapl:";
    size_t k = strlen(pre);
    if (strncmp(name, pre, k) != 0)
        return 0;
    unsigned v[2] = {0, 0};
    int part = 0, digits = 0;
    for (const char *c = name + k; *c; c++) {
        if (*c == ':' && part == 0 && digits > 0) {
            part = 1;
            digits = 0;
            continue;
        }
        if (*c < '0' || *c > '9' || v[part] > 100000)
            return 0;
        v[part] = v[part] * 10 + (unsigned)(*c - '0');
        digits++;
    }
    if (digits == 0)
        return 0;
    *pkg = v[0];
    *sub = part ? (long)v[1] : -1;
    return 1;
}

struct zone {
    unsigned pkg;
    long sub;
    char name[64]; /* the zone's name file ("package-0", "dram") */
};

static int cmp_zone(const void *a, const void *b)
{
    const struct zone *x = a, *y = b;
    if (x->pkg != y->pkg)
        return (x->pkg > y->pkg) - (x->pkg < y->pkg);
    return (x->sub > y->sub) - (x->sub < y->sub);
}

static void zone_dir(const char *root, const struct zone *z, char *buf, size_t len)
{
    if (z->sub < 0)
        snprintf(buf, len, "%s/intel-rapl:%u", root, z->pkg);
    else
        snprintf(buf, len, "%s/intel-rapl:%u:%ld", root, z->pkg, z->sub);
}

/* Opens the package zones (dram = 0) or the DRAM sub-zones (dram = 1). */
static el_status rapl_open_zones(el_meter *m, const struct el_meter_config *cfg, int dram,
                                 struct el_error *err)
{
    const char *root = cfg && cfg->root ? cfg->root : "/sys/class/powercap";
    const char *what = dram ? "rapl-dram" : "rapl";
    DIR *dir = opendir(root);
    if (!dir)
        return eli_err(err, EL_ERR_UNAVAILABLE, "%s: no powercap tree at %s: %s", what, root,
                       strerror(errno));
    struct zone *zs = eli_calloc(ELI_METER_MAX_DEVICES, sizeof *zs);
    if (!zs) {
        closedir(dir);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    size_t n = 0, nzones = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && n < ELI_METER_MAX_DEVICES) {
        struct zone z;
        if (!zone_name(de->d_name, &z.pkg, &z.sub))
            continue;
        nzones++;
        if ((z.sub >= 0) != (dram != 0))
            continue;
        char path[4096];
        zone_dir(root, &z, path, sizeof path);
        size_t k = strlen(path);
        snprintf(path + k, sizeof path - k, "/name");
        if (read_text(path, z.name, sizeof z.name) != 0) {
            if (z.sub < 0)
                snprintf(z.name, sizeof z.name, "intel-rapl:%u", z.pkg);
            else
                snprintf(z.name, sizeof z.name, "intel-rapl:%u:%ld", z.pkg, z.sub);
        }
        if (dram ? strcmp(z.name, "dram") != 0 : strcmp(z.name, "psys") == 0)
            continue;
        zs[n++] = z;
    }
    closedir(dir);
    if (n == 0) {
        eli_free(zs);
        if (dram)
            return eli_err(err, EL_ERR_UNAVAILABLE, "rapl-dram: no dram zone among %zu under %s",
                           nzones, root);
        return eli_err(err, EL_ERR_UNAVAILABLE, "rapl: no intel-rapl zone under %s", root);
    }
    qsort(zs, n, sizeof zs[0], cmp_zone);
    struct rapl_priv *p = eli_calloc(1, sizeof *p);
    if (!p) {
        eli_free(zs);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    for (size_t d = 0; d < ELI_METER_MAX_DEVICES; d++)
        p->fd[d] = -1;
    char names[256] = "";
    size_t off = 0;
    el_status st = EL_OK;
    for (size_t d = 0; d < n; d++) {
        char dirp[4000], path[4096], buf[128];
        zone_dir(root, &zs[d], dirp, sizeof dirp);
        snprintf(path, sizeof path, "%s/max_energy_range_uj", dirp);
        unsigned long long range = 0;
        int rc = read_text(path, buf, sizeof buf);
        if (rc == 0 && !parse_u64_text(buf, &range))
            rc = -EINVAL;
        if (rc != 0) {
            st = eli_err(err, EL_ERR_UNAVAILABLE, "%s: cannot read %s: %s", what, path,
                         strerror(-rc));
            goto fail;
        }
        p->range_j[d] = (double)range * 1e-6;
        snprintf(path, sizeof path, "%s/energy_uj", dirp);
        p->fd[d] = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t r = p->fd[d] >= 0 ? pread(p->fd[d], buf, sizeof buf - 1, 0) : -1;
        if (r <= 0) {
            int e = r == 0 ? EINVAL : errno;
            st = eli_err(err, EL_ERR_UNAVAILABLE, "%s: cannot read %s: %s%s", what, path,
                         strerror(e),
                         e == EACCES ? " (energy_uj is readable by root only since Linux 5.10; "
                                       "run as root or grant read access)"
                                     : "");
            goto fail;
        }
        const char *label = zs[d].name;
        char lb[96];
        if (dram) { /* "dram" alone does not say which package's */
            snprintf(lb, sizeof lb, "dram-%u", zs[d].pkg);
            label = lb;
        }
        int w = snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", label);
        if (w > 0 && off + (size_t)w < sizeof names)
            off += (size_t)w;
    }
    eli_free(zs);
    m->priv = p;
    m->ndev = n;
    m->has_counter = 1;
    m->has_power = 0;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->driver, sizeof m->driver, "linux %s", u.release);
    eli_meter_set_desc(m, "%s (%s): %zu zone%s (%s), energy counter", what, root, n,
                       n == 1 ? "" : "s", names);
    return EL_OK;
fail:
    for (size_t d = 0; d < n; d++)
        if (p->fd[d] >= 0)
            close(p->fd[d]);
    eli_free(p);
    eli_free(zs);
    return st;
}

static el_status rapl_open(el_meter *m, const struct el_meter_config *cfg, struct el_error *err)
{
    return rapl_open_zones(m, cfg, 0, err);
}

static el_status rapl_dram_open(el_meter *m, const struct el_meter_config *cfg,
                                struct el_error *err)
{
    return rapl_open_zones(m, cfg, 1, err);
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

/* Not a kind of el_meter_create: the profiler opens it beside the main
 * meter (meter.dram) through eli_meter_open_backend. */
const struct eli_meter_backend eli_meter_rapl_dram = {
    "rapl-dram", rapl_dram_open, rapl_read_energy, rapl_read_power, rapl_close, NULL, NULL,
    NULL,        NULL,
};
