/* collect.c - `nnrun collect` (being written). */
#include <stdio.h>

#include "cli.h"

int cmd_collect(int argc, char **argv, int first)
{
    (void)argc;
    (void)argv;
    (void)first;
    fprintf(stderr, "nnrun: error: 'collect' is not implemented yet\n");
    return EXIT_USAGE;
}
