/* sanitize.c: neutralise control, bidi and tag characters in untrusted text (see sanitize.h). */
#define _GNU_SOURCE /* memmem */
#include "sanitize.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Decodes one UTF-8 sequence; returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, c = p[0] & 0x1f, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, c = p[0] & 0x0f, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, c = p[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static char *sanitize_text_raw(const char *s, size_t len, size_t max_in);

static bool dangerous(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x061c || c == 0x200e ||
           c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
           (c >= 0xe0000 && c <= 0xe007f);
}

static char **secrets;
static size_t nsecrets;

void sanitize_set_secrets(const char *const *list, size_t n)
{
    for (size_t i = 0; i < nsecrets; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    nsecrets = 0;
    if (!n || !(secrets = calloc(n, sizeof(*secrets))))
        return;
    for (size_t i = 0; i < n; i++)
        if (list[i] && strlen(list[i]) >= SANITIZE_SECRET_MIN &&
            (secrets[nsecrets] = strdup(list[i])))
            nsecrets++;
}

void sanitize_load_secrets(const char *run_dir)
{
    char path[4200];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/secrets.json", run_dir);
    json_t *all = json_load_file(path, 0, &je);
    size_t n = json_array_size(all), k = 0, i;
    const char **list = calloc(n ? n : 1, sizeof(*list));
    json_t *e;
    /* Each secret as text and as the lowercase hex the transcripts use for raw bytes. */
    char **hex = calloc(n ? n : 1, sizeof(*hex));
    const char **both = calloc(2 * (n ? n : 1), sizeof(*both));
    json_array_foreach(all, i, e)
    {
        const char *v = json_string_value(json_object_get(e, "value"));
        if (!list || !hex || !both || !v)
            continue;
        list[k] = v;
        size_t len = strlen(v);
        static const char digits[] = "0123456789abcdef";
        if ((hex[k] = malloc(2 * len + 1))) {
            for (size_t b = 0; b < len; b++) {
                hex[k][2 * b] = digits[(unsigned char)v[b] >> 4];
                hex[k][2 * b + 1] = digits[(unsigned char)v[b] & 15];
            }
            hex[k][2 * len] = 0;
        }
        k++;
    }
    size_t m = 0;
    for (size_t j = 0; both && j < k; j++) {
        both[m++] = list[j];
        if (hex[j])
            both[m++] = hex[j];
    }
    sanitize_set_secrets(both, both ? m : 0);
    for (size_t j = 0; hex && j < k; j++)
        free(hex[j]);
    free(hex);
    free(both);
    free(list);
    json_decref(all);
}

/* A copy of s (len bytes) with every secret replaced; NULL when there is none to mask. */
static char *mask(const char *s, size_t len, size_t *out_len)
{
    bool any = false;
    for (size_t k = 0; k < nsecrets && !any; k++)
        any = memmem(s, len, secrets[k], strlen(secrets[k])) != NULL;
    if (!any)
        return NULL;
    static const char word[] = "[secret]";
    char *out = malloc(len * (sizeof(word) - 1) + 1); /* enough: each byte could start one */
    if (!out)
        return NULL;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t hit = 0;
        for (size_t k = 0; k < nsecrets && !hit; k++) {
            size_t n = strlen(secrets[k]);
            if (n <= len - i && !memcmp(s + i, secrets[k], n))
                hit = n;
        }
        if (hit) {
            memcpy(out + o, word, sizeof(word) - 1);
            o += sizeof(word) - 1;
            i += hit;
        } else {
            out[o++] = s[i++];
        }
    }
    *out_len = o;
    return out;
}

char *sanitize_text(const char *s, size_t len, size_t max_in)
{
    size_t masked_len;
    char *masked = nsecrets ? mask(s, len, &masked_len) : NULL;
    if (masked) {
        char *out = sanitize_text_raw(masked, masked_len, max_in);
        free(masked);
        return out;
    }
    return sanitize_text_raw(s, len, max_in);
}

static char *sanitize_text_raw(const char *s, size_t len, size_t max_in)
{
    bool cut = max_in && len > max_in;
    size_t in = cut ? max_in : len;
    /* Worst case: every byte becomes "<U+E007F>" (9 bytes) or "\xNN" (4). */
    char *out = malloc(in * 9 + 4 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < in) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, in - i, &cp);
        if (n == 0) {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
            i++;
        } else if (dangerous(cp)) {
            if (cp < 0x100)
                o += (size_t)snprintf(out + o, 5, "\\x%02x", (unsigned)cp);
            else
                o += (size_t)snprintf(out + o, 10, "<U+%04X>", (unsigned)cp);
            i += n;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}
