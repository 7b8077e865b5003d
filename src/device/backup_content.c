/*
 * backup_content.c: what the emulated device puts into a host backup, decided by the rules engine
 * (spec/RULES.md, B rules, through ferry_policy_backup_plan) from the device module's facts, and
 * applied file by file: a file belongs to at most one plan item (a data category, a managed app's
 * data, a book, the management configuration, the MDM enrollment or a profile) and is left out when
 * that item is excluded. Files that no item governs (ordinary system and personal data) are included.
 * Invariants: the plan is computed once per backup from the model under the device lock; this file
 * only reads.
 */
#include "mb2_internal.h"
#include "device_internal.h"
#include "ferry/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct emu_content {
    const ferry_device_t *m;
    ferry_plan_t plan;
};

int emu_content_plan(const ferry_device_t *m, int encrypted, emu_content_t **out, char *why, size_t whylen)
{
    *out = NULL;
    emu_content_t *c = calloc(1, sizeof *c);
    if (!c)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    c->m = m;
    ferry_device_facts_t facts;
    memset(&facts, 0, sizeof facts);
    int rc = ferry_device_facts(m, 1, &facts);
    if (!rc) {
        ferry_backup_options_t o = {.method = FERRY_BACKUP_HOST, .encrypted = encrypted};
        rc = ferry_policy_backup_plan(&facts, &o, &c->plan);
        ferry_device_facts_free(&facts);
    }
    if (rc) {
        free(c);
        return rc;
    }
    if (c->plan.verdict == FERRY_VERDICT_REFUSED) {
        snprintf(why, whylen, "%s (%s)", c->plan.refusal.why, c->plan.refusal.n_rules ? c->plan.refusal.rules[0] : "");
        emu_content_free(c);
        return ferry_error_set(FERRY_EINVAL, "%s", why);
    }
    *out = c;
    return 0;
}

void emu_content_free(emu_content_t *c)
{
    if (!c)
        return;
    ferry_plan_free(&c->plan);
    free(c);
}

/* The rule of the last exclusion, for emu_content_wants' caller (one backup per thread). */
static _Thread_local const char *last_rule;

/* 1 when the item is absent from the plan or included. */
static int allowed(const emu_content_t *c, ferry_item_kind_t kind, const char *name)
{
    const ferry_plan_item_t *it = ferry_plan_find(&c->plan, kind, name);
    if (it && it->d.outcome == FERRY_OUT_EXCLUDED) {
        last_rule = it->d.n_rules ? it->d.rules[0] : "";
        return 0;
    }
    return 1;
}

/* App data: AppDomain-<id>, AppDomainPlugin-<id>.<extension>, and AppDomainGroup-<group> containers,
 * which go when every managed app that uses the group has its data excluded. */
static int app_allowed(const emu_content_t *c, const char *domain)
{
    if (!strncmp(domain, "AppDomain-", 10))
        return allowed(c, FERRY_ITEM_APP_DATA, domain + 10);
    if (!strncmp(domain, "AppDomainPlugin-", 16)) {
        const char *plug = domain + 16;
        for (size_t i = 0; i < c->m->n_apps; i++) {
            size_t n = strlen(c->m->apps[i].Identifier);
            if (!strncmp(plug, c->m->apps[i].Identifier, n) && plug[n] == '.' &&
                !allowed(c, FERRY_ITEM_APP_DATA, c->m->apps[i].Identifier))
                return 0;
        }
        return 1;
    }
    if (!strncmp(domain, "AppDomainGroup-", 15)) {
        int users = 0, excluded = 0;
        for (size_t i = 0; i < c->m->n_apps; i++)
            for (size_t g = 0; g < c->m->apps[i].n_app_groups; g++)
                if (!strcmp(c->m->apps[i].AppGroups[g], domain + 15) ||
                    !strcmp(c->m->apps[i].AppGroups[g], domain)) {
                    users++;
                    excluded += !allowed(c, FERRY_ITEM_APP_DATA, c->m->apps[i].Identifier);
                }
        return users == 0 || excluded < users;
    }
    return 1;
}

static int emu_content_decide(const emu_content_t *c, const ferry_device_file_t *f);

static int book_allowed(const emu_content_t *c, const char *relpath)
{
    for (size_t i = 0; i < c->m->n_books; i++) {
        const ferry_book_t *b = &c->m->books[i];
        char *rel = ferry_book_relpath(b);
        int same = rel && !strcmp(rel, relpath);
        free(rel);
        if (!same)
            continue;
        char id[64];
        if (b->PersistentID)
            return allowed(c, FERRY_ITEM_BOOK, b->PersistentID);
        snprintf(id, sizeof id, "%lld", (long long)b->iTunesStoreID);
        return allowed(c, FERRY_ITEM_BOOK, id);
    }
    return 1;
}

/* The derived files of the configuration-profiles domain (src/device/derived.c names each profile's
 * stub "profile-<first 20 bytes of SHA-256(PayloadIdentifier) in hex>.stub"). */
static int profiles_allowed(const emu_content_t *c, const char *relpath)
{
    const char *name = strncmp(relpath, DEV_CONFIG_DIR "/", strlen(DEV_CONFIG_DIR) + 1)
                           ? NULL : relpath + strlen(DEV_CONFIG_DIR) + 1;
    if (!name)
        return 1;
    if (!strcmp(name, "CloudConfigurationDetails.plist"))
        return allowed(c, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "management-configuration");
    if (!strcmp(name, "MDM.plist"))
        return allowed(c, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment");
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(c->m);
    for (size_t i = 0; i < c->m->n_profiles; i++) {
        const char *ident = c->m->profiles[i].profile->PayloadIdentifier;
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        char hex[41], stub[64];
        if (!EVP_Digest(ident, strlen(ident), md, &mdlen, EVP_sha256(), NULL))
            continue;
        ferry_hex_encode(md, 20, hex);
        snprintf(stub, sizeof stub, "profile-%s.stub", hex);
        if (strcmp(stub, name))
            continue;
        if (enr && enr == &c->m->profiles[i])
            return allowed(c, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment");
        return allowed(c, FERRY_ITEM_PROFILE, ident);
    }
    return 1;
}

int emu_content_wants(const emu_content_t *c, const ferry_device_file_t *f, const char **rule)
{
    int yes = emu_content_decide(c, f);
    if (rule)
        *rule = yes ? NULL : last_rule;
    return yes;
}

static int emu_content_decide(const emu_content_t *c, const ferry_device_file_t *f)
{
    if (f->category && !allowed(c, FERRY_ITEM_CATEGORY, ferry_policy_category_name(f->category)))
        return 0;
    if (!strncmp(f->domain, "AppDomain", 9))
        return app_allowed(c, f->domain);
    if (!strcmp(f->domain, "BooksDomain"))
        return book_allowed(c, f->relpath);
    if (!strcmp(f->domain, DEV_CONFIG_DOMAIN))
        return profiles_allowed(c, f->relpath);
    return 1;
}
