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
           "  --force              write OUT's files even when OUT is one of the DIRs\n"
           "  -q, --quiet          no summary\n");
}

int cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'}, {"output", 1, NULL, 'o'}, {"quiet", 0, NULL, 'q'},
        CLI_FORCE_LONGOPT,      {NULL, 0, NULL, 0},
    };
    const char *cmd = "merge", *out = NULL;
    int quiet = 0, force = 0;
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
        case OPT_FORCE:
            force = 1;
            break;
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!out)
        return cli_usage_error(cmd, "-o OUT is required");
    if (optind >= argc)
        return cli_usage_error(cmd, "expected at least one directory");
    static const char *const names[] = {"measurements.csv", "failures.csv"};
    for (size_t k = 0; k < 2; k++) {
        /* OUT's files may be none of the inputs' (merging a shard into itself) */
        char outp[4096];
        snprintf(outp, sizeof outp, "%s/%s", out, names[k]);
        for (int i = optind; i < argc; i++) {
            char inp[4096];
            snprintf(inp, sizeof inp, "%s/%s", argv[i], names[k]);
            const char *in1[1] = {inp};
            int orc = cli_output_check(cmd, outp, in1, 1, force);
            if (orc != CLI_OK)
                return orc;
        }
    }
    struct el_error err;
    if (el_profile_merge((const char *const *)(argv + optind), (size_t)(argc - optind), out,
                         &err) != EL_OK)
        return cli_fail_err(cmd, &err);
    if (!quiet)
        cli_msg(cmd, "merged %d director%s into %s", argc - optind,
                argc - optind == 1 ? "y" : "ies", out);
    return CLI_OK;
}
