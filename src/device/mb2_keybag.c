/*
 * mb2_keybag.c: the served device's backup keybag, kept from one encrypted backup to the next in
 * <state>/<udid>/backup_keybag (the keybag's TLV bytes, class keys wrapped by the backup password, as
 * in Manifest.plist). A real device keeps its backup keybag and re-uses unchanged files' records in
 * an incremental backup; with the same keybag, backup_build.c derives each file key from the content
 * (file_keys.c), so unchanged files upload nothing. Invariants: the kept keybag is used only when the
 * current backup password unlocks it; otherwise (first encrypted backup, password changed or removed
 * and set again, damaged file) a new keybag is made and replaces it, and the next backup is complete.
 * The password and the KEK are wiped after use.
 */
#include "mb2_internal.h"
#include "device_internal.h"

#include <stdlib.h>
#include <string.h>

#define KEYBAG_FILE "backup_keybag"
#define KEYBAG_MAX (64u * 1024)

/* The kept keybag, unlocked with pw; NULL when there is none or pw does not unlock it. */
static ferry_keybag_t *load_kept(const char *path, const char *pw, size_t pwlen)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    ferry_keybag_t *kb = NULL;
    uint8_t kek[FERRY_KEY_LEN];
    if (ferry_file_read_all(path, KEYBAG_MAX, &bytes, &len) || ferry_keybag_parse(bytes, len, &kb) ||
        ferry_keybag_derive_kek(kb, pw, pwlen, NULL, kek) || ferry_keybag_unlock(kb, kek)) {
        ferry_keybag_free(kb);
        kb = NULL;
        ferry_error_clear();
    }
    ferry_wipe(kek, sizeof kek);
    free(bytes);
    return kb;
}

int mb2_keybag_get(emu_device_t *d, ferry_keybag_t **out)
{
    *out = NULL;
    char *pw = NULL;
    size_t pwlen = 0;
    int rc = ferry_device_get_backup_password(d->model, &pw, &pwlen);
    if (rc)
        return rc;
    char *path = ferry_path_join(d->state_dir, KEYBAG_FILE);
    ferry_keybag_t *kb = path ? load_kept(path, pw, pwlen) : NULL;
    if (path && !kb) {
        ferry_keybag_params_t kdf = {.dpic = d->srv->kdf_dpic};
        uint8_t *bytes = NULL;
        size_t len = 0;
        rc = ferry_keybag_create(pw, pwlen, &kdf, &kb, NULL);
        if (!rc && !(rc = ferry_keybag_serialize(kb, &bytes, &len)))
            rc = ferry_file_write_atomic(path, bytes, len, 0600);
        free(bytes);
        if (rc) {
            ferry_keybag_free(kb);
            kb = NULL;
        }
    } else if (!path) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    free(path);
    ferry_wipe(pw, pwlen);
    free(pw);
    *out = kb;
    return rc;
}
