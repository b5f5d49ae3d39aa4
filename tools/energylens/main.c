/* main.c - `energylens <command>`: dispatches to one function per command
 * (git's builtin table). Each command parses its own options, calls only the
 * public API, prints data to stdout and diagnostics to stderr, and returns an
 * exit code from enum cli_exit. */
#include "cli.h"

#include <locale.h>
#include <string.h>

/* The command table; `completion` generates the shell completions from it.
 * A NULL summary hides a command from the usage text. */
const struct cli_command cli_commands[] = {
    {"demo", cmd_demo, "fit one ML.ENERGY deployment from the shipped data and pick its config"},
    {"fit", cmd_fit, "fit a model (EnergyLens-12 by default) to measurement files"},
    {"predict", cmd_predict, "predict energy (or the model's target) for every row of a file"},
    {"select", cmd_select, "rank a configuration space by predicted energy; Pareto front"},
    {"next", cmd_next, "propose the next configurations to measure, and when to stop"},
    {"explain", cmd_explain, "parameters and their meaning, energy split, TP vs PP doubling"},
    {"evaluate", cmd_evaluate, "score a model on measured data (MAPE, R^2, ranking metrics)"},
    {"templates", cmd_templates, "list the built-in formula templates"},
    {"profile", cmd_profile, "measure a sweep plan against a live server (energy, latency)"},
    {"meters", cmd_meters, "list the energy meters this machine has, and why others are absent"},
    {"merge", cmd_merge, "join profile output directories (Slurm shards) into one"},
    {"discover", cmd_discover, "symbolic regression: a Pareto front of formulas for a column"},
    {"bench", cmd_bench, "run the paper's evaluation protocols; markdown tables or JSON"},
    {"report", cmd_report, "one self-contained HTML page: charts, formula, ranked configs"},
    {"prior", cmd_prior, "learn a prior over EnergyLens-12's parameters from measurements"},
    {"completion", cmd_completion, NULL},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

static void usage(FILE *f)
{
    fprintf(f, "usage: energylens <command> [options]\n\n"
               "EnergyLens fits interpretable closed-form energy models of LLM inference serving\n"
               "and picks the energy-optimal deployment configuration.\n\ncommands:\n");
    for (size_t i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].summary)
            fprintf(f, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(f, "\n'energylens <command> --help' describes a command's options.\n"
               "\nexit codes: 0 ok, 1 usage, 2 I/O error, 3 bad input data, formula, model or\n"
               "            plan file, 4 numeric failure, 5 backend unavailable (also a profile\n"
               "            in which every point failed), 130 profile interrupted; the README's\n"
               "            table says what each covers\n");
}

int main(int argc, char **argv)
{
    /* Numbers are read and written in the "C" locale whatever the user's. */
    setlocale(LC_ALL, "C");
    cli_stdout_init();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return cli_close_stdout(NULL, CLI_OK);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("energylens %s (library %s)\n", EL_VERSION_STRING, el_version());
        return cli_close_stdout(NULL, CLI_OK);
    }
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].name, cmd) == 0)
            return cli_close_stdout(cli_commands[i].name, cli_commands[i].fn(argc - 1, argv + 1));
    cli_msg(NULL, "unknown command '%s'", cmd);
    fputc('\n', stderr);
    usage(stderr);
    return CLI_USAGE;
}
