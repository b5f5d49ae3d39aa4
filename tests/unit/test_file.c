/* test_file.c - the one write path (el_file_write) and the one escaper
 * (el_text_escape): atomic replacement keeping permissions, writing through
 * symlinks (also dangling ones) without replacing the link, FIFOs and
 * character devices written in place (never turned into regular files),
 * directories refused, failures leaving neither a partial file nor a
 * temporary one, el_file_same, and escaping of control bytes and broken
 * UTF-8 in every library error message. */
#include "el_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <energylens/energylens.h>

#include "core/core_int.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/el_test_file_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Number of entries in dir other than . and .. */
static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_new_and_replace(void **state)
{
    (void)state;
    char p[300];
    struct el_error err;
    path_in(p, sizeof p, "a.txt");
    assert_int_equal(el_file_write(p, "one", 3, &err), EL_OK);
    assert_string_equal(slurp(p), "one");
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(el_file_write(p, "two!", 4, &err), EL_OK);
    assert_string_equal(slurp(p), "two!");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* permissions kept */
    assert_int_equal(el_file_write(p, "", 0, &err), EL_OK);
    assert_string_equal(slurp(p), "");
    assert_int_equal(entries(), 1); /* no temporary file left */
    unlink(p);
}

static void test_symlink_kept(void **state)
{
    (void)state;
    char target[300], link[300], dlink[300], dtarget[300];
    struct el_error err;
    path_in(target, sizeof target, "t.txt");
    path_in(link, sizeof link, "l.txt");
    assert_int_equal(el_file_write(target, "old", 3, &err), EL_OK);
    assert_int_equal(symlink("t.txt", link), 0);
    assert_int_equal(el_file_write(link, "new", 3, &err), EL_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* still a link */
    assert_string_equal(slurp(target), "new");
    /* a dangling relative link: its target is created, the link stays */
    path_in(dlink, sizeof dlink, "d.txt");
    path_in(dtarget, sizeof dtarget, "created.txt");
    assert_int_equal(symlink("created.txt", dlink), 0);
    assert_int_equal(el_file_write(dlink, "made", 4, &err), EL_OK);
    assert_int_equal(lstat(dlink, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(dtarget), "made");
    assert_int_equal(el_file_same(dlink, dtarget), 1);
    assert_int_equal(el_file_same(link, dtarget), 0);
    assert_int_equal(el_file_same(link, "/nonexistent/x"), 0);
    /* a link loop is an error, not a hang */
    char loop[300];
    path_in(loop, sizeof loop, "loop");
    assert_int_equal(symlink("loop", loop), 0);
    assert_int_equal(el_file_write(loop, "x", 1, &err), EL_ERR_IO);
    assert_non_null(strstr(err.text, "loop"));
    unlink(loop);
    unlink(link);
    unlink(target);
    unlink(dlink);
    unlink(dtarget);
    assert_int_equal(entries(), 0);
}

static void test_fifo_in_place(void **state)
{
    (void)state;
    char p[300];
    struct el_error err;
    path_in(p, sizeof p, "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    int rd = open(p, O_RDONLY | O_NONBLOCK); /* a reader, so the write does not wait */
    assert_true(rd >= 0);
    assert_int_equal(el_file_write(p, "through", 7, &err), EL_OK);
    char buf[16] = {0};
    assert_int_equal(read(rd, buf, sizeof buf - 1), 7);
    assert_string_equal(buf, "through");
    close(rd);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode)); /* not replaced by a regular file */
    unlink(p);
}

static void test_char_device(void **state)
{
    (void)state;
    struct el_error err;
    struct stat st;
    /* private device nodes (as root), never the machine's: a regression
     * here must not turn /dev/null into a regular file */
    char p[300];
    path_in(p, sizeof p, "null");
    if (mknod(p, S_IFCHR | 0600, makedev(1, 3)) != 0) {
        fprintf(stderr, "(skipping the private device nodes: %s)\n", strerror(errno));
        return;
    }
    assert_int_equal(el_file_write(p, "x", 1, &err), EL_OK); /* swallowed */
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    unlink(p);
    /* a full device: the write fails with the system's reason and the node
     * stays a character device */
    path_in(p, sizeof p, "full");
    assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(1, 7)), 0);
    assert_int_equal(el_file_write(p, "data", 4, &err), EL_ERR_IO);
    assert_non_null(strstr(err.text, "No space left on device"));
    assert_non_null(strstr(err.text, p));
    assert_string_equal(err.file, p);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    unlink(p);
}

