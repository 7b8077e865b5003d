/*
 * content.c: what a backup says about the device it came from, read through the reader API so that it
 * works on any backup in the Finder layout, encrypted or not: the identity and OS (Manifest.plist
 * Lockdown, Info.plist), the management state a device keeps in the configuration-profiles domain
 * (CloudConfigurationDetails.plist, MDM.plist, profile-*.stub, and ferry's MDMAppManagement.plist), the
 * app containers and book files present, and the data categories of the records (categories.c).
 * Invariants: nothing here interprets the rules (policy does); every byte read is size-capped and
 * type-checked before use; a missing management file is "absent", never an error, because backups of
 * unmanaged devices (and Finder/idevicebackup2 backups) have none.
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>

#define APP_DOMAIN_PREFIX "AppDomain-"
#define BOOKS_DOMAIN "BooksDomain"

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A string value of dict[key], malloc'd, or NULL when absent or not a string. */
static char *opt_string(plist_t dict, const char *key)
{
    char *v = NULL;
    if (dict && plist_get_node_type(dict) == PLIST_DICT && ferry_plist_get_string(dict, key, &v) != 0)
        return NULL;
    return v;
}

static int read_file_bytes(ferry_backup_t *b, const ferry_record_t *rec, uint8_t **out, size_t *len)
{
    if (rec->mb.size < 0 || (uint64_t)rec->mb.size > FERRY_BACKUP_CONTENT_MAX_PLIST)
        return ferry_error_set(FERRY_EFORMAT, "%s/%s: %lld bytes is too large for a management file "
                               "(limit %u)", rec->domain, rec->relative_path, (long long)rec->mb.size,
                               FERRY_BACKUP_CONTENT_MAX_PLIST);
    ferry_file_reader_t *r = NULL;
    int rc = ferry_backup_file_open(b, rec, 1, &r);
    if (rc != 0)
        return rc;
    size_t cap = (size_t)rec->mb.size + 1, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        ferry_file_reader_close(r);
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading %s", rec->relative_path);
    }
    for (;;) {
        if (n == cap) { /* more bytes than its record says */
            rc = ferry_error_set(FERRY_EINTEGRITY, "%s/%s: longer than its record (%lld bytes)", rec->domain,
                                 rec->relative_path, (long long)rec->mb.size);
            break;
        }
        ssize_t k = ferry_file_reader_read(r, buf + n, cap - n);
        if (k < 0) {
            rc = (int)k;
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    ferry_file_reader_close(r);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int read_dict(ferry_backup_t *b, const ferry_record_t *rec, plist_t *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file_bytes(b, rec, &buf, &len);
    if (rc != 0)
        return rc;
    plist_t p = NULL;
    rc = ferry_plist_parse(buf, len, &p, rec->relative_path);
    free(buf);
    if (rc != 0)
        return rc;
    if (plist_get_node_type(p) != PLIST_DICT) {
        plist_free(p);
        return ferry_error_set(FERRY_EFORMAT, "%s/%s: expected a dictionary", rec->domain, rec->relative_path);
    }
    *out = p;
    return 0;
}

/* Which management file a record of the configuration-profiles domain is; NULL for none. */
static plist_t *slot_of(ferry_backup_content_t *c, const char *rel, int *is_stub)
{
    static const char dir[] = FERRY_BACKUP_CONFIG_DIR "/";
    *is_stub = 0;
    if (strncmp(rel, dir, sizeof dir - 1))
        return NULL;
    const char *name = rel + sizeof dir - 1;
    if (!strcmp(name, "CloudConfigurationDetails.plist"))
        return &c->cloud_configuration;
    if (!strcmp(name, "MDM.plist"))
        return &c->mdm;
    if (!strcmp(name, FERRY_BACKUP_APP_MANAGEMENT_FILE))
        return &c->app_management;
    size_t n = strlen(name);
    if (!strncmp(name, "profile-", 8) && n > 13 && !strcmp(name + n - 5, ".stub") && !strchr(name, '/')) {
        *is_stub = 1;
        return NULL;
    }
    return NULL;
}

static int config_record(ferry_backup_t *b, const ferry_record_t *rec, ferry_backup_content_t *c)
{
    if (rec->flags != FERRY_FLAG_FILE)
        return 0;
    int stub = 0;
    plist_t *slot = slot_of(c, rec->relative_path, &stub);
    if (!slot && !stub)
        return 0;
    plist_t d = NULL;
    int rc = read_dict(b, rec, &d);
    if (rc != 0)
        return rc;
    if (stub) {
        plist_array_append_item(c->profiles, d);
    } else {
        if (*slot)
            plist_free(*slot);
        *slot = d;
    }
    return 0;
}

static int push(char ***arr, size_t *n, const char *s)
{
    if (*n && !strcmp((*arr)[*n - 1], s))
        return 0; /* records come ordered by domain: one entry per domain */
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    *arr = a;
    if (!(a[*n] = strdup(s)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    (*n)++;
    return 0;
}

static int scan_record(ferry_backup_t *b, const ferry_record_t *rec, ferry_backup_content_t *c)
{
    c->records++;
    if (rec->flags == FERRY_FLAG_FILE)
        c->categories |= ferry_backup_path_category(rec->domain, rec->relative_path);
    if (!strcmp(rec->domain, FERRY_BACKUP_CONFIG_DOMAIN))
        return config_record(b, rec, c);
    if (!strncmp(rec->domain, APP_DOMAIN_PREFIX, sizeof APP_DOMAIN_PREFIX - 1) &&
        rec->domain[sizeof APP_DOMAIN_PREFIX - 1])
        return push(&c->app_domains, &c->n_app_domains, rec->domain + sizeof APP_DOMAIN_PREFIX - 1);
    if (!strcmp(rec->domain, BOOKS_DOMAIN) && rec->flags == FERRY_FLAG_FILE)
        return push(&c->book_paths, &c->n_book_paths, rec->relative_path);
    return 0;
}

static int scan(ferry_backup_t *b, ferry_backup_content_t *c)
{
    ferry_backup_iter_t *it = NULL;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    if (rc != 0)
        return rc;
    for (;;) {
        const ferry_record_t *rec = NULL;
        int k = ferry_backup_iter_next(it, &rec);
        if (k == 0)
            break;
        if (k < 0) {
            if (k == FERRY_ENOMEM || k == FERRY_EIO) {
                rc = k;
                break;
            }
            ferry_log(FERRY_LOG_WARN, "%s", ferry_error_last());
            c->refused++;
            continue;
        }
        if ((rc = scan_record(b, rec, c)) != 0)
            break;
    }
    ferry_backup_iter_free(it);
    return rc;
}

static void identity(ferry_backup_t *b, ferry_backup_content_t *c)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    plist_t info = ferry_backup_info_plist(b);
    c->encrypted = ferry_backup_is_encrypted(b);
    c->udid = dup_str(m ? m->udid : NULL);
    c->info_udid = opt_string(info, "Unique Identifier");
    if (!c->info_udid)
        c->info_udid = opt_string(info, "Target Identifier");
    c->product_version = opt_string(info, "Product Version");
    if (!c->product_version)
        c->product_version = dup_str(m ? m->product_version : NULL);
    c->backup_method = opt_string(info, "Ferry Backup Method");
    c->backup_account = opt_string(info, "Ferry Backup Account");
    c->backup_account_id = opt_string(info, "Ferry Backup Account ID");
    int v = 0;
    if (info && plist_get_node_type(info) == PLIST_DICT && ferry_plist_get_bool(info, "Ferry Managed Apps Only", &v) == 0)
        c->managed_apps_only = v;
}

int ferry_backup_content_read(ferry_backup_t *b, ferry_backup_content_t *out)
{
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "backup content: NULL argument");
    memset(out, 0, sizeof *out);
    if (!b)
        return ferry_error_set(FERRY_EINVAL, "backup content: NULL argument");
    if (!(out->profiles = plist_new_array()))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    identity(b, out);
    return scan(b, out);
}

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void ferry_backup_content_clear(ferry_backup_content_t *c)
{
    if (!c)
        return;
    free(c->udid);
    free(c->info_udid);
    free(c->product_version);
    free(c->backup_method);
    free(c->backup_account);
    free(c->backup_account_id);
    plist_t *ps[] = {&c->cloud_configuration, &c->mdm, &c->app_management, &c->profiles};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        if (*ps[i])
            plist_free(*ps[i]);
    free_strs(c->app_domains, c->n_app_domains);
    free_strs(c->book_paths, c->n_book_paths);
    memset(c, 0, sizeof *c);
}
