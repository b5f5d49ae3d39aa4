/* curl_dl.h - libcurl resolved at run time (see src/core/dynlib.h for why).
 * Include this instead of <curl/curl.h>: the curl_* names below become calls
 * through the resolved table, so call sites read as plain libcurl. Every entry
 * point of the profiling layer calls eli_curl_load() before any curl_* call. */
#ifndef ELI_CURL_DL_H
#define ELI_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "../core/core_int.h"

struct eli_curl_api {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

extern struct eli_curl_api eli_curl_fns;
/* Loads libcurl.so.4 once. EL_ERR_UNAVAILABLE with a message if it cannot. */
el_status eli_curl_load(struct el_error *err);

#ifndef ELI_CURL_DL_IMPL
/* curl.h defines the variadic ones as pass-through macros */
#    undef curl_easy_setopt
#    undef curl_easy_getinfo
#    undef curl_multi_setopt
#    define curl_global_init         (eli_curl_fns.global_init)
#    define curl_global_cleanup      (eli_curl_fns.global_cleanup)
#    define curl_easy_init           (eli_curl_fns.easy_init)
#    define curl_easy_cleanup        (eli_curl_fns.easy_cleanup)
#    define curl_easy_setopt         (eli_curl_fns.easy_setopt)
#    define curl_easy_getinfo        (eli_curl_fns.easy_getinfo)
#    define curl_easy_perform        (eli_curl_fns.easy_perform)
#    define curl_easy_strerror       (eli_curl_fns.easy_strerror)
#    define curl_multi_init          (eli_curl_fns.multi_init)
#    define curl_multi_cleanup       (eli_curl_fns.multi_cleanup)
#    define curl_multi_add_handle    (eli_curl_fns.multi_add_handle)
#    define curl_multi_remove_handle (eli_curl_fns.multi_remove_handle)
#    define curl_multi_perform       (eli_curl_fns.multi_perform)
#    define curl_multi_poll          (eli_curl_fns.multi_poll)
#    define curl_multi_info_read     (eli_curl_fns.multi_info_read)
#    define curl_multi_setopt        (eli_curl_fns.multi_setopt)
#    define curl_slist_append        (eli_curl_fns.slist_append)
#    define curl_slist_free_all      (eli_curl_fns.slist_free_all)
#endif

#endif
