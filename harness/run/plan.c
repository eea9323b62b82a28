/* plan.c: load and check catalogue, bench, dossiers and profiles (see plan.h). */
#include "plan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "profiles.h"

int plan_options_add_profile(struct plan_options *po, const char *profile)
{
    if (po->nprofiles >= PLAN_MAX_PROFILES)
        return -1;
    po->profiles[po->nprofiles++] = profile;
    return 0;
}

int plan_load(struct plan *p, const char *bench_path, const struct plan_options *po,
              struct diag_list *diags)
{
    char path[PATH_MAX];
    memset(p, 0, sizeof(*p));
    p->profile_root = strdup(po->profile_root ? po->profile_root : "profiles");
    if (!p->profile_root)
        return ASSAY_ENOMEM;
    snprintf(path, sizeof(path), "%s/obligations.yaml", p->profile_root);
    int rc = catalogue_load(&p->catalogue, path, diags);
    if (rc) {
        diag_add(diags, path, 0, 0, "the obligation catalogue is not usable");
        return rc;
    }
    int brc = bench_load(&p->bench, bench_path, catalogue_known, &p->catalogue, diags);
    if (!brc)
        brc = bench_select_devices(&p->bench, po->devices, po->ndevices, diags);
    int prc = 0;
    if (po->nprofiles)
        prc = plan_profiles_load(&p->profiles, p->profile_root, po->profiles, po->nprofiles,
                                 &p->catalogue, &p->bench, diags);
    if (brc)
        return brc;
    return prc;
}

void plan_release(struct plan *p)
{
    plan_profiles_free(p->profiles);
    bench_release(&p->bench);
    catalogue_release(&p->catalogue);
    free(p->profile_root);
    memset(p, 0, sizeof(*p));
}

size_t plan_profile_count(const struct plan *p)
{
    return plan_profiles_count(p->profiles);
}

size_t plan_testcase_count(const struct plan *p)
{
    return plan_profiles_testcases(p->profiles);
}
