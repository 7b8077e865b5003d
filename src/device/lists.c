/*
 * lists.c: apps.plist and books.plist: arrays of dictionaries under Apple's key names
 * (InstallApplication / ManagedApplicationList / InstalledApplicationList for apps, InstallMedia /
 * ManagedMediaList for books), checked on load and written back in the same order. Checks are the
 * device's invariants: a bundle ID usable as a backup domain, unique IDs, ManagementFlags only on
 * MDM-managed apps and only Apple's values, IncludeInBackup only on declaratively managed apps, and a
 * book that is either a store book or an enterprise book.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dev_app_clear(ferry_app_t *a)
{
    free(a->Identifier);
    free(a->Name);
    free(a->Version);
    free(a->DeclarationIdentifier);
    for (size_t i = 0; i < a->n_app_groups; i++)
        free(a->AppGroups[i]);
    free(a->AppGroups);
    memset(a, 0, sizeof *a);
}

void dev_book_clear(ferry_book_t *b)
{
    free(b->Title);
    free(b->Author);
    free(b->Version);
    free(b->Kind);
    free(b->PersistentID);
    free(b->MediaURL);
    free(b->State);
    memset(b, 0, sizeof *b);
}

static int load_groups(plist_t d, ferry_app_t *a, const char *what)
{
    plist_t g = plist_dict_get_item(d, "AppGroups");
    if (!g)
        return 0;
    if (plist_get_node_type(g) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'AppGroups' must be an array of strings", what);
    uint32_t n = plist_array_get_size(g);
    a->AppGroups = calloc(n ? n : 1, sizeof(char *));
    if (!a->AppGroups)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        plist_t s = plist_array_get_item(g, i);
        if (plist_get_node_type(s) != PLIST_STRING)
            return ferry_error_set(FERRY_EFORMAT, "%s: AppGroups[%u] must be a string", what, i);
        a->AppGroups[i] = ferry_plist_string_dup(s);
        a->n_app_groups++;
        if (!dev_is_bundle_id(a->AppGroups[i]))
            return ferry_error_set(FERRY_EFORMAT, "%s: AppGroups[%u] '%s' is not a valid group identifier",
                                   what, i, a->AppGroups[i]);
    }
    return 0;
}

int dev_app_from_dict(plist_t d, ferry_app_t *a, const char *what)
{
    int64_t size = 0;
    a->IncludeInBackup = 1;
    a->Installed = 1;
    int rc;
    if ((rc = dev_opt_str(d, "Identifier", &a->Identifier, what)) || (rc = dev_opt_str(d, "Name", &a->Name, what)) ||
        (rc = dev_opt_str(d, "Version", &a->Version, what)) ||
        (rc = dev_opt_int(d, "iTunesStoreID", &a->iTunesStoreID, what)) ||
        (rc = dev_opt_bool(d, "IsManaged", &a->IsManaged, what)) ||
        (rc = dev_opt_int(d, "ManagementFlags", &a->ManagementFlags, what)) ||
        (rc = dev_opt_str(d, "DeclarationIdentifier", &a->DeclarationIdentifier, what)) ||
        (rc = dev_opt_bool(d, "IncludeInBackup", &a->IncludeInBackup, what)) ||
        (rc = dev_opt_bool(d, "Installed", &a->Installed, what)) || (rc = dev_opt_int(d, "DynamicSize", &size, what)) ||
        (rc = load_groups(d, a, what)))
        return rc;
    a->DynamicSize = (uint64_t)size;
    if (!a->Identifier)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'Identifier' is missing", what);
    if (!dev_is_bundle_id(a->Identifier))
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'Identifier': '%s' is not a valid bundle ID", what,
                               a->Identifier);
    if (a->ManagementFlags != 0 && a->ManagementFlags != 1 && a->ManagementFlags != 4 && a->ManagementFlags != 5)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'ManagementFlags' is %lld; Apple's values are 0, 1, 4 and 5",
                               what, (long long)a->ManagementFlags);
    if (a->ManagementFlags && (!a->IsManaged || a->DeclarationIdentifier))
        return ferry_error_set(FERRY_EFORMAT,
                               "%s: key 'ManagementFlags' applies only to apps managed by MDM commands "
                               "(IsManaged true, no DeclarationIdentifier)", what);
    if (plist_dict_get_item(d, "IncludeInBackup") && !a->DeclarationIdentifier)
        return ferry_error_set(FERRY_EFORMAT,
                               "%s: key 'IncludeInBackup' applies only to declaratively managed apps "
                               "(set DeclarationIdentifier)", what);
    if (a->DeclarationIdentifier)
        a->IsManaged = 1;
    if (!a->Installed && !a->IsManaged)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'Installed' is false, but only managed apps have placeholders",
                               what);
    return 0;
}

int dev_apps_from_plist(plist_t arr, const char *what, ferry_app_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (plist_get_node_type(arr) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "%s: the top level must be an array of app dictionaries", what);
    uint32_t cnt = plist_array_get_size(arr);
    ferry_app_t *apps = calloc(cnt ? cnt : 1, sizeof *apps);
    if (!apps)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    size_t i;
    for (i = 0; i < cnt && !rc; i++) {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s: item %zu", what, i);
        plist_t d = plist_array_get_item(arr, (uint32_t)i);
        if (plist_get_node_type(d) != PLIST_DICT)
            rc = ferry_error_set(FERRY_EFORMAT, "%s must be a dictionary", ctx);
        else
            rc = dev_app_from_dict(d, &apps[i], ctx);
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(apps[j].Identifier, apps[i].Identifier))
                rc = ferry_error_set(FERRY_EFORMAT, "%s: Identifier '%s' is listed twice", ctx, apps[i].Identifier);
    }
    if (rc) {
        for (size_t j = 0; j < cnt; j++)
            dev_app_clear(&apps[j]);
        free(apps);
        return rc;
    }
    *out = apps;
    *n = cnt;
    return 0;
}

plist_t dev_apps_to_plist(const ferry_app_t *apps, size_t n)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < n; i++) {
        const ferry_app_t *a = &apps[i];
        plist_t d = plist_new_dict();
        dev_dict_set_str(d, "Identifier", a->Identifier);
        dev_dict_set_str(d, "Name", a->Name);
        dev_dict_set_str(d, "Version", a->Version);
        if (a->iTunesStoreID)
            dev_dict_set_uint(d, "iTunesStoreID", (uint64_t)a->iTunesStoreID);
        dev_dict_set_bool(d, "IsManaged", a->IsManaged);
        if (a->IsManaged && !a->DeclarationIdentifier)
            dev_dict_set_uint(d, "ManagementFlags", (uint64_t)a->ManagementFlags);
        if (a->DeclarationIdentifier) {
            dev_dict_set_str(d, "DeclarationIdentifier", a->DeclarationIdentifier);
            dev_dict_set_bool(d, "IncludeInBackup", a->IncludeInBackup);
        }
        dev_dict_set_bool(d, "Installed", a->Installed);
        dev_dict_set_uint(d, "DynamicSize", a->DynamicSize);
        if (a->n_app_groups) {
            plist_t g = plist_new_array();
            for (size_t j = 0; j < a->n_app_groups; j++)
                plist_array_append_item(g, plist_new_string(a->AppGroups[j]));
            plist_dict_set_item(d, "AppGroups", g);
        }
        plist_array_append_item(arr, d);
    }
    return arr;
}

static int load_book(plist_t d, ferry_book_t *b, const char *what)
{
    int rc;
    if ((rc = dev_opt_str(d, "Title", &b->Title, what)) || (rc = dev_opt_str(d, "Author", &b->Author, what)) ||
        (rc = dev_opt_str(d, "Version", &b->Version, what)) || (rc = dev_opt_str(d, "Kind", &b->Kind, what)) ||
        (rc = dev_opt_int(d, "iTunesStoreID", &b->iTunesStoreID, what)) ||
        (rc = dev_opt_str(d, "PersistentID", &b->PersistentID, what)) ||
        (rc = dev_opt_str(d, "MediaURL", &b->MediaURL, what)) || (rc = dev_opt_str(d, "State", &b->State, what)) ||
        (rc = dev_opt_bool(d, "IsManaged", &b->IsManaged, what)))
        return rc;
    if (!b->PersistentID == !b->iTunesStoreID)
        return ferry_error_set(FERRY_EFORMAT,
                               "%s: a book needs exactly one of 'iTunesStoreID' (store book) and 'PersistentID' "
                               "(enterprise book)", what);
    if (b->PersistentID && !dev_is_bundle_id(b->PersistentID))
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'PersistentID': '%s' is not a reverse-DNS identifier", what,
                               b->PersistentID);
    if (b->Kind && strcmp(b->Kind, "pdf") && strcmp(b->Kind, "epub") && strcmp(b->Kind, "ibooks"))
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'Kind' must be pdf, epub or ibooks", what);
    if (b->PersistentID)
        b->IsManaged = 1; /* enterprise books only arrive through InstallMedia */
    return 0;
}

