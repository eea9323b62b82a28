/* test_seal_util.c: a small run directory, keys and file edits for the seal tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "evidence/archive.h"
#include "evidence/sign.h"
#include "test_seal_util.h"

char *tu_tmpdir(void)
{
    char tmpl[] = "/tmp/assay-seal-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

void tu_rm_rf(const char *path)
{
    struct assay_error err = {0};
    assert_int_equal(evidence_archive_remove_tree(path, &err), 0);
}

static void mkparents(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(buf, 0755) != 0)
            assert_int_equal(errno, EEXIST);
        *s = '/';
    }
}

void tu_write(const char *dir, const char *rel, const char *content)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    mkparents(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}

char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

char *tu_read_rel(const char *dir, const char *rel, size_t *len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *s = tu_read(path, len);
    assert_non_null(s);
    return s;
}

char *tu_make_run(const char *base)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", base, TU_RUN_ID);
    assert_int_equal(mkdir(dir, 0755), 0);
    tu_write(dir, "run.json",
             "{\"schema_version\": 1, \"kind\": \"run\", \"id\": \"" TU_RUN_ID "\",\n"
             " \"started\": \"2026-11-28T02:40:08.123Z\", \"finished\": \"" TU_FINISHED "\",\n"
             " \"devices\": [{\"id\": \"dev-a\", \"testcases\": []}], \"exit_code\": 1}\n");
    char jpath[PATH_MAX + 16];
    snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", dir);
    struct journal j;
    struct assay_error err = {0};
    assert_int_equal(journal_open(&j, jpath, &err), 0);
    json_t *lines[3] = {
        json_pack("{s:s, s:s}", "type", "run-start", "id", TU_RUN_ID),
        json_pack("{s:s, s:s, s:i, s:{s:s, s:s}}", "type", "testcase", "device", "dev-a", "index",
                  0, "testcase", "id", "mqtt.default-credentials", "verdict", "FAIL"),
        json_pack("{s:s}", "type", "run-end"),
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(journal_append(&j, lines[i], &err), 0);
        json_decref(lines[i]);
    }
    journal_close(&j);
    tu_write(dir, "devices/dev-a/transcript.jsonl",
             "{\"proto\":\"mqtt\",\"dir\":\"out\",\"event\":\"connect\",\"user\":\"admin\"}\n"
             "{\"proto\":\"mqtt\",\"dir\":\"in\",\"event\":\"connack\",\"code\":0}\n");
    tu_write(dir, "devices/dev-a/observations/mqtt.default-credentials.json",
             "{\"accepts_anything\": false, \"attempts\": [{\"user\": \"admin\", \"accepted\": "
             "true}]}\n");
    return strdup(dir);
}

char *tu_keygen(const char *dir, const char *name, const char *passphrase, char fpr[65])
{
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%s/%s", dir, name);
    struct assay_error err = {0};
    int rc = sign_keygen(prefix, passphrase, fpr, &err);
    if (rc)
        print_error("keygen: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return strdup(prefix);
}

void tu_flip(const char *dir, const char *rel, size_t offset)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, (off_t)offset), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)offset), 1);
    close(fd);
}

void tu_replace(const char *dir, const char *rel, const char *from, const char *to)
{
    size_t len;
    char *s = tu_read_rel(dir, rel, &len);
    char *at = strstr(s, from);
    assert_non_null(at);
    size_t head = (size_t)(at - s), fl = strlen(from), tl = strlen(to);
    char *out = malloc(len - fl + tl + 1);
    memcpy(out, s, head);
    memcpy(out + head, to, tl);
    memcpy(out + head + tl, at + fl, len - head - fl + 1);
    tu_write(dir, rel, out);
    free(out);
    free(s);
}
