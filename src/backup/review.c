/*
 * review.c: what private data a backup holds, by group and item, for `ferry review` (RULES.md X1: the
 * seed tells administrators to review a device's content before backing it up and before restoring
 * one backup to many devices). A file's group comes first from the category table (categories.c,
 * the same one the device and the rules use, so a category reviewed here is the category a restore
 * leaves out with --skip), then from a short table of other private data (accounts, messages,
 * contacts) and the app containers, one item per app. Invariants: only regular files that the
 * validating reader accepts are listed (refused records are counted, never shown); an unencrypted
 * backup's keychain export is listed as certificates, because B3 keeps saved passwords out of it;
 * items are kept in the reader's domain and path order, apps in bundle-ID order.
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>

static const char *const GROUP_NAMES[FERRY_REVIEW_GROUPS] = {
    "passwords", "call-history", "health", "website-history", "wifi", "photos",
    "accounts", "messages", "contacts", "certificates", "app-data",
};

typedef struct {
    const char *domain;
    const char *prefix; /* a directory, ending in '/' */
    ferry_review_group_t group;
} review_rule_t;

static const review_rule_t RULES[] = {
    {"HomeDomain", "Library/Accounts/", FERRY_REVIEW_ACCOUNTS},
    {"HomeDomain", "Library/SMS/", FERRY_REVIEW_MESSAGES},
    {"HomeDomain", "Library/AddressBook/", FERRY_REVIEW_CONTACTS},
};

const char *ferry_backup_review_group_name(ferry_review_group_t g)
{
    return (unsigned)g < FERRY_REVIEW_GROUPS ? GROUP_NAMES[g] : "none";
}

unsigned ferry_backup_review_group_category(ferry_review_group_t g)
{
    return (unsigned)g <= FERRY_REVIEW_PHOTOS ? 1u << g : 0;
}

/* The bundle ID of an app container domain, or NULL. */
static const char *app_of(const char *domain)
{
    static const char *const prefixes[] = {"AppDomain-", "AppDomainGroup-", "AppDomainPlugin-"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(domain, prefixes[i], n) && domain[n])
            return domain + n;
    }
    return NULL;
}

ferry_review_group_t ferry_backup_review_group(const char *domain, const char *relpath, int encrypted)
{
    if (!domain || !relpath)
        return FERRY_REVIEW_NONE;
    unsigned cat = ferry_backup_path_category(domain, relpath);
    if (cat == FERRY_BACKUP_CAT_PASSWORDS && !encrypted)
        return FERRY_REVIEW_CERTIFICATES; /* B3: the export holds no saved password */
    for (unsigned g = 0; g <= FERRY_REVIEW_PHOTOS; g++)
        if (cat == 1u << g)
            return (ferry_review_group_t)g;
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (!strcmp(domain, RULES[i].domain) && !strncmp(relpath, RULES[i].prefix, strlen(RULES[i].prefix)))
            return RULES[i].group;
    return app_of(domain) ? FERRY_REVIEW_APP_DATA : FERRY_REVIEW_NONE;
}

static ferry_review_item_t *push(ferry_review_t *r, ferry_review_group_t g)
{
    if (r->groups[g].n == r->groups[g].cap) {
        size_t ncap = r->groups[g].cap ? r->groups[g].cap * 2 : 16;
        ferry_review_item_t *ni = realloc(r->groups[g].items, ncap * sizeof *ni);
        if (!ni)
            return NULL;
        r->groups[g].items = ni;
        r->groups[g].cap = ncap;
    }
    ferry_review_item_t *it = &r->groups[g].items[r->groups[g].n++];
    memset(it, 0, sizeof *it);
    return it;
}

/* The app's item (found or added). Apps are few, so a linear search is enough. */
static ferry_review_item_t *app_item(ferry_review_t *r, const char *bundle)
{
    for (size_t i = 0; i < r->groups[FERRY_REVIEW_APP_DATA].n; i++)
        if (!strcmp(r->groups[FERRY_REVIEW_APP_DATA].items[i].domain, bundle))
            return &r->groups[FERRY_REVIEW_APP_DATA].items[i];
    ferry_review_item_t *it = push(r, FERRY_REVIEW_APP_DATA);
    if (it && !(it->domain = strdup(bundle))) {
        r->groups[FERRY_REVIEW_APP_DATA].n--;
        return NULL;
    }
    return it;
}

static int add_record(ferry_review_t *r, const ferry_record_t *rec)
{
    ferry_review_group_t g = ferry_backup_review_group(rec->domain, rec->relative_path, r->encrypted);
    if (g == FERRY_REVIEW_NONE)
        return 0;
    uint64_t size = rec->mb.size > 0 ? (uint64_t)rec->mb.size : 0;
    ferry_review_item_t *it;
    if (g == FERRY_REVIEW_APP_DATA) {
        it = app_item(r, app_of(rec->domain));
    } else if ((it = push(r, g)) != NULL) {
        it->domain = strdup(rec->domain);
        it->relative_path = strdup(rec->relative_path);
        if (!it->domain || !it->relative_path)
            return ferry_error_set(FERRY_ENOMEM, "out of memory reviewing %s", rec->domain);
    }
    if (!it)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reviewing %s", rec->domain);
    it->files++;
    it->bytes += size;
    r->groups[g].files++;
    r->groups[g].bytes += size;
    return 0;
}

static int by_bundle(const void *a, const void *b)
{
    return strcmp(((const ferry_review_item_t *)a)->domain, ((const ferry_review_item_t *)b)->domain);
}

int ferry_backup_review(ferry_backup_t *b, ferry_review_t *out)
{
    if (!b || !out)
        return ferry_error_set(FERRY_EINVAL, "ferry_backup_review: no backup");
    memset(out, 0, sizeof *out);
    out->encrypted = ferry_backup_is_encrypted(b);
    ferry_backup_iter_t *it = NULL;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    const ferry_record_t *rec;
    int k;
    while (!rc && (k = ferry_backup_iter_next(it, &rec)) != 0) {
        if (k < 0)
            out->refused++;
        else if (rec->flags == FERRY_FLAG_FILE)
            rc = add_record(out, rec);
    }
    ferry_backup_iter_free(it);
    if (rc) {
        ferry_review_clear(out);
        return rc;
    }
    ferry_error_clear(); /* refused rows are counted, not an error of the review */
    qsort(out->groups[FERRY_REVIEW_APP_DATA].items, out->groups[FERRY_REVIEW_APP_DATA].n,
          sizeof(ferry_review_item_t), by_bundle);
    return 0;
}

void ferry_review_clear(ferry_review_t *r)
{
    if (!r)
        return;
    for (unsigned g = 0; g < FERRY_REVIEW_GROUPS; g++) {
        for (size_t i = 0; i < r->groups[g].n; i++) {
            free(r->groups[g].items[i].domain);
            free(r->groups[g].items[i].relative_path);
        }
        free(r->groups[g].items);
    }
    memset(r, 0, sizeof *r);
}
