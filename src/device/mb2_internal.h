/*
 * mb2_internal.h: what the mobilebackup2 files share (mobilebackup2.c, mb2_backup.c). Internal.
 */
#ifndef FERRY_MB2_INTERNAL_H
#define FERRY_MB2_INTERNAL_H

#include "devicelink.h"
#include "ferry/backup.h"

/* ErrorCode values of the final DLMessageProcessMessage. 105, 207, 211 and 212 are real
 * MBErrorDomain codes (issue "Emulator"); 1 and 2 are the emulator's generic failure and bad
 * request. */
enum {
    MB2_E_GENERIC = 1,
    MB2_E_INVALID = 2,
    MB2_E_UNSUPPORTED = 3,
    MB2_E_NO_SPACE = 105,
    MB2_E_WRONG_PASSWORD = 207,
    MB2_E_FIND_MY = 211,
    MB2_E_SETUP = 212,
};

/* A boolean from the request's Options (or its top level); dflt when absent or not a boolean. */
int mb2_opt_bool(plist_t req, const char *key, int dflt);
/* Backup (§10.8): stages the backup with the writer, uploads it, ends with ProcessMessage. Returns
 * non-zero only when the connection is broken. */
int mb2_backup(emu_conn_t *c, plist_t req);

/* mb2_keybag.c: the device's backup keybag for an encrypted backup, kept across backups and unlocked
 * with the current backup password (a new one when that fails). Caller holds d->lock; free with
 * ferry_keybag_free. */
int mb2_keybag_get(emu_device_t *d, ferry_keybag_t **out);
/* Restore (mb2_restore.c); same contract as mb2_backup. */
int mb2_restore(emu_conn_t *c, plist_t req);
/* The post-restore hook (S2 check-in), run when the restored device is back (mb2_restore.c). */
void mb2_after_restore(emu_device_t *d);
/* mb2_admin.c: each ends with the final ProcessMessage. */
int mb2_change_password(emu_conn_t *c, plist_t req);
int mb2_enable_cloud_backup(emu_conn_t *c, plist_t req);
int mb2_info_list(emu_conn_t *c, int list);

#endif
