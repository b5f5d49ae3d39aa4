/* cmd_templates.c - `energylens templates`: the built-in formulas with their
 * parameters, bounds and meanings. */
#include "cli.h"

#include <string.h>

int cmd_templates(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: energylens templates\n\nLists the built-in formula templates.\n");
        return CLI_OK;
    }
    const char *const *names = el_template_names();
    for (size_t i = 0; names[i]; i++) {
        el_model *m = NULL;
        struct el_error err;
        if (el_model_from_template(names[i], &m, &err) != EL_OK)
            return cli_fail_err("templates", &err);
        printf("%s: %s\n  %s = %s\n", names[i], el_template_description(names[i]),
               strcmp(names[i], "latency") == 0 ? "latency_s" : "energy_j", el_model_formula(m));
        for (size_t k = 0; k < el_model_nparams(m); k++) {
            double lo, hi;
            el_model_param_bounds(m, k, &lo, &hi);
            printf("    %-5s [%g, %g] start %g  %s\n", el_model_param_name(m, k), lo, hi,
                   el_model_param_start(m, k), el_model_param_meaning(m, k));
        }
        printf("\n");
        el_model_destroy(m);
    }
    return CLI_OK;
}