static void test_refusals(void **state)
{
    (void)state;
    char p[300];
    struct el_error err;
    path_in(p, sizeof p, "sub");
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(el_file_write(p, "x", 1, &err), EL_ERR_IO);
    assert_non_null(strstr(err.text, "Is a directory"));
    rmdir(p);
    path_in(p, sizeof p, "missing/x.json");
    assert_int_equal(el_file_write(p, "x", 1, &err), EL_ERR_IO);
    assert_non_null(strstr(err.text, "No such file or directory"));
    assert_int_equal(el_file_write(NULL, "x", 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_file_write("", "x", 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(el_file_write(p, NULL, 1, &err), EL_ERR_INVALID_ARG);
    assert_int_equal(entries(), 0);
}

static void test_temp_names(void **state)
{
    (void)state;
    /* what a killed writer leaves, and what profile's clean-up removes */
    assert_true(eli_is_temp_name(".measurements.csv.tmp-123-0"));
    assert_true(eli_is_temp_name(".a.tmp-1-99"));
    assert_false(eli_is_temp_name("measurements.csv"));
    assert_false(eli_is_temp_name(".measurements.csv.tmp-123"));
    assert_false(eli_is_temp_name(".measurements.csv.tmp-123-"));
    assert_false(eli_is_temp_name(".x.tmp-12a-3"));
    assert_false(eli_is_temp_name(".tmp-1-2"));
    assert_false(eli_is_temp_name("a.tmp-1-2"));
    assert_false(eli_is_temp_name(NULL));
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    el_text_escape(out, sizeof out,
                   "a\x01"
                   "b\nc\td\x7f");
    assert_string_equal(out, "a\\x01b\\nc\\td\\x7F");
    el_text_escape(out, sizeof out, "caf\xc3\xa9 \xe2\x82\xac ok"); /* valid UTF-8 kept */
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x82\xac ok");
    el_text_escape(out, sizeof out, "half \xe2\x82"); /* cut-off sequence */
    assert_string_equal(out, "half \\xE2\\x82");
    el_text_escape(out, sizeof out, "\x80stray \xc0\xaf overlong");
    assert_string_equal(out, "\\x80stray \\xC0\\xAF overlong");
    el_text_escape(out, sizeof out,
                   "csi \xc2\x9b"
                   "31m"); /* C1 control */
    assert_string_equal(out, "csi \\xC2\\x9B31m");
    el_text_escape(out, sizeof out, "\xed\xa0\x80"); /* a surrogate */
    assert_string_equal(out, "\\xED\\xA0\\x80");
    /* truncation never cuts an escape or a character */
    assert_int_equal(el_text_escape(out, 6, "ab\x01xyz"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(el_text_escape(out, 5, "ab\xc3\xa9\xc3\xa9"), 4);
    assert_string_equal(out, "ab\xc3\xa9");
    assert_int_equal(el_text_escape(out, 1, "abc"), 0);
    assert_string_equal(out, "");
    el_text_escape(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

static void test_messages_escaped(void **state)
{
    (void)state;
    /* a library error that echoes a hostile file name stays one clean line */
    char p[300];
    path_in(p, sizeof p, "no\x1b[2Jsuch\n\xff.csv");
    el_reader *r = NULL;
    assert_int_equal(el_reader_create(&r), EL_OK);
    el_table *t = NULL;
    struct el_error err;
    assert_int_equal(el_reader_read(r, p, &t, &err), EL_ERR_IO);
    assert_null(strchr(err.text, '\x1b'));
    assert_null(strchr(err.text, '\n'));
    assert_null(strchr(err.text, '\xff'));
    assert_non_null(strstr(err.text, "no\\x1B[2Jsuch\\n\\xFF.csv"));
    el_reader_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_replace),  cmocka_unit_test(test_symlink_kept),
        cmocka_unit_test(test_fifo_in_place),    cmocka_unit_test(test_char_device),
        cmocka_unit_test(test_refusals),         cmocka_unit_test(test_escape),
        cmocka_unit_test(test_messages_escaped), cmocka_unit_test(test_temp_names),
    };
    return el_run_tests(tests, setup, teardown);
}