int dev_books_from_plist(plist_t arr, const char *what, ferry_book_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (plist_get_node_type(arr) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "%s: the top level must be an array of book dictionaries", what);
    uint32_t cnt = plist_array_get_size(arr);
    ferry_book_t *books = calloc(cnt ? cnt : 1, sizeof *books);
    if (!books)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < cnt && !rc; i++) {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s: item %zu", what, i);
        plist_t d = plist_array_get_item(arr, (uint32_t)i);
        rc = plist_get_node_type(d) != PLIST_DICT ? ferry_error_set(FERRY_EFORMAT, "%s must be a dictionary", ctx)
                                                  : load_book(d, &books[i], ctx);
    }
    if (rc) {
        for (size_t j = 0; j < cnt; j++)
            dev_book_clear(&books[j]);
        free(books);
        return rc;
    }
    *out = books;
    *n = cnt;
    return 0;
}

plist_t dev_books_to_plist(const ferry_book_t *books, size_t n)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < n; i++) {
        const ferry_book_t *b = &books[i];
        plist_t d = plist_new_dict();
        dev_dict_set_str(d, "Title", b->Title);
        dev_dict_set_str(d, "Author", b->Author);
        dev_dict_set_str(d, "Version", b->Version);
        dev_dict_set_str(d, "Kind", b->Kind);
        if (b->iTunesStoreID)
            dev_dict_set_uint(d, "iTunesStoreID", (uint64_t)b->iTunesStoreID);
        dev_dict_set_str(d, "PersistentID", b->PersistentID);
        dev_dict_set_str(d, "MediaURL", b->MediaURL);
        dev_dict_set_str(d, "State", b->State);
        dev_dict_set_bool(d, "IsManaged", b->IsManaged);
        plist_array_append_item(arr, d);
    }
    return arr;
}

char *ferry_book_relpath(const ferry_book_t *b)
{
    char *p = NULL;
    const char *kind = b->Kind ? b->Kind : "epub";
    int n = b->PersistentID ? asprintf(&p, "Managed/%s.%s", b->PersistentID, kind)
                            : asprintf(&p, "Purchases/%lld.%s", (long long)b->iTunesStoreID, kind);
    return n < 0 ? NULL : p;
}
