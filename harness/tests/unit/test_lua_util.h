/*
 * test_lua_util.h: shared by the test_lua_*.c unit tests: a throwaway profiles
 * tree (lib/ and data/ linked to the real ones) and an obligation catalogue stub.
 */
#ifndef ASSAY_TEST_LUA_UTIL_H
#define ASSAY_TEST_LUA_UTIL_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REAL_PROFILES ASSAY_SOURCE_DIR "/profiles"

static const char *const KNOWN_OBLIGATIONS[] = {
    "PSTI-1", "PSTI-2", "PSTI-3", "PSTI-SOC", "EN-5.1-1", "EN-5.1-2", "EN-5.1-5", "EN-5.5-4", NULL};

static inline bool known_obligation(const char *id, void *ctx)
{
    (void)ctx;
    for (const char *const *k = KNOWN_OBLIGATIONS; *k; k++)
        if (strcmp(*k, id) == 0)
            return true;
    return false;
}

/* Creates <tmp>/lib and <tmp>/data as links to the real ones; fills root. */
static inline int tree_new(char *root, size_t size)
{
    snprintf(root, size, "/tmp/assay-lua-test-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char a[512], b[512];
    snprintf(a, sizeof(a), "%s/lib", root);
    snprintf(b, sizeof(b), "%s/data", root);
    if (symlink(REAL_PROFILES "/lib", a) != 0 || symlink(REAL_PROFILES "/data", b) != 0)
        return -1;
    return 0;
}

/* Writes text to <root>/<rel>, creating the directories on the way. */
static inline int tree_write(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static inline int tree_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tree_free(const char *root)
{
    nftw(root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
