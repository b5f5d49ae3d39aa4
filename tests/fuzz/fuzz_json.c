/* fuzz_json.c - libFuzzer target for model files: any input must either be
 * rejected with a message or give a model that serialises and reloads. */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    el_model *m = NULL;
    struct el_error err;
    if (el_model_from_json(text, &m, &err) == EL_OK) {
        char *json = el_model_to_json(m);
        el_model *m2 = NULL;
        if (!json || el_model_from_json(json, &m2, &err) != EL_OK)
            abort(); /* a loaded model must serialise and reload */
        el_model_destroy(m2);
        el_free(json);
        el_model_destroy(m);
    }
    free(text);
    return 0;
}
