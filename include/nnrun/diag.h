/* diag.h - spec diagnostics: collected, not exited on.
 *
 * Each error carries the spec file and a position (line and column counted
 * from 1).  The top level prints them all as
 *   models/cnn.yaml:7:72: error: unknown activation 'tahn'; expected one of: ...
 * and exits with status 2.
 */
#ifndef NNRUN_DIAG_H
#define NNRUN_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* A position in a spec file, 1-based; line 0 means "no position".  A value
 * that came from the command line has override = k (the k-th --set, from 1):
 * its errors name the override instead of a file position (and add the
 * position when there is one: a layer of the file that the override
 * changed). */
struct nn_mark {
    int line, col;
    int override;
};

struct nn_diag {
    const char *file;   /* spec path, printed before every position */
    char **msgs;        /* formatted messages, one per error */
    int n_errors, cap;
    const char *const *overrides;   /* the --set texts, for marks with override > 0 */
    int n_overrides;
};

void nn_diag_init(struct nn_diag *d, const char *file);
void nn_diag_free(struct nn_diag *d);

/* Records an error at mark (printf-style message, no trailing newline). */
void nn_diag_error(struct nn_diag *d, struct nn_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints every recorded error to f. */
void nn_diag_print(const struct nn_diag *d, FILE *f);

/* The choice closest to word by edit distance, or NULL when none is close
 * enough to be a plausible typo (distance <= 2 and < half the word). */
const char *nn_suggest(const char *word, const char *const *choices, int n_choices);

/* Writes "a, b, c" for choices into buf. */
void nn_join(char *buf, size_t n, const char *const *choices, int n_choices);

#endif
