/* curl_dl.c - the table of libcurl functions, resolved once on first use. */
#define ELI_CURL_DL_IMPL 1
#include "curl_dl.h"

#include <pthread.h>
#include <stdio.h>

#include "../core/dynlib.h"

#include "../core/banned.h"

struct eli_curl_api eli_curl_fns;

#define CURL_FUNCS(X)                                                                              \
    X(global_init, "curl_global_init")                                                             \
    X(global_cleanup, "curl_global_cleanup")                                                       \
    X(easy_init, "curl_easy_init")                                                                 \
    X(easy_cleanup, "curl_easy_cleanup")                                                           \
    X(easy_setopt, "curl_easy_setopt")                                                             \
    X(easy_getinfo, "curl_easy_getinfo")                                                           \
    X(easy_perform, "curl_easy_perform")                                                           \
    X(easy_strerror, "curl_easy_strerror")                                                         \
    X(multi_init, "curl_multi_init")                                                               \
    X(multi_cleanup, "curl_multi_cleanup")                                                         \
    X(multi_add_handle, "curl_multi_add_handle")                                                   \
    X(multi_remove_handle, "curl_multi_remove_handle")                                             \
    X(multi_perform, "curl_multi_perform")                                                         \
    X(multi_poll, "curl_multi_poll")                                                               \
    X(multi_info_read, "curl_multi_info_read")                                                     \
    X(multi_setopt, "curl_multi_setopt")                                                           \
    X(slist_append, "curl_slist_append")                                                           \
    X(slist_free_all, "curl_slist_free_all")

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct eli_dynlib curl_lib;

static void curl_resolve(void)
{
#define NAME(field, sym) sym,
    static const char *const syms[] = {CURL_FUNCS(NAME)};
#undef NAME
    static const char *const names[] = {"libcurl.so.4", "libcurl.so", NULL};
    void *slots[sizeof syms / sizeof syms[0]];
    if (eli_dynlib_load(&curl_lib, names, syms, slots, sizeof syms / sizeof syms[0]) != EL_OK)
        return;
    size_t k = 0;
    /* dlsym's void * to function pointer, the way POSIX documents it */
#define SET(field, sym) *(void **)(&eli_curl_fns.field) = slots[k++];
    CURL_FUNCS(SET)
#undef SET
}

el_status eli_curl_load(struct el_error *err)
{
    pthread_once(&curl_once, curl_resolve);
    if (curl_lib.state != 1)
        return eli_err(err, EL_ERR_UNAVAILABLE, "libcurl: %s (install libcurl4)", curl_lib.why);
    return EL_OK;
}
