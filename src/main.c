/* main.c - the command line: argv -> subcommand -> exit status.
 *   0 success, 1 runtime failure (data, memory, NaN), 2 bad spec or usage,
 *   130 / 143 stopped by SIGINT / SIGTERM (a checkpoint was written).
 * Each subcommand is a file of src/cli/. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv, int first);
} commands[] = {
    {"train", cmd_train},   {"check", cmd_check},     {"bench", cmd_bench},
    {"eval", cmd_eval},     {"predict", cmd_predict}, {"sweep", cmd_sweep},
    {"collect", cmd_collect}, {"report", cmd_report},
};

int main(int argc, char **argv)
{
    /* past a file-size limit (ulimit -f) a write fails with EFBIG and is
     * reported like a full disk, instead of the signal ending nnrun silently */
    signal(SIGXFSZ, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_usage(stdout);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("nnrun %s\n", NNRUN_VERSION);
            return EXIT_OK;
        }
    }
    /* `nnrun SPEC` is `nnrun train SPEC` */
    if (argc > 1)
        for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
            if (!strcmp(argv[1], commands[k].name)) return commands[k].run(argc, argv, 2);
    return cmd_train(argc, argv, 1);
}
