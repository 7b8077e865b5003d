/*
 * mb2_admin.c: the mobilebackup2 requests that change or describe the device rather than move files
 * (§7.4-§7.6, §10.8): ChangePassword (set, change, remove the backup password; a wrong old password
 * is MBErrorDomain 207; under forceEncryptedBackup the password cannot be removed), EnableCloudBackup
 * (refused when the restriction allowCloudBackup is false), Info and List (a text summary in
 * Content). Invariants: changes go through the device module (ferry_device_set_backup_password,
 * ferry_device_set) under the device's lock; after a failed change the model is reloaded from the
 * directory, as device.h requires; passwords are wiped after use.
 */
#include "mb2_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Caller holds d->lock. */
static void reload_model(emu_device_t *d)
{
    ferry_device_t *m = NULL;
    if (ferry_device_load(d->dir, &m) == 0) {
        ferry_device_free(d->model);
        d->model = m;
    }
    d->will_encrypt = d->model->has_backup_password;
}

static char *secret(plist_t req, const char *key)
{
    return emu_dict_string(req, key);
}

static void wipe_free(char *s)
{
    if (s) {
        ferry_wipe(s, strlen(s));
        free(s);
    }
}

/* Returns the ErrorCode; *desc is a static message. Caller holds d->lock. */
static int change_password_locked(emu_device_t *d, const char *oldpw, const char *newpw, const char **desc)
{
    *desc = NULL;
    if (d->will_encrypt) {
        if (!oldpw || ferry_device_check_backup_password(d->model, oldpw, strlen(oldpw))) {
            *desc = "the old backup password is wrong";
            return MB2_E_WRONG_PASSWORD;
        }
    } else if (oldpw && *oldpw) {
        *desc = "no backup password is set";
        return MB2_E_WRONG_PASSWORD;
    }
    if (!newpw || !*newpw) {
        if (d->requires_encryption) {
            *desc = "backup encryption cannot be turned off on this device (forceEncryptedBackup)";
            return MB2_E_INVALID;
        }
        newpw = NULL;
    }
    int rc = ferry_device_set_backup_password(d->model, newpw, newpw ? strlen(newpw) : 0);
    if (rc) {
        reload_model(d);
        *desc = "the device could not store the backup password";
        return MB2_E_GENERIC;
    }
    d->will_encrypt = d->model->has_backup_password;
    return 0;
}

int mb2_change_password(emu_conn_t *c, plist_t req)
{
    emu_device_t *d = c->dev;
    char *oldpw = secret(req, "OldPassword");
    char *newpw = secret(req, "NewPassword");
    const char *desc;
    pthread_mutex_lock(&d->lock);
    int code = change_password_locked(d, oldpw, newpw, &desc);
    pthread_mutex_unlock(&d->lock);
    wipe_free(oldpw);
    wipe_free(newpw);
    return emu_dl_finish(c, code, desc, NULL);
}

int mb2_enable_cloud_backup(emu_conn_t *c, plist_t req)
{
    emu_device_t *d = c->dev;
    int on = mb2_opt_bool(req, "CloudBackupState", 0);
    if (on && !d->allow_cloud_backup)
        return emu_dl_finish(c, MB2_E_INVALID, "iCloud Backup is not allowed on this device (allowCloudBackup)",
                             NULL);
    pthread_mutex_lock(&d->lock);
    int rc = ferry_device_set(d->model, "IsCloudBackupEnabled", on ? "true" : "false");
    if (rc)
        reload_model(d);
    pthread_mutex_unlock(&d->lock);
    return emu_dl_finish(c, rc ? MB2_E_GENERIC : 0, rc ? "the device could not change iCloud Backup" : NULL, NULL);
}

typedef struct {
    char *buf;
    size_t len, cap;
    uint64_t files, bytes;
} text_t;

static void text_add(text_t *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t ncap = (t->len + n + 1) * 2;
        char *nb = realloc(t->buf, ncap);
        if (!nb)
            return;
        t->buf = nb;
        t->cap = ncap;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static int list_one(const ferry_device_file_t *f, void *ctx)
{
    text_t *t = ctx;
    char line[64];
    text_add(t, f->domain);
    text_add(t, ",");
    text_add(t, f->relpath);
    snprintf(line, sizeof line, ",%llu\n", (unsigned long long)f->size);
    text_add(t, line);
    t->files++;
    t->bytes += f->size;
    return 0;
}

/* Info: identity and backup settings; List: the device's files (Domain,RelativePath,Size). */
int mb2_info_list(emu_conn_t *c, int list)
{
    emu_device_t *d = c->dev;
    text_t t = {0};
    char line[512];
    pthread_mutex_lock(&d->lock);
    if (list) {
        text_add(&t, "Domain,RelativePath,Size\n");
        ferry_device_files_walk(d->model, list_one, &t);
    } else {
        snprintf(line, sizeof line,
                 "Device Name: %s\nUnique Identifier: %s\nProduct Type: %s\nProduct Version: %s\n"
                 "Build Version: %s\nSerial Number: %s\nBackup Encryption: %s\nEncryption Required: %s\n"
                 "iCloud Backup: %s\n",
                 d->model->DeviceName, d->udid, d->model->ProductType, d->model->ProductVersion,
                 d->model->BuildVersion, d->model->SerialNumber, d->will_encrypt ? "on" : "off",
                 d->requires_encryption ? "yes" : "no", d->model->IsCloudBackupEnabled ? "on" : "off");
        text_add(&t, line);
    }
    pthread_mutex_unlock(&d->lock);
    int rc = emu_dl_finish(c, t.buf ? 0 : MB2_E_GENERIC, NULL, t.buf ? t.buf : "");
    free(t.buf);
    return rc;
}
