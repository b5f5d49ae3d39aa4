/* dynlib.h - optional libraries loaded with dlopen on first use.
 *
 * libcurl (profiling) and XGBoost (tree baselines) each cost several
 * milliseconds of process start-up when linked (dozens of dependent shared
 * objects, C++ static initialisers), which would dominate a 10 ms `energylens
 * fit`. Like the GPU vendor libraries, they are therefore resolved at run
 * time, only by the code paths that need them; a missing library is
 * EL_ERR_UNAVAILABLE with its name, never a crash. */
#ifndef ELI_DYNLIB_H
#define ELI_DYNLIB_H

#include "core_int.h"

/* Opens the first loadable of `names` (NULL-terminated) and resolves `nsyms`
 * symbols into `slots` (function pointers stored as void *). Thread-safe,
 * idempotent per `once`; the result is cached in *state. */
struct eli_dynlib {
    int state;     /* 0 not tried, 1 loaded, -1 failed */
    char why[256]; /* failure reason */
};
el_status eli_dynlib_load(struct eli_dynlib *lib, const char *const *names, const char *const *syms,
                          void **slots, size_t nsyms);

#endif
