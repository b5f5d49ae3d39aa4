/* fuzz_expr.c - libFuzzer target for the formula parser, printer and
 * evaluator: any input must either fail to parse with a message, or parse,
 * print back to text that parses to the same size, and evaluate with its
 * gradient without crashing. */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"tp", "pp", "batch", "s_in", "s_out"};
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    el_expr *e = NULL;
    struct el_error err;
    if (el_expr_parse(text, vars, 5, &e, &err) == EL_OK) {
        char *printed = el_expr_to_string(e, EL_FMT_TEXT, NULL, 0);
        char *latex = el_expr_to_string(e, EL_FMT_LATEX, NULL, 0);
        char *sympy = el_expr_to_string(e, EL_FMT_SYMPY, NULL, 0);
        if (printed) {
            el_expr *e2 = NULL;
            el_status st = el_expr_parse(printed, vars, 5, &e2, &err);
            /* printing must round-trip; it may add parentheses, so a text at
             * the nesting limit may come back as EL_ERR_LIMIT */
            if (st != EL_OK && st != EL_ERR_LIMIT)
                abort();
            if (st == EL_OK && el_expr_size(e2) != el_expr_size(e))
                abort();
            el_expr_destroy(e2);
        }
        double cols[5][3] = {{1, 2, 4}, {1, 1, 2}, {1, 64, 512}, {128, 512, 2048}, {64, 256, 512}};
        const double *cp[5] = {cols[0], cols[1], cols[2], cols[3], cols[4]};
        size_t np = el_expr_nparams(e);
        double *params = calloc(np + 1, sizeof *params);
        double *jac = calloc(3 * (np + 1), sizeof *jac);
        double out[3];
        if (params && jac) {
            for (size_t k = 0; k < np; k++)
                params[k] = 0.5 + (double)k;
            el_expr_eval(e, cp, 3, params, out);
            el_expr_eval_grad(e, cp, 3, params, out, jac);
        }
        el_expr **terms = NULL;
        size_t nt = 0;
        if (el_expr_split_terms(e, &terms, &nt) == EL_OK) {
            for (size_t i = 0; i < nt; i++)
                el_expr_destroy(terms[i]);
            el_free(terms);
        }
        free(params);
        free(jac);
        el_free(printed);
        el_free(latex);
        el_free(sympy);
        el_expr_destroy(e);
    }
    free(text);
    return 0;
}
