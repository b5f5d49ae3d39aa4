/* linalg.c - the library's one door to GSL.
 *
 * GSL's default error handler aborts the process, which a library must not
 * do; GSL has only a process-wide handler, so it is switched off once, by
 * the first caller (documented in energylens.h), and every GSL status is
 * checked instead. Every function here, and every other GSL user in src/,
 * calls eli_gsl_init() before its first GSL call. */
#include "linalg_int.h"

#include <gsl/gsl_errno.h>
#include <pthread.h>

#include "../core/banned.h"

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
    gsl_set_error_handler_off();
}

void eli_gsl_init(void)
{
    pthread_once(&gsl_once, gsl_quiet);
}
