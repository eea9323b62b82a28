/* html_escape.c: sanitise, then escape, untrusted text for HTML and XML (see html_escape.h). */
#include "html_escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sanitize.h"

/* Writes sanitised text with markup characters as entities. */
static void put_entities(FILE *out, const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case 0xef:
            /* U+FFFE and U+FFFF are valid UTF-8 but not XML characters. */
            if (p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
                fputs(p[2] == 0xbe ? "&lt;U+FFFE&gt;" : "&lt;U+FFFF&gt;", out);
                p += 2;
                break;
            }
            fputc(*p, out);
            break;
        default: fputc(*p, out);
        }
    }
}

int html_escape_write(FILE *out, const char *s, size_t len, size_t max)
{
    if (!s)
        return 0;
    char *clean = sanitize_text(s, len, max);
    if (!clean)
        return ASSAY_ENOMEM;
    put_entities(out, clean);
    free(clean);
    return 0;
}

int html_escape_put(FILE *out, const char *s)
{
    return s ? html_escape_write(out, s, strlen(s), HTML_ESCAPE_MAX) : 0;
}

int html_escape_json(FILE *out, const json_t *v, size_t max)
{
    if (!v)
        return 0;
    if (json_is_string(v))
        return html_escape_write(out, json_string_value(v), json_string_length(v), max);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!text)
        return ASSAY_ENOMEM;
    int rc = html_escape_write(out, text, strlen(text), max);
    free(text);
    return rc;
}

int html_escape_lines(FILE *out, const char *s, size_t len, size_t max)
{
    if (!s)
        return 0;
    bool cut = max && len > max;
    size_t end = cut ? max : len, i = 0;
    while (i < end) {
        const char *nl = memchr(s + i, '\n', end - i);
        size_t n = nl ? (size_t)(nl - (s + i)) : end - i;
        int rc = html_escape_write(out, s + i, n, 0);
        if (rc)
            return rc;
        i += n;
        if (nl) {
            fputc('\n', out);
            i++;
        }
    }
    if (cut)
        fputs("\n...", out);
    return 0;
}
