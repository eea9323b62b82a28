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

/*
 * The bench's defaults.scan_ports are the ports the attack-surface scan tries:
 * they become the `ports` parameter of surface.tcp-scan unless the bench's
 * `parameters:` block sets it itself.
 */
static void apply_scan_ports(struct bench *b)
{
    json_t *ports = json_object_get(json_object_get(b->doc.root, "defaults"), "scan_ports");
    if (!ports)
        return;
    json_t *params = json_object_get(b->doc.root, "parameters");
    if (!params) {
        params = json_object();
        json_object_set_new(b->doc.root, "parameters", params);
        b->parameters = params;
    }
    json_t *scan = json_object_get(params, "surface.tcp-scan");
    if (!scan) {
        scan = json_object();
        json_object_set_new(params, "surface.tcp-scan", scan);
    }
    if (!json_object_get(scan, "ports"))
        json_object_set(scan, "ports", ports);
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
    if (!brc)
        apply_scan_ports(&p->bench);
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
