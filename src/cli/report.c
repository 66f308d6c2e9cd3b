/* report.c - `nnrun report` (being written). */
#include <stdio.h>

#include "cli.h"

int cmd_report(int argc, char **argv, int first)
{
    (void)argc;
    (void)argv;
    (void)first;
    fprintf(stderr, "nnrun: error: 'report' is not implemented yet\n");
    return EXIT_USAGE;
}
