/*
 * datafiles.c: the data of a created device under files/<domain>/<relativePath>, at the real relative
 * paths of backup-format.md §11.2: settings and Home Screen layout, Messages and Contacts (iPhone),
 * the personal data of each B3 category the template asks for (call history, Safari history, Health,
 * known Wi-Fi networks; saved passwords live in keychain.plist), app and app-group containers, book
 * files, then the bulk synthetic files (--files N, --size BYTES) spread over the camera roll and the
 * app containers. Content is synthetic (only plists are real plists) and streamed in chunks; sizes and
 * names come from the seed, so the whole tree is byte-identical for the same template and seed.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB 1024u

typedef struct {
    const char *domain, *relpath;
    uint64_t size;
    unsigned when; /* 0 = always; TP(cat) = with that personal category; W_PHONE = iPhone single-user */
} fixed_t;

#define W_PHONE (1u << 30)

static const fixed_t fixed[] = {
    {"HomeDomain", "Library/Safari/Bookmarks.db", 32 * KiB, 0},
    {"CameraRollDomain", "Media/PhotoData/Photos.sqlite", 64 * KiB, 0},
    {"KeychainDomain", "TrustStore.sqlite3", 16 * KiB, 0},
    {"HomeDomain", "Library/SMS/sms.db", 48 * KiB, W_PHONE},
    {"HomeDomain", "Library/AddressBook/AddressBook.sqlitedb", 32 * KiB, W_PHONE},
    {"HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", 96 * KiB, TP(FERRY_CAT_CALL_HISTORY) | W_PHONE},
    {"HomeDomain", "Library/Safari/History.db", 128 * KiB, TP(FERRY_CAT_WEBSITE_HISTORY)},
    {"HealthDomain", "Health/healthdb.sqlite", 64 * KiB, TP(FERRY_CAT_HEALTH)},
    {"HealthDomain", "Health/healthdb_secure.sqlite", 192 * KiB, TP(FERRY_CAT_HEALTH)},
};

static int want(const dev_build_t *b, unsigned when)
{
    int phone = !strcmp(b->t->DeviceClass, "iPhone") && !b->t->multi_user;
    if ((when & W_PHONE) && !phone)
        return 0;
    unsigned cats = when & ~W_PHONE;
    return !cats || (b->t->personal & cats);
}

static int settings(dev_build_t *b)
{
    const ferry_device_t *d = b->dev;
    plist_t g = plist_new_dict(), langs = plist_new_array();
    plist_array_append_item(langs, plist_new_string("en-US"));
    plist_dict_set_item(g, "AppleLanguages", langs);
    dev_dict_set_str(g, "AppleLocale", "en_US");
    int rc = dev_write_data_plist(d->dir, "HomeDomain", "Library/Preferences/.GlobalPreferences.plist", g, 0);
    plist_free(g);
    if (rc)
        return rc;
    /* Home Screen layout: installed apps on the first page, the dock with the first two */
    plist_t icons = plist_new_dict(), dock = plist_new_array(), pages = plist_new_array(), page = plist_new_array();
    for (size_t i = 0; i < d->n_apps; i++)
        plist_array_append_item(i < 2 ? dock : page, plist_new_string(d->apps[i].Identifier));
    plist_array_append_item(pages, page);
    plist_dict_set_item(icons, "buttonBar", dock);
    plist_dict_set_item(icons, "iconLists", pages);
    rc = dev_write_data_plist(d->dir, "HomeDomain", "Library/SpringBoard/IconState.plist", icons, 0);
    plist_free(icons);
    return rc;
}

static int known_networks(dev_build_t *b)
{
    plist_t root = plist_new_dict(), net = plist_new_dict();
    const char *ssid = "Home-Network";
    dev_dict_set_str(net, "AddReason", "Manual");
    plist_dict_set_item(net, "AddedAt", ferry_plist_new_date_unix(DEV_BASE_TIME - 30 * 86400));
    plist_dict_set_item(net, "JoinedByUserAt", ferry_plist_new_date_unix(DEV_BASE_TIME - 86400));
    dev_dict_set_bool(net, "Hidden", 0);
    dev_dict_set_data(net, "SSID", ssid, strlen(ssid));
    dev_dict_set_uint(net, "SupportedSecurityTypes", 4);
    plist_dict_set_item(root, "wifi.network.ssid.Home-Network", net);
    int rc = dev_write_data_plist(b->dev->dir, "SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", root, 0);
    plist_free(root);
    return rc;
}

