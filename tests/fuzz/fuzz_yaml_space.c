/* fuzz_yaml_space.c - libFuzzer target for el_space_load_yaml: any bytes as
 * a space file must give EL_OK or an error with a message, never a crash,
 * a leak or undefined behaviour. Spaces that load are enumerated when small,
 * so constraints get evaluated too. tests/fuzz/run-fuzz.sh fuzzes it with
 * the corpus in tests/fuzz/corpus/yaml_space/; every build replays that
 * corpus through tests/fuzz/replay.c. */
#include <energylens/energylens.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the API reads a path, so the input goes through a temporary file */
    char path[] = "/tmp/el_fuzz_space_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    el_space *s = NULL;
    if (el_space_create(&s) == EL_OK) {
        struct el_error err;
        memset(&err, 0, sizeof err);
        el_status st = el_space_load_yaml(s, path, &err);
        if (st != EL_OK && err.text[0] == '\0')
            abort(); /* every failure carries a message */
        if (st == EL_OK && el_space_size(s) <= 1e5) {
            el_table *t = NULL;
            if (el_space_enumerate(s, &t, &err) == EL_OK && el_table_nrows(t) == 0)
                abort(); /* success means at least one point */
            el_table_destroy(t);
        }
        el_space_destroy(s);
    }
    unlink(path);
    return 0;
}
