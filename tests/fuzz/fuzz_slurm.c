/* fuzz_slurm.c - libFuzzer target for the Slurm emitter (el_plan_emit_slurm).
 * The input is NUL-separated fields: the plan text, then optionally the
 * plan path, the energylens path, an output override (empty: none) and
 * sbatch options, so both the plan's values and the caller's arguments are
 * hostile. An emitted script must hold no control byte but newlines, and
 * every value must reach the shell single-quoted: each line outside the
 * plan's verbatim slurm.setup block, with its quoted words reduced to Q,
 * must be one of the emitter's fixed lines, and the quoted words must decode
 * back to the values given (plan path, output, sbatch options). A refusal
 * must carry a message. Replayed from tests/fuzz/corpus/slurm/. */
#include <energylens/energylens.h>

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 12

/* The non-comment lines the emitter writes, quoted words as Q. */
static const char *const skeleton[] = {
    "^set -euo pipefail$",
    "^if \\[ -z \"\\$\\{SLURM_ARRAY_TASK_ID:-\\}\" \\]; then$",
    "^    if \\[ -n \"\\$\\{SLURM_JOB_ID:-\\}\" \\]; then$",
    "^        echo \"energylens: submit this script with 'bash \\$0', not sbatch: it submits "
    "one job array per GPU count\" >&2$",
    "^        exit 1$",
    "^    fi$",
    "^    mkdir -p -- Q$",
    "^    sbatch( Q)* \"\\$@\" Q --array=[0-9]+(,[0-9]+)* Q -- \"\\$0\"$",
    "^    exit 0$",
    "^fi$",
    "^exec( Q)* Q profile Q -o Q --shard \"\\$SLURM_ARRAY_TASK_ID\"$",
};

/* Sized for the line being lexed: a shape is never longer than its line and
 * a line of n bytes holds at most n words, so no input outgrows them. */
struct line {
    char *shape; /* the line with each quoted word as Q */
    char **word;
    size_t nword;
};

/* Lexes one line as a POSIX shell would for the quoting the emitter uses:
 * '...' spans and \' outside quotes join into one word (Q), "..." spans are
 * kept as written. Returns 0 when a quote is left open at the end of the
 * line (a value spanning lines). */
static int lex(const char *s, size_t n, struct line *ln)
{
    size_t o = 0, i = 0;
    ln->nword = 0;
    ln->shape = malloc(n + 1);
    ln->word = malloc((n + 1) * sizeof *ln->word);
    if (!ln->shape || !ln->word)
        abort();
    int inword = 0;
    char *w = NULL;
    size_t wl = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\'' || (c == '\\' && i + 1 < n && s[i + 1] == '\'')) {
            if (!inword) {
                w = calloc(n + 1, 1);
                if (!w)
                    abort();
                ln->word[ln->nword++] = w;
                wl = 0;
                ln->shape[o++] = 'Q';
                inword = 1;
            }
            if (c == '\\') {
                w[wl++] = '\'';
                i += 2;
                continue;
            }
            size_t j = i + 1;
            while (j < n && s[j] != '\'')
                w[wl++] = s[j++];
            if (j == n)
                return 0;
            i = j + 1;
            continue;
        }
        inword = 0;
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            if (j >= n)
                return 0;
            memcpy(ln->shape + o, s + i, j - i + 1);
            o += j - i + 1;
            i = j + 1;
            continue;
        }
        ln->shape[o++] = c;
        i++;
    }
    ln->shape[o] = '\0';
    return 1;
}

static void line_free(struct line *ln)
{
    for (size_t i = 0; i < ln->nword; i++)
        free(ln->word[i]);
    free(ln->word);
    free(ln->shape);
    ln->word = NULL;
    ln->shape = NULL;
    ln->nword = 0;
}

