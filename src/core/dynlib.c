/* dynlib.c - dlopen/dlsym of optional libraries into tables of function
 * pointers (the Redis REDISMODULE_GET_API shape), resolved once. The tables
 * are write-once caches of what dlsym returns, not mutable state. */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static pthread_mutex_t dynlib_lock = PTHREAD_MUTEX_INITIALIZER;

el_status eli_dynlib_load(struct eli_dynlib *lib, const char *const *names, const char *const *syms,
                          void **slots, size_t nsyms)
{
    pthread_mutex_lock(&dynlib_lock);
    if (lib->state == 0) {
        void *h = NULL;
        for (size_t i = 0; names[i] && !h; i++)
            h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            snprintf(lib->why, sizeof lib->why, "cannot load %s: %s", names[0],
                     e ? e : "not found");
            lib->state = -1;
        } else {
            lib->state = 1;
            for (size_t k = 0; k < nsyms; k++) {
                void *p = dlsym(h, syms[k]);
                if (!p) {
                    snprintf(lib->why, sizeof lib->why, "%s lacks the symbol %s", names[0],
                             syms[k]);
                    lib->state = -1;
                    break;
                }
                slots[k] = p;
            }
            /* the library stays loaded for the process's life */
        }
    }
    el_status st = lib->state == 1 ? EL_OK : EL_ERR_UNAVAILABLE;
    pthread_mutex_unlock(&dynlib_lock);
    return st;
}
