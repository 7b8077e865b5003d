/*
 * backup_content.c: the facts of RULES.md for a backup that exists, converted from what the backup
 * module read out of it (ferry_backup_content_t), so that `ferry plan restore BACKUP_DIR` works on any
 * backup in the Finder layout. Pure: plists in, facts out. Invariants: a key of the wrong type is
 * treated as absent (a foreign backup is not ferry's to reject here); a backup without management
 * files gives the facts of an unmanaged device; the facts agree with ferry_policy_backup_facts_derive()
 * for a backup that ferry's emulated device built from the same device.
 */
#include "plan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_dict(plist_t p)
{
    return p && plist_get_node_type(p) == PLIST_DICT;
}

static void get_str(plist_t d, const char *key, char *dst, size_t n)
{
    plist_t v = is_dict(d) ? plist_dict_get_item(d, key) : NULL;
    const char *s = v && plist_get_node_type(v) == PLIST_STRING ? plist_get_string_ptr(v, NULL) : NULL;
    snprintf(dst, n, "%s", s ? s : "");
}

static int has_str(plist_t d, const char *key)
{
    plist_t v = is_dict(d) ? plist_dict_get_item(d, key) : NULL;
    return v && plist_get_node_type(v) == PLIST_STRING;
}

static int get_bool(plist_t d, const char *key, int dflt)
{
    plist_t v = is_dict(d) ? plist_dict_get_item(d, key) : NULL;
    return v && plist_get_node_type(v) == PLIST_BOOLEAN ? plist_bool_val_is_true(v) : dflt;
}

static int64_t get_int(plist_t d, const char *key, int64_t dflt)
{
    plist_t v = is_dict(d) ? plist_dict_get_item(d, key) : NULL;
    if (!v || plist_get_node_type(v) != PLIST_UINT)
        return dflt;
    uint64_t u = 0;
    plist_get_uint_val(v, &u);
    return (int64_t)u;
}

static int str_in_array(plist_t arr, const char *s)
{
    if (!arr || plist_get_node_type(arr) != PLIST_ARRAY)
        return 0;
    for (uint32_t i = 0; i < plist_array_get_size(arr); i++) {
        plist_t v = plist_array_get_item(arr, i);
        if (plist_get_node_type(v) == PLIST_STRING && !strcmp(plist_get_string_ptr(v, NULL), s))
            return 1;
    }
    return 0;
}

/* Devices write CloudConfigurationDetails.plist during Setup Assistant even when no organisation
 * manages them (e.g. {IsSupervised: false} or CloudConfigurationUIComplete alone): the file is a
 * management configuration (B9) only when it names an organisation or a configuration URL, or says
 * the device is supervised or its MDM mandatory or unremovable. */
static int is_management_config(plist_t cc)
{
    return is_dict(cc) && (has_str(cc, "ConfigurationURL") || has_str(cc, "OrganizationName") ||
                           get_bool(cc, "IsSupervised", 0) || get_bool(cc, "IsMandatory", 0) ||
                           get_bool(cc, "IsMDMUnremovable", 0));
}

/* mdm.md §6.2 step 2, from the backed-up MDM payload; else what ferry recorded. */
static ferry_enrollment_t enrollment(const ferry_backup_content_t *c)
{
    if (is_dict(c->mdm)) {
        char mode[32];
        get_str(c->mdm, "EnrollmentMode", mode, sizeof mode);
        if (!strcmp(mode, "BYOD"))
            return FERRY_ENROLL_UE_ACCOUNT;
        if (!strcmp(mode, "ADDE"))
            return FERRY_ENROLL_DE_ACCOUNT;
        if (has_str(c->mdm, "ManagedAppleID"))
            return FERRY_ENROLL_UE_PROFILE;
        return is_management_config(c->cloud_configuration) ? FERRY_ENROLL_ADE : FERRY_ENROLL_PROFILE_DE;
    }
    char name[32];
    get_str(c->app_management, "EnrollmentType", name, sizeof name);
    ferry_enrollment_t e = FERRY_ENROLL_NONE;
    if (name[0] && ferry_policy_enrollment_parse(name, &e) == 0)
        return e;
    return is_management_config(c->cloud_configuration) ? FERRY_ENROLL_ADE : FERRY_ENROLL_NONE;
}

