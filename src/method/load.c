/* load.c - model files of any kind in, and copies of models: the one
 * place that knows every kind of model a file may hold.
 *
 * A formula model and a discover front file (its pick, or any entry) are
 * read by the model layer (src/model/model_json.c, front_file.c); a tree
 * model's ensemble is rebuilt by the estimator that trained it (src/ml),
 * whose decoder is handed down here. So the model layer never calls up into
 * the estimators, and everything above this layer loads a model with
 * el_model_load() whatever it holds. */
#include "../model/model_int.h"
#include "../ml/ml_int.h"

#include <stdio.h>
#include <string.h>

#include "../core/banned.h"

#define MODEL_MAX_BYTES ((size_t)64 << 20)

el_status el_model_from_json(const char *text, el_model **out, struct el_error *err)
{
    return eli_model_parse_json(text, eli_booster_decode, out, err);
}

el_status el_model_load(const char *path, el_model **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    char *text;
    ELI_TRY(eli_read_file(path, MODEL_MAX_BYTES, &text, NULL, err));
    el_status st = el_model_from_json(text, out, err);
    eli_free(text);
    if (st != EL_OK && err) {
        char msg[sizeof err->text];
        snprintf(msg, sizeof msg, "%s", err->text);
        snprintf(err->text, sizeof err->text, "%.200s: %.300s", path, msg);
        snprintf(err->file, sizeof err->file, "%s", path);
    }
    return st;
}

el_status el_model_load_entry(const char *path, long k, el_model **out, struct el_error *err)
{
    if (!out)
        return eli_err(err, EL_ERR_INVALID_ARG, "no output handle");
    *out = NULL;
    if (!path)
        return eli_err(err, EL_ERR_INVALID_ARG, "no path");
    char *text;
    ELI_TRY(eli_read_file(path, MODEL_MAX_BYTES, &text, NULL, err));
    int handled = 0;
    el_status st = eli_model_from_front(text, k, out, err, &handled);
    if (!handled) {
        if (k > 0 && st != EL_OK)
            ; /* not JSON at all (or jansson out of memory): that error */
        else if (k > 0)
            st = eli_err(err, EL_ERR_INVALID_ARG,
                         "%s is a model file, not a discover front: it has no entry %ld", path, k);
        else
            st = el_model_from_json(text, out, err);
    }
    eli_free(text);
    if (st != EL_OK && err) {
        char msg[sizeof err->text];
        snprintf(msg, sizeof msg, "%s", err->text);
        if (strncmp(msg, path, strlen(path)) != 0)
            snprintf(err->text, sizeof err->text, "%.200s: %.300s", path, msg);
        snprintf(err->file, sizeof err->file, "%s", path);
    }
    return st;
}

el_status el_model_clone(const el_model *m, el_model **out)
{
    if (!out || !m)
        return EL_ERR_INVALID_ARG;
    *out = NULL;
    char *json = el_model_to_json(m);
    if (!json)
        return EL_ERR_NOMEM;
    el_status st = el_model_from_json(json, out, NULL);
    el_free(json);
    return st;
}
