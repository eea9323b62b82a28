/*
 * fuzz_securitytxt.c: libFuzzer target for the RFC 9116 parser (drivers/securitytxt.h).
 *
 * Built with clang -fsanitize=fuzzer, and with the ordinary compiler together
 * with replay_main.c so the corpus is replayed in the default test run. Checks
 * the caps, that no value is empty or holds a control character, and that a
 * file without Contact or Expires always names the problem.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/securitytxt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const struct sectxt_list *l)
{
    if (l->n > SECTXT_MAX_VALUES)
        abort();
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->v[i]);
        if (n == 0 || n > SECTXT_MAX_LINE)
            abort();
        for (size_t k = 0; k < n; k++) {
            if ((unsigned char)l->v[i][k] < 0x20)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct securitytxt s;
    if (securitytxt_parse(&s, (const char *)data, size, NULL) != 0)
        return 0;
    check_list(&s.contact);
    check_list(&s.expires);
    check_list(&s.policy);
    if (s.nproblems > SECTXT_MAX_PROBLEMS)
        abort();
    if ((s.contact.n == 0 || s.expires.n == 0) && s.nproblems == 0)
        abort();
    securitytxt_release(&s);
    return 0;
}
