/* provenance.c: versions, host, clock state and file digests for run.json's "provenance". */
#include "evidence/provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <sys/utsname.h>

#include <MQTTClient.h>
#include <archive.h>
#include <coap3/coap.h>
#include <curl/curl.h>
#include <libxml/xmlversion.h>
#include <libxml/globals.h>
#include <lua.h>
#include <modbus.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <yaml.h>

#include "lua/profile.h"
#include "run/plan.h"
#include "run/profiles.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "unknown"
#endif
#ifndef ASSAY_GIT_COMMIT
#define ASSAY_GIT_COMMIT "unknown"
#endif

json_t *provenance_harness(void)
{
    const char *commit = ASSAY_GIT_COMMIT;
    return json_pack("{s:s, s:s}", "version", ASSAY_VERSION, "git_commit",
                     commit[0] ? commit : "unknown");
}

/* "20914" -> "2.9.14": libxml2 reports its run-time version as one number. */
static void xml2_version(char *buf, size_t size)
{
    long v = strtol(xmlParserVersion, NULL, 10);
    snprintf(buf, size, "%ld.%ld.%ld", v / 10000, v / 100 % 100, v % 100);
}

static const char *paho_version(void)
{
    MQTTClient_nameValue *nv = MQTTClient_getVersionInfo();
    for (; nv && nv->name; nv++)
        if (strcmp(nv->name, "Version") == 0)
            return nv->value;
    return "unknown";
}

/* Drops a known prefix ("libarchive 3.6.2" -> "3.6.2"). */
static const char *after(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s && strncmp(s, prefix, n) == 0 ? s + n : (s ? s : "unknown");
}

json_t *provenance_libraries(void)
{
    char modbus[32], xml[32];
    snprintf(modbus, sizeof(modbus), "%u.%u.%u", libmodbus_version_major, libmodbus_version_minor,
             libmodbus_version_micro);
    xml2_version(xml, sizeof(xml));
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "libyaml",
                     yaml_get_version_string(), "jansson", jansson_version_str(), "openssl",
                     OpenSSL_version(OPENSSL_VERSION), "lua", LUA_RELEASE, "libmodbus", modbus,
                     "libcoap", after(coap_package_version(), "libcoap "), "paho", paho_version(),
                     "libpcap", pcap_lib_version(), "libarchive",
                     after(archive_version_string(), "libarchive "), "libcurl",
                     cv && cv->version ? cv->version : "unknown", "libxml2", xml);
}

json_t *provenance_clock(void)
{
    struct timex tx;
    memset(&tx, 0, sizeof(tx)); /* modes 0: read only */
    int state = ntp_adjtime(&tx);
    if (state < 0)
        return json_pack("{s:b, s:s, s:s}", "synchronised", 0, "source", "adjtimex", "state",
                         "unavailable");
    static const char *const names[] = {"ok", "insert", "delete", "oop", "wait", "error"};
    int synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    return json_pack("{s:b, s:s, s:s, s:I, s:I}", "synchronised", synced, "source", "adjtimex",
                     "state", state >= 0 && state <= 5 ? names[state] : "unknown", "maxerror_us",
                     (json_int_t)tx.maxerror, "esterror_us", (json_int_t)tx.esterror);
}

static json_t *host(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return json_pack("{s:s, s:s}", "name", "unknown", "kernel", "unknown");
    char kernel[sizeof(u.sysname) + sizeof(u.release) + 2];
    snprintf(kernel, sizeof(kernel), "%s %s", u.sysname, u.release);
    return json_pack("{s:s, s:s, s:s}", "name", u.nodename, "kernel", kernel, "machine", u.machine);
}

