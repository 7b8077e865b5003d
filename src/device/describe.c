/*
 * describe.c: the device as `ferry device show` reports it: one dictionary under Apple's key names
 * (identity, state, enrollment type, cloud configuration, the MDM payload's facts, the effective
 * restrictions after B13, profiles with their payloads, apps with ManagementFlags/IncludeInBackup,
 * books, keychain items with protection classes, and the data files per B3 category). It is an
 * outward view: secrets (passwords, SCEP challenges, shared secrets, keychain data, certificate and
 * font bytes) are replaced by a marker, so the output can be pasted into a ticket.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/policy.h"

static int is_secret_key(const char *k)
{
    return strstr(k, "Password") || strstr(k, "Secret") || strstr(k, "Challenge") || !strcmp(k, "PSK");
}

/* A copy of a payload value with secrets and bulk data replaced by markers. */
static plist_t redact(plist_t v)
{
    switch (plist_get_node_type(v)) {
    case PLIST_DICT: {
        plist_t out = plist_new_dict();
        plist_dict_iter it = NULL;
        plist_dict_new_iter(v, &it);
        for (;;) {
            char *k = NULL;
            plist_t x = NULL;
            plist_dict_next_item(v, it, &k, &x);
            if (!k)
                break;
            plist_dict_set_item(out, k, is_secret_key(k) ? plist_new_string("<redacted>") : redact(x));
            free(k);
        }
        free(it);
        return out;
    }
    case PLIST_ARRAY: {
        plist_t out = plist_new_array();
        for (uint32_t i = 0; i < plist_array_get_size(v); i++)
            plist_array_append_item(out, redact(plist_array_get_item(v, i)));
        return out;
    }
    case PLIST_DATA: {
        uint64_t n = 0;
        plist_get_data_ptr(v, &n);
        char s[64];
        snprintf(s, sizeof s, "<data: %llu bytes>", (unsigned long long)n);
        return plist_new_string(s);
    }
    default: return plist_copy(v);
    }
}

static void identity(const ferry_device_t *d, plist_t out)
{
    char ecid[32];
    snprintf(ecid, sizeof ecid, "0x%016llX", (unsigned long long)d->UniqueChipID);
    dev_dict_set_str(out, "UniqueDeviceID", d->UniqueDeviceID);
    dev_dict_set_str(out, "UDIDForm", strlen(d->UniqueDeviceID) == 40 ? "40-hex" : "8-16");
    dev_dict_set_str(out, "SerialNumber", d->SerialNumber);
    dev_dict_set_uint(out, "UniqueChipID", d->UniqueChipID);
    dev_dict_set_str(out, "ECID", ecid);
    dev_dict_set_str(out, "ProductType", d->ProductType);
    dev_dict_set_str(out, "ProductVersion", d->ProductVersion);
    dev_dict_set_str(out, "BuildVersion", d->BuildVersion);
    dev_dict_set_str(out, "DeviceName", d->DeviceName);
    dev_dict_set_str(out, "DeviceClass", d->DeviceClass);
}

static void state(const ferry_device_t *d, plist_t out)
{
    plist_t all = dev_keys_build(d);
    plist_t st = plist_copy(plist_dict_get_item(all, "State"));
    dev_dict_set_bool(st, "WillEncrypt", d->has_backup_password);
    plist_dict_set_item(out, "State", st);
    plist_dict_set_item(out, "Accounts", plist_copy(plist_dict_get_item(all, "Accounts")));
    plist_t m = plist_dict_get_item(all, "Management");
    plist_dict_iter it = NULL;
    plist_dict_new_iter(m, &it);
    for (;;) { /* management keys go to the top level, where DeviceInformation puts IsSupervised */
        char *k = NULL;
        plist_t v = NULL;
        plist_dict_next_item(m, it, &k, &v);
        if (!k)
            break;
        plist_dict_set_item(out, k, plist_copy(v));
        free(k);
    }
    free(it);
    plist_free(all);
}

static void mdm(const ferry_device_t *d, plist_t out)
{
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(d);
    dev_dict_set_str(out, "EnrollmentType", ferry_policy_enrollment_name(ferry_device_enrollment(d)));
    if (!enr)
        return;
    plist_t m = redact(ferry_profile_find_payload(enr->profile, "com.apple.mdm")->dict);
    const ferry_payload_t *id = ferry_device_mdm_identity(d);
    if (id) {
        plist_t hw = plist_dict_get_item(id->dict, "HardwareBound");
        plist_t at = plist_dict_get_item(id->dict, "Attest");
        int hwb = hw && plist_bool_val_is_true(hw);
        dev_dict_set_str(m, "IdentityPayloadType", id->PayloadType);
        dev_dict_set_bool(m, "HardwareBound", hwb);
        dev_dict_set_bool(m, "Attest", at && plist_bool_val_is_true(at));
        dev_dict_set_bool(out, "HardwareBound", hwb); /* the fact S4/R6 read: is the MDM identity bound? */
    }
    plist_t mode = plist_dict_get_item(m, "EnrollmentMode");
    if (mode)
        plist_dict_set_item(out, "EnrollmentMode", plist_copy(mode));
    dev_dict_set_str(m, "EnrollmentProfile", enr->profile->PayloadIdentifier);
    plist_dict_set_item(out, "MDM", m);
}

static int restrictions(const ferry_device_t *d, plist_t out)
{
    plist_t eff = NULL, multi = NULL;
    int rc = ferry_device_effective_restrictions(d, &eff, &multi);
    if (rc)
        return rc;
    plist_dict_set_item(out, "Restrictions", eff);
    plist_dict_set_item(out, "RestrictionsSetInSeveralPayloads", multi ? multi : plist_new_array());
    return 0;
}

