/*
 * profile_internal.h: what profile.c, contract.c and applies.c share; not for other modules.
 */
#ifndef ASSAY_LUA_PROFILE_INTERNAL_H
#define ASSAY_LUA_PROFILE_INTERNAL_H

#include <lua.h>

#include "lua/profile.h"

/* Appends "fmt..." to d (NULL allowed: only counted in *count). Never fails loudly. */
void pdiag_add(struct profile_diags *d, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees every list entry and the list. */
void strlist_release(struct strlist *l);

/* Releases the fields of one test case. */
void testcase_release(struct testcase *tc);

struct contract_ctx {
    struct profile *p;
    profile_known_fn known;
    void *kctx;
    struct profile_diags *diags;
    size_t count; /* violations found */
};

/*
 * Checks every recorded testcase{} table (tcload.h) against the contract and
 * fills p->tcs with the valid ones. Run through sandbox_protect with a
 * struct contract_ctx as its argument.
 */
int contract_check(lua_State *L);

#endif