/* The dossier's pages kept as files, resolved against the dossier's directory. */
static int add_pages(json_t *files, const struct dossier *d, struct assay_error *err)
{
    const char *slash = strrchr(d->path, '/');
    int dirlen = slash ? (int)(slash - d->path) : 1;
    const char *dir = slash ? d->path : ".";
    const char *name;
    json_t *pg;
    json_object_foreach(json_object_get(d->json, "published"), name, pg)
    {
        const char *file = json_string_value(json_object_get(pg, "file"));
        char path[4096];
        if (!file)
            continue;
        if (file[0] == '/')
            snprintf(path, sizeof(path), "%s", file);
        else
            snprintf(path, sizeof(path), "%.*s/%s", dirlen, dir, file);
        int rc = provenance_add_file(files, path, "page", NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every profile manifest and test-case file, with the digests of the bytes loaded. */
static int add_profiles(json_t *files, const struct plan *plan, struct assay_error *err)
{
    size_t n = plan->profiles ? plan_profiles_testcases(plan->profiles) : 0;
    const struct profile *seen = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct profile *p;
        const struct testcase *tc;
        char path[4096];
        plan_profiles_get(plan->profiles, i, &p, &tc);
        if (!p || p == seen)
            continue;
        seen = p;
        snprintf(path, sizeof(path), "%s/%s", p->root, p->manifest);
        rc = provenance_add_file(files, path, "profile", p->manifest_sha256, err);
        for (size_t k = 0; !rc && k < p->n_files; k++) {
            snprintf(path, sizeof(path), "%s/%s", p->root, p->files[k].path);
            rc = provenance_add_file(files, path, "testcase", p->files[k].sha256, err);
        }
    }
    /* A profile whose every test case another profile also runs is still named. */
    json_t *desc = plan->profiles ? plan_profiles_describe(plan->profiles) : NULL;
    size_t i;
    json_t *d;
    json_array_foreach(desc, i, d)
    {
        char path[4096];
        const char *m = json_string_value(json_object_get(d, "manifest"));
        if (!rc && m) {
            snprintf(path, sizeof(path), "%s/%s", plan->profile_root, m);
            rc = provenance_add_file(files, path, "profile", NULL, err);
        }
    }
    json_decref(desc);
    return rc;
}

static int add_files(json_t *files, const struct plan *plan, struct assay_error *err)
{
    const struct bench *b = &plan->bench;
    char path[4096];
    int rc = 0;
    if (b->path)
        rc = provenance_add_file(files, b->path, "bench", NULL, err);
    if (!rc && plan->profile_root) {
        snprintf(path, sizeof(path), "%s/obligations.yaml", plan->profile_root);
        rc = provenance_add_file(files, path, "catalogue", NULL, err);
    }
    for (size_t i = 0; !rc && i < b->ndossiers; i++)
        if (b->dossiers[i].path)
            rc = provenance_add_file(files, b->dossiers[i].path, "dossier", NULL, err);
    for (size_t i = 0; !rc && i < b->ndossiers; i++)
        if (b->dossiers[i].path)
            rc = add_pages(files, &b->dossiers[i], err);
    if (!rc)
        rc = add_profiles(files, plan, err);
    if (!rc && plan->profile_root) {
        snprintf(path, sizeof(path), "%s/lib", plan->profile_root);
        rc = provenance_add_tree(files, path, "lib", err);
        snprintf(path, sizeof(path), "%s/data", plan->profile_root);
        if (!rc)
            rc = provenance_add_tree(files, path, "data", err);
    }
    return rc;
}

json_t *provenance_collect(const struct plan *plan, struct assay_error *err)
{
    if (!plan) {
        assay_fail(err, ASSAY_EINVAL, "provenance: no plan");
        return NULL;
    }
    json_t *files = json_array();
    json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "harness", provenance_harness(), "libraries",
                          provenance_libraries(), "host", host(), "clock", provenance_clock());
    if (!o || !files) {
        json_decref(o);
        json_decref(files);
        assay_fail(err, ASSAY_ENOMEM, "provenance: out of memory");
        return NULL;
    }
    if (add_files(files, plan, err) != 0) {
        json_decref(o);
        json_decref(files);
        return NULL;
    }
    json_object_set_new(o, "files", files);
    return o;
}
