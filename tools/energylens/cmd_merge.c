/* cmd_merge.c - `energylens merge`: joins the output directories of several
 * profiler runs (the shards of a Slurm job array) into one, with each point
 * once across measurements.csv and failures.csv. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <string.h>

static void merge_help(void)
{
    printf("usage: energylens merge DIR... -o OUT\n\n"
           "Joins DIR/measurements.csv and DIR/failures.csv of each profile output\n"
           "directory (e.g. OUT/shards/*) into OUT. A point measured in one shard and failed\n"
           "in another counts as measured; series and log paths are rewritten for OUT.\n\n"
           "options:\n"
           "  -o, --output OUT     the merged directory (required)\n"
           "  -q, --quiet          no summary\n");
}

int cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "merge", *out = NULL;
    int quiet = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            merge_help();
            return CLI_OK;
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!out)
        return cli_usage_error(cmd, "-o OUT is required");
    if (optind >= argc)
        return cli_usage_error(cmd, "expected at least one directory");
    struct el_error err;
    if (el_profile_merge((const char *const *)(argv + optind), (size_t)(argc - optind), out,
                         &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    if (!quiet)
        fprintf(stderr, "merged %d director%s into %s\n", argc - optind,
                argc - optind == 1 ? "y" : "ies", out);
    return CLI_OK;
}
