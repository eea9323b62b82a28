/* readfile.c: reading a profile, lib or data file whole, with a size limit (see sandbox.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/sandbox.h"

int sandbox_read_file(const char *path, char **out, size_t *len, struct assay_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return assay_fail(err, ASSAY_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return assay_fail(err, ASSAY_EIO, "%s: not a regular file", path);
    }
    size_t want =
        (size_t)st.st_size > SANDBOX_MAX_SOURCE ? SANDBOX_MAX_SOURCE + 1 : (size_t)st.st_size;
    char *buf = malloc(want + 1);
    if (!buf) {
        fclose(f);
        return assay_fail(err, ASSAY_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, want, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > SANDBOX_MAX_SOURCE) {
        free(buf);
        return assay_fail(err, ASSAY_EIO, "%s: %s", path,
                          bad ? "read error" : "larger than the 1 MiB limit");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