static void scalars(const ferry_backup_content_t *c, ferry_backup_facts_t *f)
{
    snprintf(f->source_udid, sizeof f->source_udid, "%s", c->udid ? c->udid : "");
    snprintf(f->info_udid, sizeof f->info_udid, "%s", c->info_udid ? c->info_udid : "");
    if (!c->product_version || ferry_policy_os_parse(c->product_version, &f->os) != 0)
        memset(&f->os, 0, sizeof f->os);
    f->encrypted = c->encrypted;
    f->method = c->backup_method && !strcmp(c->backup_method, "icloud") ? FERRY_BACKUP_ICLOUD : FERRY_BACKUP_HOST;
    if (f->method == FERRY_BACKUP_ICLOUD && c->backup_account)
        ferry_policy_account_parse(c->backup_account, &f->account);
    snprintf(f->account_id, sizeof f->account_id, "%s", c->backup_account_id ? c->backup_account_id : "");
    f->managed_apps_only = c->managed_apps_only;
    f->source_enrollment = enrollment(c);
    plist_t cc = c->cloud_configuration, am = c->app_management;
    f->source_supervised = get_bool(cc, "IsSupervised", get_bool(am, "IsSupervised", 0));
    f->source_multi_user = get_bool(cc, "IsMultiUser", get_bool(am, "IsMultiUser", 0));
    f->has_management_config = is_management_config(cc);
    f->has_mdm_profile = c->mdm != NULL;
    get_str(c->mdm, "IdentityCertificateUUID", f->mdm_identity_uuid, sizeof f->mdm_identity_uuid);
    if (!f->mdm_identity_uuid[0])
        get_str(am, "IdentityCertificateUUID", f->mdm_identity_uuid, sizeof f->mdm_identity_uuid);
    f->mdm_identity_hardware_bound = get_bool(am, "IdentityHardwareBound", 0);
    f->categories = c->categories & FERRY_CAT_ALL;
}

static int payload_is_identity(const char *type)
{
    return !strcmp(type, "com.apple.security.acme") || !strcmp(type, "com.apple.security.scep") ||
           !strcmp(type, "com.apple.security.pkcs12");
}

static int one_profile(plist_t stub, plist_t mdm_installed, ferry_profile_facts_t *pf)
{
    get_str(stub, "PayloadIdentifier", pf->identifier, sizeof pf->identifier);
    get_str(stub, "PayloadUUID", pf->uuid, sizeof pf->uuid);
    get_str(stub, "PayloadDisplayName", pf->display_name, sizeof pf->display_name);
    pf->installed_by_mdm = str_in_array(mdm_installed, pf->identifier);
    plist_t content = plist_dict_get_item(stub, "PayloadContent");
    uint32_t n = content && plist_get_node_type(content) == PLIST_ARRAY ? plist_array_get_size(content) : 0;
    ferry_payload_facts_t *pl = calloc(n ? n : 1, sizeof *pl);
    if (!pl)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading backup facts");
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        plist_t d = plist_array_get_item(content, i);
        if (!is_dict(d))
            continue;
        get_str(d, "PayloadType", pl[k].type, sizeof pl[k].type);
        get_str(d, "PayloadUUID", pl[k].uuid, sizeof pl[k].uuid);
        pl[k].hardware_bound = !strcmp(pl[k].type, "com.apple.security.acme") && get_bool(d, "HardwareBound", 0);
        pl[k].this_device_only = payload_is_identity(pl[k].type);
        k++;
    }
    pf->payloads = pl;
    pf->n_payloads = k;
    return 0;
}

static int by_identifier(const void *a, const void *b)
{
    return strcmp(((const ferry_profile_facts_t *)a)->identifier, ((const ferry_profile_facts_t *)b)->identifier);
}

