/* provenance_files.c: the SHA-256 of every file a run used, for run.json's provenance. */
#include "evidence/provenance.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#define TREE_MAX_DEPTH 16
#define HASH_CHUNK 65536

int provenance_sha256_file(const char *path, char hex[65], struct assay_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return assay_fail(err, ASSAY_EIO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(HASH_CHUNK);
    int rc = 0;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        rc = assay_fail(err, ASSAY_ENOMEM, "%s: cannot start a digest", path);
    size_t n;
    while (!rc && (n = fread(buf, 1, HASH_CHUNK, f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1)
            rc = assay_fail(err, ASSAY_EIO, "%s: digest failed", path);
    if (!rc && ferror(f))
        rc = assay_fail(err, ASSAY_EIO, "%s: read error", path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!rc && EVP_DigestFinal_ex(ctx, md, &len) != 1)
        rc = assay_fail(err, ASSAY_EIO, "%s: digest failed", path);
    for (unsigned i = 0; !rc && i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    free(buf);
    fclose(f);
    return rc;
}

static bool listed(const json_t *files, const char *path)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *p = json_string_value(json_object_get(f, "path"));
        if (p && strcmp(p, path) == 0)
            return true;
    }
    return false;
}

int provenance_add_file(json_t *files, const char *path, const char *role, const char *sha256_hex,
                        struct assay_error *err)
{
    char real[PATH_MAX];
    if (realpath(path, real))
        path = real; /* one spelling per file, so that each is listed once */
    if (listed(files, path))
        return 0;
    char hex[65] = "";
    struct assay_error fe = {0};
    json_t *e;
    if (sha256_hex)
        snprintf(hex, sizeof(hex), "%s", sha256_hex);
    if (sha256_hex || provenance_sha256_file(path, hex, &fe) == 0)
        e = json_pack("{s:s, s:s, s:s}", "path", path, "role", role, "sha256", hex);
    else
        e = json_pack("{s:s, s:s, s:n, s:s}", "path", path, "role", role, "sha256", "error",
                      fe.msg);
    if (!e || json_array_append_new(files, e) != 0)
        return assay_fail(err, ASSAY_ENOMEM, "provenance: out of memory (or %s is not UTF-8)",
                          path);
    return 0;
}

static int walk(json_t *files, const char *dir, const char *role, int depth,
                struct assay_error *err)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return 0; /* a missing lib/ or data/ folder: nothing to list */
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof(path), "%s/%s", dir, name);
        bool skip = !strcmp(name, ".") || !strcmp(name, "..") || w < 0 ||
                    (size_t)w >= sizeof(path) || lstat(path, &st) != 0;
        if (!rc && !skip && S_ISDIR(st.st_mode) && depth < TREE_MAX_DEPTH)
            rc = walk(files, path, role, depth + 1, err);
        else if (!rc && !skip && S_ISREG(st.st_mode))
            rc = provenance_add_file(files, path, role, NULL, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

int provenance_add_tree(json_t *files, const char *dir, const char *role, struct assay_error *err)
{
    return walk(files, dir, role, 0, err);
}