static void check_script(const char *script, const el_plan *p, const char *plan_path,
                         const char *const *sbatch, size_t nsbatch)
{
    static regex_t re[sizeof skeleton / sizeof *skeleton];
    static int compiled;
    const size_t nre = sizeof skeleton / sizeof *skeleton;
    if (!compiled) {
        for (size_t i = 0; i < nre; i++)
            if (regcomp(&re[i], skeleton[i], REG_EXTENDED | REG_NOSUB) != 0)
                abort();
        compiled = 1;
    }
    for (const unsigned char *c = (const unsigned char *)script; *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
            abort(); /* a control byte would reach the shell */
    if (strncmp(script, "#!/bin/bash\n", 12) != 0)
        abort();
    int in_setup = 0, saw_exec = 0, saw_mkdir = 0;
    struct line *ln = malloc(sizeof *ln);
    if (!ln)
        abort();
    for (const char *s = script; *s;) {
        const char *e = strchr(s, '\n');
        if (!e)
            abort(); /* every line ends with a newline */
        size_t n = (size_t)(e - s);
        if (s[0] == '#') {
            if (strncmp(s, "# environment setup", 19) == 0)
                in_setup = 1; /* slurm.setup lines: verbatim shell by design */
        } else if (!in_setup || e[1] == '\0') {
            /* setup lines run up to the job's exec, always the last line: a
             * setup line may itself begin with "exec" */
            in_setup = 0;
            if (!lex(s, n, ln))
                abort(); /* a quote left open: a value spans lines */
            size_t k = 0;
            while (k < nre && regexec(&re[k], ln->shape, 0, NULL, 0) != 0)
                k++;
            if (k == nre)
                abort(); /* an unquoted value made a line of its own shape */
            const char *out = el_plan_output(p);
            if (strncmp(ln->shape, "    mkdir", 9) == 0) {
                saw_mkdir = 1;
                if (ln->nword != 1 || strcmp(ln->word[0], out) != 0)
                    abort();
            }
            if (strncmp(ln->shape, "    sbatch", 10) == 0) {
                /* the caller's options are the quoted words before "$@" */
                size_t before = 0;
                for (const char *q = ln->shape; *q && strncmp(q, "\"$@\"", 4) != 0; q++)
                    before += *q == 'Q';
                if (before < nsbatch)
                    abort();
                for (size_t i = 0; i < nsbatch; i++)
                    if (strcmp(ln->word[before - nsbatch + i], sbatch[i]) != 0)
                        abort();
            }
            if (strncmp(ln->shape, "exec", 4) == 0) {
                saw_exec = 1;
                if (ln->nword < 3 || strcmp(ln->word[ln->nword - 2], plan_path) != 0 ||
                    strcmp(ln->word[ln->nword - 1], out) != 0)
                    abort();
            }
            line_free(ln);
        }
        s = e + 1;
    }
    free(ln);
    if (!saw_exec || !saw_mkdir)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fields: plan text, plan path, exe, output override, sbatch options */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *field[MAX_FIELDS];
    size_t len[MAX_FIELDS], nf = 0;
    for (size_t i = 0, start = 0; i <= size && nf < MAX_FIELDS; i++) {
        if (i == size || copy[i] == '\0') {
            field[nf] = copy + start;
            len[nf++] = i - start;
            start = i + 1;
        }
    }
    const char *plan_path = nf > 1 ? field[1] : "plan.yaml";
    const char *exe = nf > 2 ? field[2] : "energylens";
    const char *const *sbatch = nf > 4 ? field + 4 : NULL;
    size_t nsbatch = nf > 4 ? nf - 4 : 0;

    el_plan *p = NULL;
    struct el_error err;
    memset(&err, 0, sizeof err);
    if (el_plan_parse(field[0], len[0], "fuzz.yaml", &p, &err) != EL_OK) {
        if (err.text[0] == '\0')
            abort(); /* every failure carries a message */
        free(copy);
        return 0;
    }
    if (nf > 3 && field[3][0] && el_plan_set_output(p, field[3]) != EL_OK)
        abort();
    char *script = NULL;
    memset(&err, 0, sizeof err);
    if (el_plan_emit_slurm(p, plan_path, exe, sbatch, nsbatch, &script, &err) == EL_OK) {
        check_script(script, p, plan_path, sbatch, nsbatch);
        el_free(script);
    } else if (err.text[0] == '\0' || script != NULL) {
        abort();
    }
    el_plan_destroy(p);
    free(copy);
    return 0;
}
