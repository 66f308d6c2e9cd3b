/* common.h - helpers shared by the unit tests. */
#ifndef NNRUN_TESTS_COMMON_H
#define NNRUN_TESTS_COMMON_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "nnrun/graph.h"
#include "nnrun/spec.h"

/* Parses and validates yaml (named "t.yaml" in messages); fails the test on error. */
struct nn_spec *t_spec(const char *yaml);
/* Same, plus builds the graph into g. */
struct nn_spec *t_model(const char *yaml, struct nn_graph *g);
/* Runs parsing, validation and graph building; returns all error lines joined
 * by newlines (static buffer), or NULL when the spec is fine. */
const char *t_errors(const char *yaml);
/* Uniform values in [lo, hi) from a fixed seed. */
void t_fill(float *p, size_t n, float lo, float hi, uint64_t seed);
/* n 10x10 images whose class (0..9) is the brightest row band, with noise;
 * the draws come from (seed, stream 3). */
struct nn_dataset;
void t_row_bands(struct nn_dataset *ds, size_t n, uint64_t seed);
/* Runs a suite; returns the process exit status. */
int t_run(Suite *s);
/* Path of the real Fashion-MNIST directory, or NULL (then tests needing it
 * skip, unless NNRUN_REQUIRE_DATA=1, when they fail). */
int t_have_data(void);

#endif
