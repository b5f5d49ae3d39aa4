/* cmd_prior.c - `energylens prior`: learns a prior over EnergyLens-12's
 * parameters from measurement files (`build`) and prints one (`show`). */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void prior_help(void)
{
    printf("usage: energylens prior build DATA.csv... [--bundled] -o PRIOR.json [options]\n"
           "       energylens prior show [PRIOR.json|default]\n\n"
           "build: fits EnergyLens-12 to every deployment (rows sharing model, gpu, quant,\n"
           "task; >= 8 rows) of the files and learns a distribution over its parameters on\n"
           "the scales where they behave (exponents linear, regularisers log, energy scales\n"
           "as the log of their term's share of the energy), globally and conditioned on\n"
           "GPU family, model size class and dense/MoE. The prior's strength is chosen by\n"
           "leave-one-family-out inside the files. `fit --prior FILE` uses it\n"
           "(docs/PRIOR.md describes the file and the method).\n"
           "show: the prior's corpus, strength and global distributions ('default': the\n"
           "one embedded in the library).\n\n"
           "options (build):\n"
           "  -o, --output FILE    write the prior (JSON) here (required; atomically, never\n"
           "                       onto an input file unless --force)\n" CLI_FORCE_HELP
           "  --bundled            learn from the shipped public data (data/)\n"
           "  --group-by COLS      deployment key (default: model,gpu,quant,task, those present)\n"
           "  --seed N             seed of the fits and of the strength selection (default 0)\n"
           "  -q, --quiet          no summary\n\n%s",
           CLI_DATA_HELP);
}

enum { OPT_BUNDLED_P = OPT_FIRST_FREE, OPT_GROUP_BY, OPT_SEED_P };

static void show(FILE *f, const el_prior *p)
{
    char *js = el_prior_to_json(p);
    if (js)
        fputs(js, f);
    el_free(js);
}

static int prior_build(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", 0, NULL, 'h'},
        {"output", 1, NULL, 'o'},
        {"quiet", 0, NULL, 'q'},
        {"bundled", 0, NULL, OPT_BUNDLED_P},
        {"group-by", 1, NULL, OPT_GROUP_BY},
        {"seed", 1, NULL, OPT_SEED_P},
        CLI_FORCE_LONGOPT,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "prior build";
    struct data_opts d;
    memset(&d, 0, sizeof d);
    const char *output = NULL, *group_by = NULL;
    unsigned long long seed = 0;
    int bundled = 0, force = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
        int h = data_opts_handle(&d, c, optarg, cmd);
        if (h < 0)
            return CLI_USAGE;
        if (h)
            continue;
        switch (c) {
        case 'h':
            prior_help();
            return CLI_OK;
        case 'o':
            output = optarg;
            break;
        case 'q':
            d.quiet = 1;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case OPT_BUNDLED_P:
            bundled = 1;
            break;
        case OPT_GROUP_BY:
            group_by = optarg;
            break;
        case OPT_SEED_P:
            if (!parse_u64(optarg, &seed))
                return cli_usage_error(cmd, "--seed '%s': expected a non-negative integer", optarg);
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!output)
        return cli_usage_error(cmd, "no output file (-o PRIOR.json)");
    if (optind >= argc && !bundled)
        return cli_usage_error(cmd, "no data file given (or --bundled)");
    if (bundled && (d.schema || d.nmaps || d.nwheres || d.nconsts))
        return cli_usage_error(cmd, "--bundled sets the data options of each file itself");
    int orc =
        cli_output_check(cmd, output, (const char *const *)(argv + optind), argc - optind, force);
    if (orc != CLI_OK)
        return orc;
    size_t nt = (bundled ? cli_nbundled : 0) + (size_t)(argc - optind), k = 0;
    el_table **tables = calloc(nt ? nt : 1, sizeof(el_table *));
    if (!tables)
        return cli_fail(cmd, EL_ERR_NOMEM, NULL);
    const char *req[1] = {"energy_j"};
    int rc = CLI_OK;
    if (bundled && !cli_datadir()) {
        free(tables);
        return cli_datadir_missing(cmd);
    }
    for (size_t b = 0; bundled && b < cli_nbundled; b++) {
        struct data_opts bd = d;
        bd.schema = cli_bundled[b].schema;
        for (size_t w = 0; cli_bundled[b].wheres[w]; w++)
            bd.wheres[bd.nwheres++] = cli_bundled[b].wheres[w];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", cli_datadir(), cli_bundled[b].file);
        const char *files[1] = {path};
        if ((rc = cli_read_tables(cmd, &bd, files, 1, req, 1, &tables[k])) != CLI_OK)
            goto done;
        k++;
    }
    for (int i = optind; i < argc; i++) {
        if ((rc = cli_read_tables(cmd, &d, (const char *const *)(argv + i), 1, req, 1,
                                  &tables[k])) != CLI_OK)
            goto done;
        k++;
    }
    struct el_error err;
    el_prior *p = NULL;
    el_status st = el_prior_build((const el_table *const *)tables, k, group_by, seed, &p, &err);
    if (st != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        goto done;
    }
    if (el_prior_save(p, output, &err) != EL_OK) {
        rc = cli_fail_err(cmd, &err);
        el_prior_destroy(p);
        goto done;
    }
    if (!d.quiet)
        printf("prior from %zu deployments, strength %g; wrote %s\n", el_prior_ndeployments(p),
               el_prior_strength(p), output);
    el_prior_destroy(p);
done:
    for (size_t i = 0; i < k; i++)
        el_table_destroy(tables[i]);
    free(tables);
    return rc;
}

int cmd_prior(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2) {
            prior_help();
            return CLI_USAGE;
        }
        prior_help();
        return CLI_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return prior_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0) {
        if (argc > 3)
            return cli_usage_error("prior show", "one prior file at most");
        struct el_error err;
        el_prior *p = NULL;
        el_status st = argc < 3 || strcmp(argv[2], "default") == 0
                           ? el_prior_default(&p, &err)
                           : el_prior_load(argv[2], &p, &err);
        if (st != EL_OK)
            return cli_fail_err("prior show", &err);
        show(stdout, p);
        el_prior_destroy(p);
        return CLI_OK;
    }
    return cli_usage_error("prior", "unknown subcommand '%s' (build, show)", argv[1]);
}
