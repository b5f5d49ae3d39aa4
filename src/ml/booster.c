/* booster.c - random forest and gradient boosting through the XGBoost C API.
 *
 * "rf" follows XGBoost's documented random-forest recipe (one boosting round
 * of 100 parallel trees, learning rate 1, row subsample 0.632 standing in for
 * the bootstrap, no L2 leaf penalty, leaves down to one row), which is what
 * scikit-learn's RandomForestRegressor(n_estimators=100) does up to the
 * bootstrap. "gbdt" is plain boosting (200 rounds of depth-4 trees, learning
 * rate 0.1). Both run single-threaded so a seed reproduces a model
 * bit-for-bit and callers can parallelise across fits instead.
 *
 * Models travel inside the model JSON as base64 of XGBoost's UBJSON buffer;
 * base64 is hand-written (20 lines) because no Debian C library we already
 * depend on offers it. */
#include "ml_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>
#include <pthread.h>

#include "../core/dynlib.h"

#include "../core/banned.h"

struct eli_booster {
    BoosterHandle h;
};

/* XGBoost is resolved at run time (src/core/dynlib.h says why); the names
 * below then call through the table, so the code reads as the C API. */
static struct {
    const char *(*GetLastError)(void);
    int (*DMatrixCreateFromMat)(const float *, bst_ulong, bst_ulong, float, DMatrixHandle *);
    int (*DMatrixSetFloatInfo)(DMatrixHandle, const char *, const float *, bst_ulong);
    int (*DMatrixFree)(DMatrixHandle);
    int (*BoosterCreate)(const DMatrixHandle[], bst_ulong, BoosterHandle *);
    int (*BoosterFree)(BoosterHandle);
    int (*BoosterSetParam)(BoosterHandle, const char *, const char *);
    int (*BoosterUpdateOneIter)(BoosterHandle, int, DMatrixHandle);
    int (*BoosterPredict)(BoosterHandle, DMatrixHandle, int, unsigned, int, bst_ulong *,
                          const float **);
    int (*BoosterSaveModelToBuffer)(BoosterHandle, const char *, bst_ulong *, const char **);
    int (*BoosterLoadModelFromBuffer)(BoosterHandle, const void *, bst_ulong);
    int (*BoosterFeatureScore)(BoosterHandle, const char *, bst_ulong *, const char ***,
                               bst_ulong *, const bst_ulong **, const float **);
} xgb;

#define XGB_FUNCS(X)                                                                               \
    X(GetLastError, "XGBGetLastError")                                                             \
    X(DMatrixCreateFromMat, "XGDMatrixCreateFromMat")                                              \
    X(DMatrixSetFloatInfo, "XGDMatrixSetFloatInfo")                                                \
    X(DMatrixFree, "XGDMatrixFree")                                                                \
    X(BoosterCreate, "XGBoosterCreate")                                                            \
    X(BoosterFree, "XGBoosterFree")                                                                \
    X(BoosterSetParam, "XGBoosterSetParam")                                                        \
    X(BoosterUpdateOneIter, "XGBoosterUpdateOneIter")                                              \
    X(BoosterPredict, "XGBoosterPredict")                                                          \
    X(BoosterSaveModelToBuffer, "XGBoosterSaveModelToBuffer")                                      \
    X(BoosterLoadModelFromBuffer, "XGBoosterLoadModelFromBuffer")                                  \
    X(BoosterFeatureScore, "XGBoosterFeatureScore")

static pthread_once_t xgb_once = PTHREAD_ONCE_INIT;
static struct eli_dynlib xgb_lib;

static void xgb_resolve(void)
{
#define NAME(field, sym) sym,
    static const char *const syms[] = {XGB_FUNCS(NAME)};
#undef NAME
    static const char *const names[] = {"libxgboost.so.0", "libxgboost.so", NULL};
    void *slots[sizeof syms / sizeof syms[0]];
    if (eli_dynlib_load(&xgb_lib, names, syms, slots, sizeof syms / sizeof syms[0]) != EL_OK)
        return;
    size_t k = 0;
#define SET(field, sym) *(void **)(&xgb.field) = slots[k++];
    XGB_FUNCS(SET)
#undef SET
}

static el_status xgb_load(struct el_error *err)
{
    pthread_once(&xgb_once, xgb_resolve);
    if (xgb_lib.state != 1)
        return eli_err(err, EL_ERR_UNAVAILABLE, "xgboost: %s (install libxgboost0)", xgb_lib.why);
    return EL_OK;
}

