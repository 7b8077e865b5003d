/*
 * profile_index.c: the profiles/ folder of a device directory. Every *.mobileconfig in it is an
 * installed profile, read exactly as a device would read it; profiles/index.plist only adds how each
 * one arrived (Source: Manual, Enrollment, MDM, Configurator), which the file itself cannot say. A
 * file without an index entry counts as installed by hand, so an administrator can drop a profile in;
 * an index entry without its file, or naming another PayloadIdentifier than the file holds, is an
 * error. Profiles are kept in file-name order so that every listing is deterministic.
 */
#include "device_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcmp(s + n - m, suffix);
}

static int list_files(const char *dir, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* no profiles/ folder: no profiles */
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".mobileconfig"))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*out, cap * sizeof *nn);
            if (!nn) {
                rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
                break;
            }
            *out = nn;
        }
        if (!((*out)[*n] = strdup(e->d_name))) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_str);
    return rc;
}

static int index_entry(plist_t index, const char *file, ferry_profile_source_t *src, const char **ident)
{
    *src = FERRY_SOURCE_MANUAL;
    *ident = NULL;
    for (uint32_t i = 0; index && i < plist_array_get_size(index); i++) {
        plist_t e = plist_array_get_item(index, i);
        plist_t f = plist_dict_get_item(e, "File");
        if (!f || plist_get_node_type(f) != PLIST_STRING || strcmp(plist_get_string_ptr(f, NULL), file))
            continue;
        plist_t s = plist_dict_get_item(e, "Source");
        plist_t id = plist_dict_get_item(e, "PayloadIdentifier");
        if (s && (plist_get_node_type(s) != PLIST_STRING || ferry_profile_source_parse(plist_get_string_ptr(s, NULL), src)))
            return ferry_error_set(FERRY_EFORMAT, "profiles/index.plist: entry for %s: key 'Source' must be Manual, "
                                   "Enrollment, MDM or Configurator", file);
        if (id && plist_get_node_type(id) == PLIST_STRING)
            *ident = plist_get_string_ptr(id, NULL);
        return 0;
    }
    return 0;
}

static int check_index(plist_t index, char **files, size_t n)
{
    for (uint32_t i = 0; index && i < plist_array_get_size(index); i++) {
        plist_t e = plist_array_get_item(index, i);
        plist_t f = plist_get_node_type(e) == PLIST_DICT ? plist_dict_get_item(e, "File") : NULL;
        if (!f || plist_get_node_type(f) != PLIST_STRING)
            return ferry_error_set(FERRY_EFORMAT, "profiles/index.plist: Profiles[%u]: key 'File' is missing or not a "
                                   "string", i);
        const char *name = plist_get_string_ptr(f, NULL);
        int found = 0;
        for (size_t j = 0; j < n && !found; j++)
            found = !strcmp(files[j], name);
        if (!found)
            return ferry_error_set(FERRY_EFORMAT, "profiles/index.plist: Profiles[%u] names %s, which is not in profiles/",
                                   i, name);
    }
    return 0;
}

static int load_one(ferry_device_t *dev, const char *pdir, const char *file, plist_t index)
{
    char *path = dev_path(pdir, file, NULL);
    ferry_profile_t *p = NULL;
    int rc = path ? ferry_profile_read_file(path, &p) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    if (rc)
        return ferry_error_wrap(rc, "profiles");
    ferry_profile_source_t src;
    const char *ident;
    if ((rc = index_entry(index, file, &src, &ident))) {
        ferry_profile_free(p);
        return rc;
    }
    if (ident && strcmp(ident, p->PayloadIdentifier)) {
        rc = ferry_error_set(FERRY_EFORMAT, "profiles/index.plist: the entry for %s says PayloadIdentifier %s, but the "
                             "file holds %s", file, ident, p->PayloadIdentifier);
        ferry_profile_free(p);
        return rc;
    }
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].profile->PayloadIdentifier, p->PayloadIdentifier)) {
            rc = ferry_error_set(FERRY_EFORMAT, "profiles/%s: PayloadIdentifier %s is already installed by %s", file,
                                 p->PayloadIdentifier, dev->profiles[i].file);
            ferry_profile_free(p);
            return rc;
        }
    ferry_installed_profile_t *ip = &dev->profiles[dev->n_profiles];
    ip->file = strdup(file);
    ip->source = src;
    ip->profile = p;
    dev->n_profiles++;
    return ip->file ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

int dev_profile_index_load(ferry_device_t *dev)
{
    char *pdir = dev_path(dev->dir, "profiles", NULL);
    char *ipath = dev_path(dev->dir, "profiles/index.plist", NULL);
    char **files = NULL;
    size_t n = 0;
    plist_t root = NULL, index = NULL;
    int rc = pdir && ipath ? list_files(pdir, &files, &n) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc && access(ipath, F_OK) == 0 && !(rc = ferry_plist_read_file(ipath, DEV_MAX_PLIST, &root))) {
        index = plist_get_node_type(root) == PLIST_DICT ? plist_dict_get_item(root, "Profiles") : NULL;
        if (!index || plist_get_node_type(index) != PLIST_ARRAY)
            rc = ferry_error_set(FERRY_EFORMAT, "profiles/index.plist: key 'Profiles' is missing or not an array");
    }
    if (!rc)
        rc = check_index(index, files, n);
    if (!rc && n && !(dev->profiles = calloc(n, sizeof *dev->profiles)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++)
        rc = load_one(dev, pdir, files[i], index);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    if (root)
        plist_free(root);
    free(pdir);
    free(ipath);
    return rc;
}

plist_t dev_profile_index_build(const ferry_device_t *dev)
{
    plist_t root = plist_new_dict(), arr = plist_new_array();
    for (size_t i = 0; i < dev->n_profiles; i++) {
        const ferry_installed_profile_t *ip = &dev->profiles[i];
        plist_t e = plist_new_dict();
        dev_dict_set_str(e, "File", ip->file);
        dev_dict_set_str(e, "PayloadIdentifier", ip->profile->PayloadIdentifier);
        dev_dict_set_str(e, "Source", ferry_profile_source_name(ip->source));
        dev_dict_set_bool(e, "IsManaged", ip->source == FERRY_SOURCE_MDM);
        plist_array_append_item(arr, e);
    }
    plist_dict_set_item(root, "Profiles", arr);
    return root;
}
