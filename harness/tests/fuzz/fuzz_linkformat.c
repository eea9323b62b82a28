/*
 * fuzz_linkformat.c: libFuzzer target for the RFC 6690 link-format parser.
 *
 * Built with clang -fsanitize=fuzzer by scripts/fuzz, and with the ordinary
 * compiler together with replay_main.c so the corpus is replayed in the
 * default test run. Beyond "no crash, no leak", it checks the parser's
 * promises: caps respected, strings inside their bounds, errors with offsets
 * inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/linkformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_doc(const struct linkformat_doc *doc, const struct linkformat_limits *lim,
                      size_t size)
{
    if (doc->nlinks > lim->max_links)
        abort();
    for (size_t i = 0; i < doc->nlinks; i++) {
        const struct linkformat_link *l = &doc->links[i];
        if (!l->target || strlen(l->target) > lim->max_target_len || strlen(l->target) > size)
            abort();
        if (l->nattrs > lim->max_attrs)
            abort();
        for (size_t j = 0; j < l->nattrs; j++) {
            size_t nl = strlen(l->attrs[j].name);
            if (nl == 0 || nl > lim->max_name_len)
                abort();
            if (l->attrs[j].value && strlen(l->attrs[j].value) > lim->max_value_len)
                abort();
            if (l->attrs[j].quoted && !l->attrs[j].value)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small caps so the fuzzer reaches them quickly */
    const struct linkformat_limits lim = {4096, 16, 4, 64, 16, 64};
    struct linkformat_doc doc;
    struct assay_error err = {0};
    size_t off = (size_t)-1;
    int rc = linkformat_parse(data, size, &lim, &doc, &off, &err);
    if (rc == 0) {
        check_doc(&doc, &lim, size);
        linkformat_release(&doc);
    } else {
        if (rc != ASSAY_EINVAL && rc != ASSAY_ENOMEM)
            abort();
        if (off > size || err.code != rc || doc.links)
            abort();
    }
    return 0;
}
