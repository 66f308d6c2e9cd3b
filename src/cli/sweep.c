/* sweep.c - `nnrun sweep` (being written). */
#include <stdio.h>

#include "cli.h"

int cmd_sweep(int argc, char **argv, int first)
{
    (void)argc;
    (void)argv;
    (void)first;
    fprintf(stderr, "nnrun: error: 'sweep' is not implemented yet\n");
    return EXIT_USAGE;
}
