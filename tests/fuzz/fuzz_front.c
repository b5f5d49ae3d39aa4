/* fuzz_front.c - libFuzzer target for discover front files read as models
 * (el_model_load_entry): the first byte picks the entry (255: the file's
 * pick), the rest is the file. Any input must be refused with a message or
 * give a model that predicts a finite or a reported non-finite value,
 * serialises and reloads. Replayed from tests/fuzz/corpus/front/. */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    long k = data[0] == 255 ? -1 : (long)data[0];
    char path[] = "/tmp/el_fuzz_front_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t off = 1;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    el_model *m = NULL;
    struct el_error err;
    memset(&err, 0, sizeof err);
    el_status st = el_model_load_entry(path, k, &m, &err);
    unlink(path);
    if (st != EL_OK) {
        if (err.text[0] == '\0')
            abort();
        return 0;
    }
    char *json = el_model_to_json(m);
    el_model *m2 = NULL;
    if (!json || el_model_from_json(json, &m2, &err) != EL_OK)
        abort(); /* a loaded model must serialise and reload */
    el_free(json);
    el_model_destroy(m2);
    el_model_destroy(m);
    return 0;
}