#define XGBGetLastError              (xgb.GetLastError)
#define XGDMatrixCreateFromMat       (xgb.DMatrixCreateFromMat)
#define XGDMatrixSetFloatInfo        (xgb.DMatrixSetFloatInfo)
#define XGDMatrixFree                (xgb.DMatrixFree)
#define XGBoosterCreate              (xgb.BoosterCreate)
#define XGBoosterFree                (xgb.BoosterFree)
#define XGBoosterSetParam            (xgb.BoosterSetParam)
#define XGBoosterUpdateOneIter       (xgb.BoosterUpdateOneIter)
#define XGBoosterPredict             (xgb.BoosterPredict)
#define XGBoosterSaveModelToBuffer   (xgb.BoosterSaveModelToBuffer)
#define XGBoosterLoadModelFromBuffer (xgb.BoosterLoadModelFromBuffer)
#define XGBoosterFeatureScore        (xgb.BoosterFeatureScore)

void eli_booster_destroy(struct eli_booster *b)
{
    if (!b)
        return;
    if (b->h)
        XGBoosterFree(b->h);
    eli_free(b);
}

static el_status xgb_fail(struct el_error *err, const char *what)
{
    return eli_err(err, EL_ERR_UNAVAILABLE, "xgboost: %s: %s", what, XGBGetLastError());
}

static float *to_float(const double *X, size_t n)
{
    float *f = eli_mallocarray(n ? n : 1, sizeof *f);
    if (f)
        for (size_t i = 0; i < n; i++)
            f[i] = (float)X[i];
    return f;
}

