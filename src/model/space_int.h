/* space_int.h - read access to a configuration space's internals for the
 * selection code (select.c) and the unit tests: axis values, constraint
 * texts, and the limits el_space_* enforce. */
#ifndef ELI_SPACE_INT_H
#define ELI_SPACE_INT_H

#include <energylens/energylens.h>
#include <stddef.h>

#define ELI_SPACE_MAX_AXES        64       /* axes per space */
#define ELI_SPACE_MAX_CONSTRAINTS 256      /* constraints per space */
#define ELI_SPACE_MAX_VALUES      1000000  /* values per axis */
#define ELI_SPACE_MAX_POINTS      10000000 /* points enumerated, before constraints */
#define ELI_SPACE_NAME_MAX        63       /* bytes in an axis name */
#define ELI_SPACE_YAML_MAX_BYTES  (1u << 20)

/* Index of the axis called `name`, or -1. */
long eli_space_axis_index(const el_space *s, const char *name);
/* Values of axis k, ascending and distinct; *n gets their count. NULL (and
 * *n = 0) when k is out of range. Borrowed until the axis is replaced. */
const double *eli_space_axis_values(const el_space *s, size_t k, size_t *n);
size_t eli_space_nconstraints(const el_space *s);
/* The text of constraint k as given (trimmed), or NULL. Borrowed. */
const char *eli_space_constraint_text(const el_space *s, size_t k);

/* Points start..start+m-1 of the enumeration (first axis slowest) into
 * cols[axis][0..m), keep[r] = 1 when point r satisfies every constraint.
 * lv and rv are scratch of m doubles. */
el_status eli_space_block(const el_space *s, size_t start, size_t m, double *const *cols,
                          unsigned char *keep, double *lv, double *rv);

#endif
