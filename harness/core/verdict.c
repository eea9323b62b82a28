/* verdict.c: verdict names, the roll-up and the exit-code rule (see verdict.h). */
#include "verdict.h"

#include <string.h>

static const char *const names[] = {
    [VERDICT_NONE] = "NONE",
    [VERDICT_PASS] = "PASS",
    [VERDICT_FAIL] = "FAIL",
    [VERDICT_INCONCLUSIVE] = "INCONCLUSIVE",
    [VERDICT_NOT_APPLICABLE] = "NOT_APPLICABLE",
    [VERDICT_ERROR] = "ERROR",
};

const char *verdict_name(enum verdict v)
{
    if ((unsigned)v >= sizeof(names) / sizeof(names[0]))
        return "NONE";
    return names[v];
}

enum verdict verdict_parse(const char *name)
{
    if (!name)
        return VERDICT_NONE;
    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], name) == 0)
            return (enum verdict)i;
    return VERDICT_NONE;
}

const char *resolve_name(enum resolve r)
{
    return r == RESOLVE_ASSESSOR ? "assessor" : NULL;
}

struct verdict_item verdict_rollup(const struct verdict_item *items, size_t n)
{
    struct verdict_item out = {VERDICT_INCONCLUSIVE, RESOLVE_ASSESSOR};
    size_t fail = 0, error = 0, inconc = 0, inconc_assessor = 0, pass = 0, na = 0;

    for (size_t i = 0; i < n; i++) {
        switch (items[i].verdict) {
        case VERDICT_FAIL: fail++; break;
        case VERDICT_ERROR: error++; break;
        case VERDICT_INCONCLUSIVE:
            inconc++;
            if (items[i].resolve == RESOLVE_ASSESSOR)
                inconc_assessor++;
            break;
        case VERDICT_PASS: pass++; break;
        case VERDICT_NOT_APPLICABLE: na++; break;
        case VERDICT_NONE: break;
        }
    }
    if (fail) {
        out.verdict = VERDICT_FAIL, out.resolve = RESOLVE_NONE;
    } else if (error) {
        out.verdict = VERDICT_ERROR, out.resolve = RESOLVE_NONE;
    } else if (inconc) {
        out.verdict = VERDICT_INCONCLUSIVE;
        out.resolve = inconc == inconc_assessor ? RESOLVE_ASSESSOR : RESOLVE_NONE;
    } else if (pass) {
        out.verdict = VERDICT_PASS, out.resolve = RESOLVE_NONE;
    } else if (na && na == n) {
        out.verdict = VERDICT_NOT_APPLICABLE, out.resolve = RESOLVE_NONE;
    }
    return out;
}

int verdict_exit_code(const struct verdict_item *items, size_t n)
{
    bool undecided = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i].verdict == VERDICT_FAIL)
            return ASSAY_EXIT_FAIL;
        if (items[i].verdict == VERDICT_ERROR ||
            (items[i].verdict == VERDICT_INCONCLUSIVE && items[i].resolve != RESOLVE_ASSESSOR))
            undecided = true;
    }
    return undecided ? ASSAY_EXIT_UNDECIDED : ASSAY_EXIT_OK;
}