/* Stubs are named by a hash; a device lists its profiles by identifier (file name), so do the same. */
static int profiles(const ferry_backup_content_t *c, ferry_backup_facts_t *f)
{
    uint32_t n = c->profiles && plist_get_node_type(c->profiles) == PLIST_ARRAY ? plist_array_get_size(c->profiles) : 0;
    ferry_profile_facts_t *pf = calloc(n ? n : 1, sizeof *pf);
    if (!pf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading backup facts");
    f->profiles = pf;
    plist_t installed = is_dict(c->app_management) ? plist_dict_get_item(c->app_management, "MDMInstalledProfiles") : NULL;
    for (uint32_t i = 0; i < n; i++) {
        plist_t stub = plist_array_get_item(c->profiles, i);
        if (!is_dict(stub))
            continue;
        int rc = one_profile(stub, installed, &pf[f->n_profiles]);
        if (rc != 0)
            return rc;
        f->n_profiles++;
    }
    qsort(pf, f->n_profiles, sizeof *pf, by_identifier);
    return 0;
}

static int has_domain(const ferry_backup_content_t *c, const char *bundle_id)
{
    for (size_t i = 0; i < c->n_app_domains; i++)
        if (!strcmp(c->app_domains[i], bundle_id))
            return 1;
    return 0;
}

static int apps(const ferry_backup_content_t *c, ferry_backup_facts_t *f)
{
    plist_t d = is_dict(c->app_management) ? plist_dict_get_item(c->app_management, "ManagedApps") : NULL;
    uint32_t n = is_dict(d) ? plist_dict_get_size(d) : 0;
    ferry_app_facts_t *a = calloc(n ? n : 1, sizeof *a);
    if (!a)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading backup facts");
    f->apps = a;
    plist_dict_iter it = NULL;
    if (n)
        plist_dict_new_iter(d, &it);
    for (uint32_t i = 0; it && i < n; i++) {
        char *key = NULL;
        plist_t v = NULL;
        plist_dict_next_item(d, it, &key, &v);
        if (!key)
            break;
        if (is_dict(v) && key[0]) {
            ferry_app_facts_t *x = &a[f->n_apps++];
            snprintf(x->bundle_id, sizeof x->bundle_id, "%s", key);
            x->managed = get_bool(v, "IsManaged", 1);
            x->declarative = has_str(v, "DeclarationIdentifier");
            x->management_flags = (uint32_t)get_int(v, "ManagementFlags", 0);
            x->include_in_backup = x->declarative ? get_bool(v, "IncludeInBackup", 1) : 1;
            x->in_backup = has_domain(c, key);
        }
        free(key);
    }
    free(it);
    return 0;
}

static int book_in_backup(const ferry_backup_content_t *c, const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < c->n_book_paths; i++) {
        const char *p = c->book_paths[i];
        if (!strncmp(p, "Managed/", 8) && !strncmp(p + 8, id, n) && p[8 + n] == '.')
            return 1;
    }
    return 0;
}

static int books(const ferry_backup_content_t *c, ferry_backup_facts_t *f)
{
    plist_t arr = is_dict(c->app_management) ? plist_dict_get_item(c->app_management, "Books") : NULL;
    uint32_t n = arr && plist_get_node_type(arr) == PLIST_ARRAY ? plist_array_get_size(arr) : 0;
    ferry_book_facts_t *b = calloc(n ? n : 1, sizeof *b);
    if (!b)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading backup facts");
    f->books = b;
    for (uint32_t i = 0; i < n; i++) {
        plist_t d = plist_array_get_item(arr, i);
        if (!is_dict(d))
            continue;
        ferry_book_facts_t *x = &b[f->n_books];
        x->enterprise = has_str(d, "PersistentID");
        if (x->enterprise)
            get_str(d, "PersistentID", x->id, sizeof x->id);
        else if (get_int(d, "iTunesStoreID", 0) != 0)
            snprintf(x->id, sizeof x->id, "%lld", (long long)get_int(d, "iTunesStoreID", 0));
        else
            continue;
        get_str(d, "Title", x->title, sizeof x->title);
        x->in_backup = x->enterprise && book_in_backup(c, x->id);
        f->n_books++;
    }
    return 0;
}

int ferry_policy_backup_facts_from_content(const ferry_backup_content_t *c, ferry_backup_facts_t *out)
{
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "backup facts: NULL argument");
    memset(out, 0, sizeof *out);
    if (!c)
        return ferry_error_set(FERRY_EINVAL, "backup facts: NULL argument");
    scalars(c, out);
    int rc = profiles(c, out);
    if (rc == 0)
        rc = apps(c, out);
    if (rc == 0)
        rc = books(c, out);
    if (rc == 0)
        out->mdm_identity_hardware_bound = identity_is_hardware_bound(
            out->mdm_identity_hardware_bound, out->mdm_identity_uuid, out->profiles, out->n_profiles);
    if (rc != 0)
        ferry_policy_backup_facts_free_content(out);
    return rc;
}

void ferry_policy_backup_facts_free_content(ferry_backup_facts_t *facts)
{
    if (!facts)
        return;
    for (size_t i = 0; facts->profiles && i < facts->n_profiles; i++)
        free((void *)facts->profiles[i].payloads);
    free((void *)facts->profiles);
    free((void *)facts->apps);
    free((void *)facts->books);
    facts->profiles = NULL;
    facts->apps = NULL;
    facts->books = NULL;
    facts->n_profiles = facts->n_apps = facts->n_books = 0;
}
