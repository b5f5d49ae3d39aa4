/* fuzz_plan.c - libFuzzer target for profile plans and the Slurm emitter:
 * any bytes as a plan must give EL_OK or an error with a message, never a
 * crash, a leak, a hang or undefined behaviour (YAML bombs and deep nesting
 * are refused while parsing). A plan that loads is emitted as a Slurm
 * script, which must hold no control character but newlines and tabs: every
 * value reaches a shell. Replayed from tests/fuzz/corpus/plan/ by every
 * build. */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_plan *p = NULL;
    struct el_error err;
    memset(&err, 0, sizeof err);
    el_status st = el_plan_parse((const char *)data, size, "fuzz.yaml", &p, &err);
    if (st != EL_OK) {
        if (err.text[0] == '\0')
            abort(); /* every failure carries a message */
        return 0;
    }
    for (size_t i = 0; i < el_plan_npoints(p); i++)
        if (!el_plan_point_key(p, i))
            abort();
    char *script = NULL;
    static const char *const sbatch[] = {"--time=01:00:00"};
    if (el_plan_emit_slurm(p, "plan.yaml", "energylens", sbatch, 1, &script, &err) == EL_OK) {
        for (const unsigned char *c = (const unsigned char *)script; *c; c++)
            if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
                abort(); /* a control byte would reach the shell */
        el_free(script);
    } else if (err.text[0] == '\0') {
        abort();
    }
    el_plan_destroy(p);
    return 0;
}
