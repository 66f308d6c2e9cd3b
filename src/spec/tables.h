/* tables.h - the key tables of the spec's sections, shared by the validator
 * (validate.c) and the writer of resolved specs (emit.c).  Internal to
 * src/spec/. */
#ifndef NNRUN_SPEC_TABLES_H
#define NNRUN_SPEC_TABLES_H

#include "nnrun/spec.h"

struct nn_spec_table {
    const struct nn_arg_desc *keys;
    int n;
};

extern const struct nn_arg_desc nn_spec_data_keys[], nn_spec_train_keys[],
    nn_spec_early_keys[];
extern const int nn_spec_n_data_keys, nn_spec_n_train_keys, nn_spec_n_early_keys;
extern const struct nn_arg_desc nn_spec_augment_keys[];   /* data.augment */
extern const int nn_spec_n_augment_keys;
extern const struct nn_spec_table nn_spec_optim_tables[NN_OPT_COUNT];
extern const struct nn_spec_table nn_spec_lr_tables[NN_LR_COUNT];   /* train.lr_schedule */

/* Decodes the UTF-8 character at s: its length in bytes, with *cp the code
 * point, or 0 when s does not start a valid character (a stray continuation
 * byte, an overlong form, a surrogate, beyond U+10FFFF, a cut sequence). */
int nn_spec_utf8_char(const unsigned char *s, long *cp);
/* Characters that a spec's text may not hold: C0 and C1 controls (tab, line
 * feed, carriage return, NEL ...), DEL, and the line and paragraph separators.
 * YAML folds or rejects them, so they would not read back from the resolved
 * spec as they were, and they break log lines and file names. */
int nn_spec_forbidden_char(long cp);

#endif
