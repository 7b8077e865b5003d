/*
 * facts_parse.c: a device's answers (MCInstall GetProfileList and GetCloudConfiguration,
 * installation_proxy Browse) as policy facts. Every byte comes from the device, so every key is
 * optional and type-checked; a malformed entry is skipped, never trusted. What the wire does not say
 * keeps a documented default (docs/cli.md "What ferry reads from a device"): a profile's payloads
 * and whether the MDM installed it are read from the PayloadContent/IsManaged keys the emulated device
 * adds (real devices leave them out, and then no profile is known as the MDM enrollment); acme, scep
 * and pkcs12 payloads count as ThisDeviceOnly keys, as for backups (ferry/policy.h).
 */
#include "facts_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static plist_t dict_item(plist_t d, const char *key, plist_type type)
{
    plist_t n = d && plist_get_node_type(d) == PLIST_DICT ? plist_dict_get_item(d, key) : NULL;
    return n && plist_get_node_type(n) == type ? n : NULL;
}

/* Copies a string value into dst ("" when absent, not a string, or holding a NUL byte). */
static void dict_copy(plist_t d, const char *key, char *dst, size_t n)
{
    dst[0] = 0;
    char *s = ferry_plist_string_dup(dict_item(d, key, PLIST_STRING));
    if (s)
        snprintf(dst, n, "%s", s);
    free(s);
}

static int dict_true(plist_t d, const char *key)
{
    plist_t n = dict_item(d, key, PLIST_BOOLEAN);
    return n && plist_bool_val_is_true(n);
}

static int key_device_only(const char *type)
{
    return !strcmp(type, "com.apple.security.acme") || !strcmp(type, "com.apple.security.scep") ||
           !strcmp(type, "com.apple.security.pkcs12");
}

/* The enrollment as the device would derive it (mdm.md §6.2 step 2) from its com.apple.mdm payload. */
static ferry_enrollment_t enrollment_of(plist_t mdm, const ferry_device_facts_t *f)
{
    char mode[32], maid[FERRY_POLICY_NAME_MAX];
    dict_copy(mdm, "EnrollmentMode", mode, sizeof mode);
    dict_copy(mdm, "ManagedAppleID", maid, sizeof maid);
    if (!strcmp(mode, "BYOD"))
        return FERRY_ENROLL_UE_ACCOUNT;
    if (!strcmp(mode, "ADDE"))
        return FERRY_ENROLL_DE_ACCOUNT;
    if (maid[0])
        return FERRY_ENROLL_UE_PROFILE;
    return f->has_management_config ? FERRY_ENROLL_ADE : FERRY_ENROLL_PROFILE_DE;
}

static int payloads(plist_t meta, ferry_profile_facts_t *pf, ferry_device_facts_t *f)
{
    plist_t pc = dict_item(meta, "PayloadContent", PLIST_ARRAY);
    uint32_t n = pc ? plist_array_get_size(pc) : 0;
    ferry_payload_facts_t *pl = calloc(n ? n : 1, sizeof *pl);
    if (!pl)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pf->payloads = pl;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        plist_t e = plist_array_get_item(pc, i);
        dict_copy(e, "PayloadType", pl[k].type, sizeof pl[k].type);
        if (!pl[k].type[0])
            continue;
        dict_copy(e, "PayloadUUID", pl[k].uuid, sizeof pl[k].uuid);
        pl[k].hardware_bound = !strcmp(pl[k].type, "com.apple.security.acme") && dict_true(e, "HardwareBound");
        pl[k].this_device_only = key_device_only(pl[k].type);
        if (!strcmp(pl[k].type, "com.apple.mdm")) {
            f->enrollment = enrollment_of(e, f);
            dict_copy(e, "IdentityCertificateUUID", f->mdm_identity_uuid, sizeof f->mdm_identity_uuid);
        }
        k++;
    }
    pf->n_payloads = k;
    return 0;
}

/* S4: the identity is hardware-bound when the payload it names is a hardware-bound ACME payload. */
static void identity_binding(ferry_device_facts_t *f)
{
    for (size_t i = 0; f->mdm_identity_uuid[0] && i < f->n_profiles; i++)
        for (size_t j = 0; j < f->profiles[i].n_payloads; j++)
            if (!strcmp(f->profiles[i].payloads[j].uuid, f->mdm_identity_uuid))
                f->mdm_identity_hardware_bound = f->profiles[i].payloads[j].hardware_bound;
}

static int status_acknowledged(plist_t reply, const char *what)
{
    char st[32];
    dict_copy(reply, "Status", st, sizeof st);
    if (strcmp(st, "Acknowledged"))
        return ferry_error_set(FERRY_EDEVICE, "MCInstall %s: the device answered Status '%s', not Acknowledged",
                               what, st);
    return 0;
}

int host_facts_profiles(plist_t reply, ferry_device_facts_t *f)
{
    int rc = status_acknowledged(reply, "GetProfileList");
    if (rc)
        return rc;
    plist_t order = dict_item(reply, "OrderedIdentifiers", PLIST_ARRAY);
    plist_t meta = dict_item(reply, "ProfileMetadata", PLIST_DICT);
    uint32_t n = order ? plist_array_get_size(order) : 0;
    ferry_profile_facts_t *pf = calloc(n ? n : 1, sizeof *pf);
    if (!pf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    f->profiles = pf;
    f->n_profiles = 0;
    for (uint32_t i = 0; i < n; i++) {
        char *id = ferry_plist_string_dup(plist_array_get_item(order, i));
        if (!id || !id[0] || strlen(id) >= sizeof pf->identifier) {
            free(id);
            continue;
        }
        ferry_profile_facts_t *p = &pf[f->n_profiles];
        snprintf(p->identifier, sizeof p->identifier, "%s", id);
        plist_t m = dict_item(meta, id, PLIST_DICT);
        free(id);
        dict_copy(m, "PayloadUUID", p->uuid, sizeof p->uuid);
        dict_copy(m, "PayloadDisplayName", p->display_name, sizeof p->display_name);
        p->installed_by_mdm = dict_true(m, "IsManaged");
        f->n_profiles++;
        if ((rc = payloads(m, p, f)) != 0)
            return rc;
    }
    identity_binding(f);
    return 0;
}

int host_facts_cloud_config(plist_t reply, ferry_device_facts_t *f)
{
    int rc = status_acknowledged(reply, "GetCloudConfiguration");
    if (rc)
        return rc;
    plist_t cc = dict_item(reply, "CloudConfiguration", PLIST_DICT);
    f->has_management_config = cc && plist_dict_get_size(cc) > 0;
    if (dict_true(cc, "IsSupervised"))
        f->supervised = 1;
    f->multi_user = dict_true(cc, "IsMultiUser");
    return 0;
}

int host_facts_apps(plist_t browse, ferry_device_facts_t *f)
{
    uint32_t n = browse && plist_get_node_type(browse) == PLIST_ARRAY ? plist_array_get_size(browse) : 0;
    ferry_app_facts_t *a = calloc(n ? n : 1, sizeof *a);
    if (!a)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    f->apps = a;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        plist_t e = plist_array_get_item(browse, i);
        dict_copy(e, "CFBundleIdentifier", a[k].bundle_id, sizeof a[k].bundle_id);
        if (!a[k].bundle_id[0])
            continue;
        /* Browse lists installed binaries only; it says nothing of MDM management (docs/cli.md). */
        a[k].installed = 1;
        a[k].include_in_backup = 1;
        k++;
    }
    f->n_apps = k;
    return 0;
}
