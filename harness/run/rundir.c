/* rundir.c: the run directory: created, locked, given its secrets; what a resume reads back (see
 * rundir.h). */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/record.h"
#include "lua/profile.h"
#include "run/profiles.h"
#include "run/run.h"

int rundir_mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * The memory a worker holds of its own, in kB, or -1: its proportional share of
 * anonymous memory (heap, stacks, what a library allocates for a device's data).
 * File-backed mappings are left out: shared libraries, and the packet capture's
 * ring buffer, which the kernel maps like a file.
 */
long rundir_worker_memory_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "Pss_Anon:", 9)) {
            kb = strtol(line + 9, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

json_t *rundir_testcase_ids(const struct plan *plan)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < plan_profiles_testcases(plan->profiles); i++) {
        const struct profile *p;
        const struct testcase *tc;
        plan_profiles_get(plan->profiles, i, &p, &tc);
        json_array_append_new(ids, json_string(tc->id));
    }
    return ids;
}

json_t *run_read_invocation(const char *run_dir, struct assay_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/journal.jsonl", run_dir);
    json_t *lines = journal_read(path, err);
    if (!lines)
        return NULL;
    json_t *first = json_array_get(lines, 0);
    json_t *inv = json_object_get(first, "invocation");
    if (!inv || !json_is_string(json_object_get(first, "type")) ||
        strcmp(json_string_value(json_object_get(first, "type")), "run-start")) {
        json_decref(lines);
        assay_fail(err, ASSAY_EINVAL, "%s: the journal does not start with a run-start line", path);
        return NULL;
    }
    json_incref(inv);
    json_decref(lines);
    return inv;
}

int rundir_lock(const char *dir, int *fd, struct assay_error *err)
{
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", dir, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        return assay_fail(err, ASSAY_EINVAL, "%s is in use by another assay run", dir);
    return 0;
}

int rundir_prepare(const struct plan *plan, const char *dir, struct assay_error *err)
{
    char path[4200];
    for (size_t i = 0; i < plan->bench.ndevices; i++) {
        snprintf(path, sizeof(path), "%s/devices/%s/observations", dir, plan->bench.devices[i].id);
        if (rundir_mkdirs(path) != 0)
            return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    return 0;
}

/*
 * secrets.json: the bench's passwords and keys, kept with the sealed evidence
 * (observations may hold them) so renderers can mask them (core/sanitize.h).
 */
int rundir_write_secrets(const struct plan *plan, const char *dir, struct assay_error *err)
{
    static const char *const fields[] = {"password", "key", "private_key"};
    json_t *all = json_array();
    for (size_t i = 0; i < plan->bench.ndevices; i++) {
        const struct device *d = &plan->bench.devices[i];
        const char *role;
        json_t *c;
        json_object_foreach(json_object_get(d->json, "credentials"), role, c)
        {
            for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
                json_t *v = json_object_get(c, fields[f]);
                if (json_is_string(v))
                    json_array_append_new(all,
                                          json_pack("{s:s, s:s, s:s, s:O}", "device", d->id, "role",
                                                    role, "field", fields[f], "value", v));
            }
        }
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/secrets.json", dir);
    int rc = record_write(all, path, err);
    json_decref(all);
    return rc;
}
