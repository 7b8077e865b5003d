/*
 * create.c: `ferry device create`: a device directory from a template. The device is built in a
 * temporary sibling directory and renamed into place only when complete, so DIR is either absent, or
 * a whole device, never half of one; a failure removes the temporary directory. Bulk data is not
 * fsynced file by file: one syncfs() before the rename makes the whole tree durable at once.
 */
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#define DEFAULT_MDM_URL "https://mdm.example.com/mdm"
#define MAX_FILES 100000000ULL

void ferry_device_create_opts_init(ferry_device_create_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->files = 20;
    o->size = 2u * 1024 * 1024;
}

static int is_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static int check_opts(const char *dir, const ferry_device_create_opts_t *o, const dev_template_t **t)
{
    *t = dev_template_find(o->template_name);
    if (!*t)
        return ferry_error_set(FERRY_EINVAL, "unknown template '%s' (see `ferry device create --help`)",
                               o->template_name ? o->template_name : "");
    if (o->files > MAX_FILES)
        return ferry_error_set(FERRY_ELIMIT, "--files is limited to %llu", MAX_FILES);
    if (o->mdm_url && strncmp(o->mdm_url, "https://", 8) && strncmp(o->mdm_url, "http://", 7))
        return ferry_error_set(FERRY_EINVAL, "--mdm-url must start with https:// (or http:// for a test server)");
    if (o->mdm_url && strlen(o->mdm_url) > 900)
        return ferry_error_set(FERRY_EINVAL, "--mdm-url is too long");
    if (o->name && (!*o->name || strlen(o->name) > 255))
        return ferry_error_set(FERRY_EINVAL, "--name must be 1 to 255 bytes");
    struct stat st;
    if (lstat(dir, &st) == 0 && !(S_ISDIR(st.st_mode) && is_empty_dir(dir)))
        return ferry_error_set(FERRY_EEXIST, "%s exists and is not an empty directory; choose another path", dir);
    return 0;
}

static char *temp_sibling(const char *dir)
{
    char *copy = strdup(dir), *tmpl = NULL;
    if (!copy)
        return NULL;
    const char *base = basename(copy);
    char *dcopy = strdup(dir);
    const char *parent = dcopy ? dirname(dcopy) : ".";
    if (asprintf(&tmpl, "%s/.%s.creating-XXXXXX", parent, base) < 0)
        tmpl = NULL;
    free(copy);
    free(dcopy);
    if (tmpl && !mkdtemp(tmpl)) {
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

static int cmp_profile(const void *a, const void *b)
{
    return strcmp(((const ferry_installed_profile_t *)a)->file, ((const ferry_installed_profile_t *)b)->file);
}

static int sync_tree(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", dir);
    int rc = syncfs(fd) == 0 ? 0 : ferry_error_errno("cannot sync %s", dir);
    close(fd);
    return rc;
}

static int hardware_key(const ferry_device_t *dev, uint64_t seed)
{
    uint8_t key[32];
    dev_rng_t r;
    dev_rng_seed(&r, seed, "hardware.key"); /* predictable, as every key of a generated device */
    dev_rng_fill(&r, key, sizeof key);
    char *p = dev_path(dev->dir, "hardware.key", NULL);
    int rc = p ? ferry_file_write_atomic(p, key, sizeof key, 0600) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    ferry_wipe(key, sizeof key);
    free(p);
    return rc;
}

static int build(dev_build_t *b)
{
    int rc = dev_template_model(b);
    if (!rc)
        rc = dev_template_profiles(b);
    if (!rc && b->dev->n_profiles)
        qsort(b->dev->profiles, b->dev->n_profiles, sizeof *b->dev->profiles, cmp_profile);
    if (!rc)
        rc = dev_check_invariants(b->dev, "device.plist");
    if (!rc)
        rc = ferry_mkdir_p(b->dev->dir, 0700);
    if (!rc)
        rc = dev_template_files(b);
    if (!rc)
        rc = hardware_key(b->dev, b->o->seed);
    if (!rc)
        rc = ferry_device_save(b->dev);
    return rc;
}

int ferry_device_create(const char *dir, const ferry_device_create_opts_t *opts)
{
    const dev_template_t *t;
    int rc = check_opts(dir, opts, &t);
    if (rc)
        return rc;
    char *tmp = temp_sibling(dir);
    if (!tmp)
        return ferry_error_errno("cannot create a temporary directory next to %s", dir);
    ferry_device_t *dev = calloc(1, sizeof *dev);
    if (!dev || !(dev->dir = strdup(tmp))) {
        free(dev);
        dev_rmtree(tmp);
        free(tmp);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    dev_build_t b = {t, opts, dev, opts->mdm_url ? opts->mdm_url : DEFAULT_MDM_URL};
    rc = build(&b);
    if (!rc)
        rc = sync_tree(tmp);
    if (!rc && rename(tmp, dir) != 0)
        rc = errno == ENOTEMPTY || errno == EEXIST
                 ? ferry_error_set(FERRY_EEXIST, "%s appeared while the device was being created", dir)
                 : ferry_error_errno("cannot rename %s to %s", tmp, dir);
    if (!rc) {
        char *copy = strdup(dir);
        rc = copy ? ferry_fsync_dir(dirname(copy)) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(copy);
    }
    if (rc) {
        dev_rmtree(tmp);
        ferry_error_wrap(rc, "cannot create device %s from template %s", dir, t->name);
    }
    ferry_device_free(dev);
    free(tmp);
    return rc;
}