static int containers(dev_build_t *b)
{
    const ferry_device_t *d = b->dev;
    int rc = 0;
    for (size_t i = 0; i < d->n_apps && !rc; i++) {
        const ferry_app_t *a = &d->apps[i];
        char domain[300], rel[400];
        plist_t p = plist_new_dict();
        dev_dict_set_str(p, "FerrySyntheticData", a->Identifier);
        snprintf(domain, sizeof domain, "AppDomain-%s", a->Identifier);
        snprintf(rel, sizeof rel, "Library/Preferences/%s.plist", a->Identifier);
        rc = dev_write_data_plist(d->dir, domain, rel, p, 0);
        for (size_t g = 0; g < a->n_app_groups && !rc; g++) {
            snprintf(domain, sizeof domain, "AppDomainGroup-%s", a->AppGroups[g]);
            snprintf(rel, sizeof rel, "Library/Preferences/%s.plist", a->AppGroups[g]);
            rc = dev_write_data_plist(d->dir, domain, rel, p, 0); /* shared groups: same content, same bytes */
        }
        plist_free(p);
    }
    for (size_t i = 0; i < d->n_books && !rc; i++) {
        char *rel = ferry_book_relpath(&d->books[i]);
        rc = rel ? dev_write_data_synthetic(d->dir, "BooksDomain", rel, 256 * KiB, b->o->seed)
                 : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(rel);
    }
    return rc;
}

/* ---- bulk files ---------------------------------------------------------------------------------- */

typedef struct {
    char domain[300];
    uint64_t count;
} target_t;

static int bulk_path(const dev_build_t *b, uint64_t i, target_t *targets, size_t nt, uint64_t *photos, char **domain,
                     char *rel, size_t relsz)
{
    (void)b;
    if (nt == 0 || i % 2 == 0) {
        uint64_t k = (*photos)++;
        *domain = "CameraRollDomain";
        snprintf(rel, relsz, "Media/DCIM/%03lluAPPLE/IMG_%04llu.%s", (unsigned long long)(100 + k / 1000),
                 (unsigned long long)(k % 9999 + 1), k % 10 == 9 ? "MOV" : "HEIC");
        return 0;
    }
    target_t *t = &targets[(i / 2) % nt];
    uint64_t c = t->count++;
    *domain = t->domain;
    snprintf(rel, relsz, "Documents/Data/%03llu/item-%06llu.bin", (unsigned long long)(c / 1000),
             (unsigned long long)c);
    return 0;
}

static uint64_t weight(dev_rng_t *r)
{
    return 1 + dev_rng_below(r, 1000);
}

static int bulk(dev_build_t *b)
{
    uint64_t n = b->o->files, total = b->o->size;
    if (n == 0)
        return total ? ferry_error_set(FERRY_EINVAL, "--size %llu needs --files greater than 0",
                                       (unsigned long long)total)
                     : 0;
    const ferry_device_t *d = b->dev;
    size_t nt = 0;
    for (size_t i = 0; i < d->n_apps; i++)
        nt += 1 + d->apps[i].n_app_groups;
    target_t *targets = calloc(nt ? nt : 1, sizeof *targets);
    if (!targets)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    nt = 0;
    for (size_t i = 0; i < d->n_apps; i++) {
        snprintf(targets[nt++].domain, sizeof targets[0].domain, "AppDomain-%s", d->apps[i].Identifier);
        for (size_t g = 0; g < d->apps[i].n_app_groups; g++) {
            char dom[sizeof targets[0].domain];
            int dup = 0;
            snprintf(dom, sizeof dom, "AppDomainGroup-%s", d->apps[i].AppGroups[g]);
            for (size_t j = 0; j < nt && !dup; j++)
                dup = !strcmp(targets[j].domain, dom); /* a group shared by two apps is one container */
            if (!dup)
                memcpy(targets[nt++].domain, dom, sizeof dom);
        }
    }
    /* Sizes: weights from one stream, drawn twice (sum, then use), so that they add up to exactly
     * --size without keeping N weights in memory; the rounding remainder goes to the last file. */
    dev_rng_t r;
    unsigned __int128 wsum = 0;
    dev_rng_seed(&r, b->o->seed, "bulk:sizes");
    for (uint64_t i = 0; i < n; i++)
        wsum += weight(&r);
    dev_rng_seed(&r, b->o->seed, "bulk:sizes");
    uint64_t written = 0, photos = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t sz = (uint64_t)((unsigned __int128)total * weight(&r) / wsum);
        if (i == n - 1)
            sz = total - written;
        written += sz;
        char *domain, rel[200];
        bulk_path(b, i, targets, nt, &photos, &domain, rel, sizeof rel);
        rc = dev_write_data_synthetic(d->dir, domain, rel, sz, b->o->seed);
    }
    free(targets);
    return rc;
}

static int measure_apps(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    for (size_t i = 0; i < d->n_apps; i++) {
        char *p = NULL;
        if (asprintf(&p, "%s/files/AppDomain-%s", d->dir, d->apps[i].Identifier) < 0)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        int rc = dev_tree_size(p, &d->apps[i].DynamicSize);
        free(p);
        if (rc)
            return rc;
    }
    return 0;
}

int dev_template_files(dev_build_t *b)
{
    int rc = settings(b);
    for (size_t i = 0; !rc && i < sizeof fixed / sizeof fixed[0]; i++)
        if (want(b, fixed[i].when))
            rc = dev_write_data_synthetic(b->dev->dir, fixed[i].domain, fixed[i].relpath, fixed[i].size, b->o->seed);
    if (!rc && (b->t->personal & TP(FERRY_CAT_WIFI)))
        rc = known_networks(b);
    if (!rc)
        rc = containers(b);
    if (!rc)
        rc = bulk(b);
    return rc ? rc : measure_apps(b);
}
