/* linalg_int.h - the library's door to GSL (src/model/linalg.c): the switch
 * that keeps GSL from aborting the host. Model is the lowest layer that uses
 * GSL, so every GSL user (model, fit, sr, method) can reach this header. */
#ifndef ELI_LINALG_INT_H
#define ELI_LINALG_INT_H

#include <stddef.h>

/* Turns off GSL's process-wide abort-on-error handler, once per process
 * (pthread_once). Call it before any GSL function: GSL reports through its
 * status codes after it, and every caller checks them. Thread-safe. */
void eli_gsl_init(void);

#endif
