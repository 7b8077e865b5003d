/*
 * ferry/host.h: the host side over libimobiledevice (usbmuxd, lockdownd, mobilebackup2 and its
 * DeviceLink file protocol), for real devices and the emulator alike: listing devices, preflight,
 * backup into a repository staging folder, restore of one device from a Finder-layout backup folder,
 * the device's backup password, and reading a device's state back for plans and restore reports.
 *
 * Every wait on a device has a deadline (ferry_host_opts_t.timeout_ms); a device that stops answering
 * is FERRY_ETIMEOUT-like failure with a message naming the device and the step. The device's own
 * errors (MBErrorDomain codes in DLMessageProcessMessage) are kept in ferry_host_result_t and given a
 * plain message by ferry_host_mberror_message.
 *
 * The host never encrypts or decides content: the device does (DESIGN.md). Files the device uploads
 * are written to a new temporary name and renamed over (staging folders share files with older
 * snapshots through hard links; see ferry/store.h). Secrets (passwords) are passed as buffers and wiped
 * by their owner; they never travel in argv or logs.
 *
 * Dependencies: host -> store, policy, backup, common (never device or mdm).
 */
#ifndef FERRY_HOST_H
#define FERRY_HOST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "ferry/common.h"
#include "ferry/policy.h"
#include "ferry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What lockdownd tells of one attached device (`ferry devices`). Unknown numbers are -1. */
typedef struct {
    char udid[FERRY_UDID_MAX];
    char name[128];               /* DeviceName */
    char product_type[64];        /* ProductType, e.g. "iPhone15,2" */
    char device_class[32];        /* DeviceClass: iPhone, iPad, RealityDevice ... */
    char os_version[32];          /* ProductVersion */
    char build_version[32];       /* BuildVersion */
    char serial[64];              /* SerialNumber */
    int paired;                   /* a valid pair record (ValidatePair succeeded) */
    int supervised;               /* com.apple.mobile.chaperone DeviceIsChaperoned / IsSupervised */
    int password_set;             /* com.apple.mobile.backup WillEncrypt */
    int encryption_required;      /* com.apple.mobile.backup RequiresEncryption (forceEncryptedBackup) */
    int setup_done;               /* the device finished Setup Assistant (else MBErrorDomain 212) */
    int64_t data_capacity;        /* com.apple.disk_usage TotalDataCapacity, bytes */
    int64_t data_available;       /* com.apple.disk_usage TotalDataAvailable, bytes */
} ferry_host_device_t;

/* Progress of one device's operation, reported to ferry_host_opts_t.progress. */
typedef enum {
    FERRY_HOST_STAGE_PREFLIGHT = 0,
    FERRY_HOST_STAGE_CONNECT,
    FERRY_HOST_STAGE_TRANSFER,
    FERRY_HOST_STAGE_COMMIT,
    FERRY_HOST_STAGE_VERIFY,
    FERRY_HOST_STAGE_DONE
} ferry_host_stage_t;

typedef struct {
    const char *udid;
    ferry_host_stage_t stage;
    uint64_t files_done;          /* files sent or received so far */
    uint64_t bytes_done;          /* file bytes sent or received so far */
    uint64_t bytes_total;         /* estimate (0 when unknown) */
    double percent;               /* the device's own overall progress, -1 when not given */
    const char *file;             /* the file in transfer, may be NULL */
} ferry_host_progress_t;

typedef void (*ferry_host_progress_fn)(const ferry_host_progress_t *p, void *ctx);

typedef struct {
    int timeout_ms;                       /* deadline of every single wait on the device; 0: 30000 */
    ferry_host_progress_fn progress;      /* may be NULL */
    void *progress_ctx;
    volatile sig_atomic_t *cancel;        /* set (e.g. by SIGINT) to stop at the next message */
} ferry_host_opts_t;

/* The end of one operation as the device reported it. */
typedef struct {
    int device_error;             /* MBErrorDomain code of DLMessageProcessMessage, 0 for success */
    char device_message[256];     /* the device's ErrorDescription, "" when none */
    uint64_t files;               /* files transferred */
    uint64_t bytes;               /* bytes transferred */
} ferry_host_result_t;

/* A plain message for an MBErrorDomain code (105, 207, 211, 212, ...); never NULL. */
const char *ferry_host_mberror_message(int code);

