/* report_file.c: atomic write of a rendered report into a run directory (see report_file.h). */
#include "report_file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int report_file_write(const char *run_dir, const char *name, report_render_fn render, void *ctx,
                      struct assay_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", run_dir, name) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", run_dir, name) >= sizeof(tmp))
        return assay_fail(err, ASSAY_EINVAL, "%s: path too long", run_dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return assay_fail(err, ASSAY_EIO, "%s: %s", tmp, strerror(errno));
    (void)fchmod(fd, 0644); /* mkstemp makes 0600; reports are read like run.json */
    FILE *out = fdopen(fd, "w");
    if (!out) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return assay_fail(err, ASSAY_EIO, "%s: %s", tmp, strerror(e));
    }
    int rc = render(ctx, out, err);
    if (!rc && (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0))
        rc = assay_fail(err, ASSAY_EIO, "%s: %s", tmp, strerror(errno));
    if (fclose(out) != 0 && !rc)
        rc = assay_fail(err, ASSAY_EIO, "%s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = assay_fail(err, ASSAY_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}