static void profiles(const ferry_device_t *d, plist_t out)
{
    plist_t arr = plist_new_array();
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(d);
    for (size_t i = 0; i < d->n_profiles; i++) {
        const ferry_installed_profile_t *ip = &d->profiles[i];
        const ferry_profile_t *p = ip->profile;
        plist_t e = plist_new_dict(), pls = plist_new_array();
        dev_dict_set_str(e, "File", ip->file);
        dev_dict_set_str(e, "PayloadIdentifier", p->PayloadIdentifier);
        dev_dict_set_str(e, "PayloadUUID", p->PayloadUUID);
        dev_dict_set_str(e, "PayloadDisplayName", p->PayloadDisplayName);
        dev_dict_set_str(e, "PayloadOrganization", p->PayloadOrganization);
        dev_dict_set_bool(e, "PayloadRemovalDisallowed", p->PayloadRemovalDisallowed);
        dev_dict_set_str(e, "Format", ferry_profile_format_name(p->format));
        dev_dict_set_bool(e, "IsSigned", p->is_signed);
        dev_dict_set_str(e, "Signer", p->signer);
        dev_dict_set_str(e, "Source", ferry_profile_source_name(ip->source));
        dev_dict_set_bool(e, "IsManaged", ip->source == FERRY_SOURCE_MDM);
        dev_dict_set_bool(e, "IsEnrollmentProfile", ip == enr);
        for (size_t j = 0; j < p->n_payloads; j++)
            plist_array_append_item(pls, redact(p->payloads[j].dict));
        plist_dict_set_item(e, "PayloadContent", pls);
        plist_array_append_item(arr, e);
    }
    plist_dict_set_item(out, "Profiles", arr);
}

static void apps_books(const ferry_device_t *d, plist_t out)
{
    plist_t apps = dev_apps_to_plist(d->apps, d->n_apps);
    for (size_t i = 0; i < d->n_apps; i++)
        if (d->apps[i].IsManaged) /* ManagedApplicationList Status (mdm.md §4.3) */
            dev_dict_set_str(plist_array_get_item(apps, (uint32_t)i), "Status",
                             d->apps[i].Installed ? "Managed" : "ManagedButUninstalled");
    plist_dict_set_item(out, "Apps", apps);
    plist_t books = dev_books_to_plist(d->books, d->n_books);
    for (size_t i = 0; i < d->n_books; i++)
        dev_dict_set_bool(plist_array_get_item(books, (uint32_t)i), "IsEnterpriseBook", d->books[i].PersistentID != NULL);
    plist_dict_set_item(out, "Books", books);
}

static void keychain(const ferry_device_t *d, plist_t out)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < d->n_keychain; i++) {
        const ferry_keychain_item_t *it = &d->keychain[i];
        int cls = ferry_keychain_protection_class(it->pdmn);
        plist_t e = plist_new_dict();
        dev_dict_set_str(e, "class", it->klass);
        dev_dict_set_str(e, "pdmn", it->pdmn);
        dev_dict_set_uint(e, "ProtectionClass", (uint64_t)cls);
        dev_dict_set_bool(e, "ThisDeviceOnly", cls == 0 || cls >= 9);
        dev_dict_set_str(e, "Category", ferry_device_category_name(ferry_keychain_item_category(it)));
        dev_dict_set_str(e, "agrp", it->agrp);
        dev_dict_set_str(e, "svce", it->svce);
        dev_dict_set_str(e, "acct", it->acct);
        dev_dict_set_str(e, "srvr", it->srvr);
        dev_dict_set_str(e, "labl", it->labl);
        dev_dict_set_str(e, "PayloadUUID", it->PayloadUUID);
        dev_dict_set_bool(e, "HardwareBound", it->HardwareBound);
        plist_array_append_item(arr, e);
    }
    plist_dict_set_item(out, "Keychain", arr);
}

typedef struct {
    uint64_t count, size, cat_count[FERRY_CAT_COUNT], cat_size[FERRY_CAT_COUNT];
} totals_t;

static int count_file(const ferry_device_file_t *f, void *ctx)
{
    totals_t *t = ctx;
    t->count++;
    t->size += f->size;
    for (int c = 0; c < FERRY_CAT_COUNT; c++)
        if (f->category == (1u << c)) {
            t->cat_count[c]++;
            t->cat_size[c] += f->size;
        }
    return 0;
}

static int files(const ferry_device_t *d, plist_t out)
{
    totals_t t;
    memset(&t, 0, sizeof t);
    int rc = ferry_device_files_walk(d, count_file, &t);
    if (rc)
        return rc;
    plist_t f = plist_new_dict(), cats = plist_new_dict();
    dev_dict_set_uint(f, "Count", t.count);
    dev_dict_set_uint(f, "TotalSize", t.size);
    for (int c = 0; c < FERRY_CAT_COUNT; c++) {
        plist_t e = plist_new_dict();
        dev_dict_set_uint(e, "Files", t.cat_count[c]);
        dev_dict_set_uint(e, "Size", t.cat_size[c]);
        plist_dict_set_item(cats, ferry_policy_category_name(1u << c), e);
    }
    plist_dict_set_item(f, "Categories", cats);
    plist_dict_set_item(out, "Files", f);
    return 0;
}

int ferry_device_describe(const ferry_device_t *d, int walk_files, plist_t *out)
{
    plist_t o = plist_new_dict();
    identity(d, o);
    state(d, o);
    mdm(d, o);
    int rc = restrictions(d, o);
    profiles(d, o);
    apps_books(d, o);
    keychain(d, o);
    if (!rc && walk_files)
        rc = files(d, o);
    if (rc) {
        plist_free(o);
        *out = NULL;
        return rc;
    }
    *out = o;
    return 0;
}
