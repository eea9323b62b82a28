/*
 * fuzz_page.c: libFuzzer target for the HTML-to-sentences reader (drivers/page.h).
 *
 * Built with clang -fsanitize=fuzzer, and with the ordinary compiler together
 * with replay_main.c so the corpus is replayed in the default test run. Beyond
 * "no crash, no leak" it checks the reader's promises: sentence and link counts
 * and sentence lengths within their caps, no sentence empty or with a leading
 * or trailing space, no NUL inside what it returns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct page p;
    if (page_parse(&p, (const char *)data, size, NULL) != 0)
        return 0;
    if (p.nsentences > PAGE_MAX_SENTENCES || p.nlinks > PAGE_MAX_LINKS || !p.title || !p.lang)
        abort();
    for (size_t i = 0; i < p.nsentences; i++) {
        size_t n = strlen(p.sentences[i]);
        if (n == 0 || n > PAGE_MAX_SENTENCE || p.sentences[i][0] == ' ' ||
            p.sentences[i][n - 1] == ' ')
            abort();
    }
    for (size_t i = 0; i < p.nlinks; i++) {
        if (!p.links[i].href || !p.links[i].text)
            abort();
    }
    page_release(&p);
    return 0;
}