/* ---- devices ------------------------------------------------------------------------------------ */

/* Every attached device (usbmuxd), with lockdownd's answers. *out is malloc'd (free()); n may be 0. */
int ferry_host_list(const ferry_host_opts_t *opts, ferry_host_device_t **out, size_t *n);
/* One device. FERRY_ENOTFOUND when it is not attached. */
int ferry_host_device_info(const char *udid, const ferry_host_opts_t *opts, ferry_host_device_t *out);
/* 0 when usbmuxd lists device udid, FERRY_ENOTFOUND when not; no lockdownd session (cheap). */
int ferry_host_attached(const char *udid);

/* ---- backup ------------------------------------------------------------------------------------- */

typedef struct {
    int full;                     /* ask for a full backup (ignore the seeded previous one) */
    uint64_t host_free_margin;    /* bytes that must stay free on the host; 0: 512 MiB */
} ferry_host_backup_opts_t;

/* Checks before any transfer, on a description already read (ferry_host_device_info; ferry_host_backup
 * makes them on its own lockdownd session, so that a backup needs one TLS handshake): paired, setup
 * finished, encryption required but no password, host free space against the device's used space. A
 * failure names the reason and what to do. */
int ferry_host_preflight_check(const ferry_host_device_t *d, const char *staging_root);

/* Backs up device udid into staging_root (the folder that holds <UDID>/, e.g. ferry_staging_root;
 * seeded with the previous snapshot for an incremental backup), after the preflight checks
 * (ferry_host_preflight_check; nothing is asked of mobilebackup2 when they fail). The device decides
 * the content and encrypts; on success the folder holds a complete backup (Status.plist finished). The caller commits
 * or aborts the staging folder. A device error is FERRY_EDEVICE-like with res->device_error set. */
int ferry_host_backup(const char *udid, const char *staging_root, const ferry_host_backup_opts_t *bopts,
                      const ferry_host_opts_t *opts, ferry_host_result_t *res);

/* ---- restore ------------------------------------------------------------------------------------ */

typedef struct {
    int system_files;             /* RestoreSystemFiles */
    int reboot;                   /* RestoreShouldReboot (default on) */
    int preserve_settings;        /* RestorePreserveSettings */
    int remove_items_not_restored;/* RemoveItemsNotRestored */
    const char *password;         /* the backup's password for an encrypted backup, or NULL */
    size_t password_len;
    /* ferry's extension of the Restore request's Options, read by the emulated device (ignored by
     * real ones): the host type the device plans with (S5) and the data categories it leaves out (X1) */
    ferry_host_type_t host_type;  /* FERRY_HOST_FINDER (not sent) or FERRY_HOST_CONFIGURATOR */
    unsigned skip_categories;     /* FERRY_CAT_* bits; 0 sends nothing */
} ferry_host_restore_opts_t;

/* Restores the Finder-layout backup in backup_root/<source_udid>/ onto device target_udid. The backup
 * folder is only read (RestoreDontCopyBackup is always set: snapshots are immutable). */
int ferry_host_restore(const char *target_udid, const char *backup_root, const char *source_udid,
                       const ferry_host_restore_opts_t *ropts, const ferry_host_opts_t *opts,
                       ferry_host_result_t *res);

/* ---- backup password ---------------------------------------------------------------------------- */

/* ChangePassword: set (old NULL), change, or remove (new NULL). A wrong old password is FERRY_EPASSWORD
 * (MBErrorDomain 207). */
int ferry_host_password(const char *udid, const char *old_pw, size_t old_len, const char *new_pw,
                        size_t new_len, const ferry_host_opts_t *opts, ferry_host_result_t *res);

/* ---- reading a device back ---------------------------------------------------------------------- */

/* The state of an attached device as the host can read it (lockdownd; MCInstall GetProfileList and
 * GetCloudConfiguration; installation_proxy Browse), as policy facts for restore plans and for
 * comparing a plan with what a restore did. Arrays inside *out are owned by it:
 * ferry_host_facts_free releases them. */
int ferry_host_device_facts(const char *udid, const ferry_host_opts_t *opts, ferry_device_facts_t *out);
void ferry_host_facts_free(ferry_device_facts_t *f);

#ifdef __cplusplus
}
#endif
#endif