el_status eli_booster_train(const char *kind, const double *X, const double *y, size_t n, size_t nf,
                            uint64_t seed, struct eli_booster **out, struct el_error *err)
{
    *out = NULL;
    ELI_TRY(xgb_load(err));
    int rf = strcmp(kind, "rf") == 0;
    if (!rf && strcmp(kind, "gbdt") != 0)
        return eli_err(err, EL_ERR_INVALID_ARG, "unknown tree method '%s'", kind);
    if (n == 0 || nf == 0)
        return eli_err(err, EL_ERR_DATA, "no rows or no features to train on");
    float *xf = to_float(X, n * nf), *yf = to_float(y, n);
    struct eli_booster *b = eli_calloc(1, sizeof *b);
    DMatrixHandle dm = NULL;
    el_status st = EL_OK;
    if (!xf || !yf || !b) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (XGDMatrixCreateFromMat(xf, (bst_ulong)n, (bst_ulong)nf, NAN, &dm) != 0 ||
        XGDMatrixSetFloatInfo(dm, "label", yf, (bst_ulong)n) != 0 ||
        XGBoosterCreate(&dm, 1, &b->h) != 0) {
        st = xgb_fail(err, "cannot create the training matrix");
        goto done;
    }
    char seed_s[32];
    snprintf(seed_s, sizeof seed_s, "%u", (unsigned)(seed & 0x7fffffff));
    const char *common[][2] = {
        {"nthread", "1"},         {"seed", seed_s},   {"objective", "reg:squarederror"},
        {"tree_method", "exact"}, {"verbosity", "0"},
    };
    const char *rf_params[][2] = {
        {"num_parallel_tree", "100"},
        {"learning_rate", "1"},
        {"subsample", "0.632"},
        {"colsample_bynode", "1"},
        {"max_depth", "30"},
        {"min_child_weight", "1"},
        {"lambda", "0"},
        {"base_score", "0"},
    };
    const char *gb_params[][2] = {
        {"learning_rate", "0.1"}, {"max_depth", "4"}, {"min_child_weight", "1"},
        {"subsample", "1"},       {"lambda", "1"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        bad |= XGBoosterSetParam(b->h, common[i][0], common[i][1]);
    if (rf)
        for (size_t i = 0; i < sizeof rf_params / sizeof rf_params[0]; i++)
            bad |= XGBoosterSetParam(b->h, rf_params[i][0], rf_params[i][1]);
    else
        for (size_t i = 0; i < sizeof gb_params / sizeof gb_params[0]; i++)
            bad |= XGBoosterSetParam(b->h, gb_params[i][0], gb_params[i][1]);
    if (bad) {
        st = xgb_fail(err, "cannot set parameters");
        goto done;
    }
    int rounds = rf ? 1 : 200;
    for (int it = 0; it < rounds; it++) {
        if (XGBoosterUpdateOneIter(b->h, it, dm) != 0) {
            st = xgb_fail(err, "training failed");
            goto done;
        }
    }
    *out = b;
    b = NULL;
done:
    if (dm)
        XGDMatrixFree(dm);
    eli_booster_destroy(b);
    eli_free(xf);
    eli_free(yf);
    return st;
}

el_status eli_booster_predict(const struct eli_booster *b, const double *X, size_t n, size_t nf,
                              double *out, struct el_error *err)
{
    if (n == 0)
        return EL_OK;
    ELI_TRY(xgb_load(err));
    float *xf = to_float(X, n * nf);
    if (!xf)
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    DMatrixHandle dm = NULL;
    bst_ulong len = 0;
    const float *res = NULL;
    el_status st = EL_OK;
    if (XGDMatrixCreateFromMat(xf, (bst_ulong)n, (bst_ulong)nf, NAN, &dm) != 0 ||
        XGBoosterPredict(b->h, dm, 0, 0, 0, &len, &res) != 0 || len != n) {
        st = xgb_fail(err, "prediction failed");
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = (double)res[i];
    }
    if (dm)
        XGDMatrixFree(dm);
    eli_free(xf);
    return st;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *eli_booster_to_base64(const struct eli_booster *b)
{
    bst_ulong len = 0;
    const char *raw = NULL;
    if (XGBoosterSaveModelToBuffer(b->h, "{\"format\": \"ubj\"}", &len, &raw) != 0)
        return NULL;
    size_t n = (size_t)len, olen = (n + 2) / 3 * 4;
    char *o = eli_malloc(olen + 1);
    if (!o)
        return NULL;
    const unsigned char *s = (const unsigned char *)raw;
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        o[j++] = B64[(v >> 18) & 63];
        o[j++] = B64[(v >> 12) & 63];
        o[j++] = (char)(i + 1 < n ? B64[(v >> 6) & 63] : '=');
        o[j++] = (char)(i + 2 < n ? B64[v & 63] : '=');
    }
    o[j] = '\0';
    return o;
}

el_status eli_booster_from_base64(const char *text, struct eli_booster **out, struct el_error *err)
{
    *out = NULL;
    ELI_TRY(xgb_load(err));
    size_t n = strlen(text);
    unsigned char *raw = eli_malloc(n / 4 * 3 + 3);
    struct eli_booster *b = eli_calloc(1, sizeof *b);
    el_status st = EL_OK;
    if (!raw || !b) {
        st = eli_err(err, EL_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t j = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(B64, text[i]);
        if (text[i] == '=')
            break;
        if (!p || !text[i]) {
            st = eli_err(err, EL_ERR_PARSE, "booster: invalid base64 at offset %zu", i);
            goto done;
        }
        acc = (acc << 6) | (unsigned)(p - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[j++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    if (XGBoosterCreate(NULL, 0, &b->h) != 0 ||
        XGBoosterLoadModelFromBuffer(b->h, raw, (bst_ulong)j) != 0) {
        st = eli_err(err, EL_ERR_PARSE, "booster: cannot load: %s", XGBGetLastError());
        goto done;
    }
    XGBoosterSetParam(b->h, "nthread", "1");
    *out = b;
    b = NULL;
done:
    eli_free(raw);
    eli_booster_destroy(b);
    return st;
}

el_status eli_booster_importance(const struct eli_booster *b, size_t nf, double *share)
{
    bst_ulong nfeat = 0, dim = 0;
    const char **names = NULL;
    const bst_ulong *shape = NULL;
    const float *scores = NULL;
    for (size_t k = 0; k < nf; k++)
        share[k] = 0.0;
    if (XGBoosterFeatureScore(b->h, "{\"importance_type\": \"total_gain\"}", &nfeat, &names, &dim,
                              &shape, &scores) != 0)
        return EL_ERR_UNAVAILABLE;
    double total = 0.0;
    for (bst_ulong i = 0; i < nfeat; i++) {
        /* features are named f0, f1, ... in the order of the training matrix */
        long k = (names[i] && names[i][0] == 'f') ? strtol(names[i] + 1, NULL, 10) : -1;
        if (k >= 0 && (size_t)k < nf) {
            share[k] += (double)scores[i];
            total += (double)scores[i];
        }
    }
    if (total > 0.0)
        for (size_t k = 0; k < nf; k++)
            share[k] /= total;
    return EL_OK;
}

/* ---- the model layer's view of an ensemble (struct eli_engine_ops) -------- */

static el_status engine_predict(const void *state, const double *X, size_t n, size_t nf,
                                double *out, struct el_error *err)
{
    return eli_booster_predict(state, X, n, nf, out, err);
}

static el_status engine_importance(const void *state, size_t nf, double *share)
{
    return eli_booster_importance(state, nf, share);
}

static char *engine_to_text(const void *state)
{
    return eli_booster_to_base64(state);
}

static void engine_destroy(void *state)
{
    eli_booster_destroy(state);
}

const struct eli_engine_ops eli_booster_engine = {engine_predict, engine_importance, engine_to_text,
                                                  engine_destroy};

el_status eli_booster_decode(const char *text, const struct eli_engine_ops **ops, void **state,
                             struct el_error *err)
{
    struct eli_booster *b = NULL;
    ELI_TRY(eli_booster_from_base64(text, &b, err));
    *ops = &eli_booster_engine;
    *state = b;
    return EL_OK;
}
