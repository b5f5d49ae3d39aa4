/* sr_hook.h - the one entry point of the symbolic-regression layer that the
 * model layer calls: el_model_from_json() hands a discover front file here,
 * so a front file is accepted wherever a model file is (its pick). */
#ifndef ELI_SR_HOOK_H
#define ELI_SR_HOOK_H

#include <energylens/energylens.h>

/* If `text` is a front file (JSON with an "energylens_front" key), builds
 * entry k (k < 0: the pick) as a model, sets *handled = 1 and returns the
 * status; otherwise sets *handled = 0 and returns EL_OK without touching
 * *out. */
el_status eli_sr_front_to_model(const char *text, long k, el_model **out, struct el_error *err,
                                int *handled);

#endif
