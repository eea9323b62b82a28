/* capture_file.c: a capture's files: cutting a torn pcap tail, and the marks sidecar. */
#include "capture_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence/capture.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HEADER 24
#define PCAP_RECORD 16
#define PCAP_MAX_RECORD (256u * 1024u)

static uint32_t get32(const unsigned char *b, bool swap)
{
    uint32_t le =
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t be =
        (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    return swap ? be : le;
}

int capture_file_trim(const char *path, uint64_t *records, struct assay_error *err)
{
    unsigned char h[PCAP_HEADER];
    FILE *f = fopen(path, "rb");
    if (!f)
        return assay_fail(err, ASSAY_EIO, "capture file %s: %s", path, strerror(errno));
    bool swap = false, ok = fread(h, 1, sizeof(h), f) == sizeof(h);
    if (ok) {
        uint32_t m = get32(h, false);
        swap = !(m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS);
        m = get32(h, swap);
        ok = m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS;
    }
    if (!ok) {
        fclose(f);
        return assay_fail(err, ASSAY_EIO, "capture file %s exists but is not a pcap file", path);
    }
    long good = PCAP_HEADER;
    *records = 0;
    unsigned char r[PCAP_RECORD];
    while (fread(r, 1, sizeof(r), f) == sizeof(r)) {
        uint32_t caplen = get32(r + 8, swap);
        if (caplen > PCAP_MAX_RECORD || fseek(f, (long)caplen, SEEK_CUR) != 0)
            break;
        long at = ftell(f);
        struct stat st;
        if (at < 0 || fstat(fileno(f), &st) != 0 || at > st.st_size)
            break;
        good = at;
        ++*records;
    }
    fclose(f);
    if (truncate(path, good) != 0)
        return assay_fail(err, ASSAY_EIO, "capture file %s: truncate: %s", path, strerror(errno));
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int capture_marks_load(const char *path, const char *pcap_path, const char *ifname,
                       const char *filter, json_t **doc, struct assay_error *err)
{
    json_t *d = NULL;
    if (access(path, F_OK) == 0) {
        json_error_t je;
        d = json_load_file(path, 0, &je);
        if (!d || !json_is_object(d) || !json_is_array(json_object_get(d, "marks"))) {
            json_decref(d);
            return assay_fail(err, ASSAY_EIO, "capture marks %s: not a marks file (%s)", path,
                              je.text);
        }
    } else {
        d = json_object();
        if (!d || json_object_set_new(d, "marks", json_array()))
            return json_decref(d), assay_fail(err, ASSAY_ENOMEM, "capture marks: out of memory");
    }
    json_object_set_new(d, "capture", json_string(base_name(pcap_path)));
    json_object_set_new(d, "interface", json_string(ifname));
    json_object_set_new(d, "filter", json_string(filter));
    *doc = d;
    return 0;
}

int capture_marks_save(const char *path, json_t *doc, struct assay_error *err)
{
    char tmp[4200];
    int w = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (w < 0 || (size_t)w >= sizeof(tmp))
        return assay_fail(err, ASSAY_EIO, "capture marks %s: path too long", path);
    if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
        return assay_fail(err, ASSAY_EIO, "capture marks %s: cannot write", tmp);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return assay_fail(err, ASSAY_EIO, "capture marks %s: %s", path, strerror(e));
    }
    return 0;
}

int capture_marks_add(const char *path, json_t *doc, const char *label, const struct timeval *tv,
                      uint64_t packets, uint64_t dropped, struct assay_error *err)
{
    char utc[64], day[32];
    struct tm tm;
    time_t t = tv->tv_sec;
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(utc, sizeof(utc), "%s.%06ldZ", day, (long)tv->tv_usec);
    json_t *m = json_pack("{s:s%, s:I, s:I, s:s, s:I, s:I}", "label", label,
                          strnlen(label, CAPTURE_LABEL_MAX - 1), "time_sec", (json_int_t)tv->tv_sec,
                          "time_usec", (json_int_t)tv->tv_usec, "utc", utc, "packets",
                          (json_int_t)packets, "dropped", (json_int_t)dropped);
    if (!m || json_array_append_new(json_object_get(doc, "marks"), m) != 0)
        return assay_fail(err, ASSAY_EINVAL, "capture marks: label is not valid UTF-8");
    return capture_marks_save(path, doc, err);
}
