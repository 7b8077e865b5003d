/*
 * host_internal.h: what the files of src/host share and nothing else includes: a connection to one
 * device (usbmuxd, lockdownd, mobilebackup2) with deadlines, and the DeviceLink loop that serves the
 * device's file requests (DLMessageUploadFiles, DownloadFiles, ...) inside a backup root until the
 * final DLMessageProcessMessage. backup.c, restore.c and password.c are short sequences on top of
 * these two.
 *
 * Deadlines: DeviceLink runs on libimobiledevice's service layer (dlwire.c) rather than its
 * mobilebackup2_* functions, whose receives wait 30 s or more whatever the caller's deadline; every
 * receive gives up once opts->timeout_ms passed without a byte from the device, and Ctrl-C
 * (opts->cancel) or a cancel on the device is noticed within a second.
 */
#ifndef FERRY_HOST_INTERNAL_H
#define FERRY_HOST_INTERNAL_H

#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <libimobiledevice/mobilebackup2.h>
#include <libimobiledevice/notification_proxy.h>
#include <libimobiledevice/property_list_service.h>
#include <libimobiledevice/service.h>

#include "ferry/host.h"

#define HOST_DEFAULT_TIMEOUT_MS 30000
#define HOST_LABEL "ferry"

/* The mobilebackup2 connection: DeviceLink framing with deadlines (dlwire.c). */
typedef struct {
    service_client_t svc;          /* NULL when closed */
    const char *udid;
    const ferry_host_opts_t *opts;
    volatile sig_atomic_t *device_cancel; /* may be NULL */
    int dead;                      /* the device stopped answering or closed: no polite teardown */
    /* Received but not yet consumed: small reads (a file's length, code, name) are served from here
     * rather than with a receive call each. */
    uint32_t rpos, rlen;
    uint8_t rbuf[16384];
} host_wire_t;

/* Connects to the service, then the DeviceLink version exchange and mobilebackup2's Hello. */
int host_wire_open(host_wire_t *w, idevice_t dev, lockdownd_service_descriptor_t svc);
/* Exactly len bytes / all of buf, within the deadline; FERRY_ETIMEOUT, FERRY_EIO, FERRY_ECANCELED. */
int host_wire_recv(host_wire_t *w, void *buf, size_t len, const char *step);
int host_wire_send(host_wire_t *w, const void *buf, size_t len, const char *step);
int host_wire_send_plist(host_wire_t *w, plist_t p, const char *step);
/* The next DL message (an array whose first item is a "DL..." string); *name malloc'd. */
int host_wire_recv_dl(host_wire_t *w, plist_t *msg, char **name, const char *step);
/* ["DLMessageProcessMessage", dict] (dict copied). */
int host_wire_process_message(host_wire_t *w, plist_t dict);
/* ["DLMessageProcessMessage", {MessageName: request, TargetIdentifier, SourceIdentifier?, Options?}]. */
int host_wire_request(host_wire_t *w, const char *request, const char *target, const char *source, plist_t options);
/* ["DLMessageStatusResponse", code, s1 or EMPTY, s2 or EMPTY]. */
int host_wire_status(host_wire_t *w, int64_t code, const char *s1, plist_t s2);
/* Sends DLMessageDisconnect (best effort) and closes. */
void host_wire_close(host_wire_t *w);

/* One device: idevice and lockdownd session (open until host_conn_start_mb2), then mobilebackup2. */
typedef struct {
    char udid[FERRY_UDID_MAX];
    const ferry_host_opts_t *opts;
    int timeout_ms;                /* opts->timeout_ms or the default */
    idevice_t dev;
    lockdownd_client_t ld;         /* NULL once mobilebackup2 is started */
    host_wire_t wire;              /* mobilebackup2 (wire.svc NULL until started) */
    /* The sync session of backups and restores (synclock.c): notification_proxy and the AFC lock. */
    property_list_service_client_t np; /* notification_proxy, spoken with property_list_service */
    afc_client_t afc;
    uint64_t lock_handle;
    int lock_open, locked;
    volatile sig_atomic_t device_cancel; /* the user canceled the sync on the device */
    void *np_watch;                /* synclock.c's notification watcher while the sync runs, or NULL */
} host_conn_t;

/* The deadline in force for opts (opts may be NULL). */
int host_timeout_ms(const ferry_host_opts_t *opts);
/* FERRY_ECANCELED (message names udid and step) when opts->cancel is set, else 0. */
int host_check_cancel(const ferry_host_opts_t *opts, const char *udid, const char *step);

/* Finds the device (FERRY_ENOTFOUND when not attached) and opens a lockdownd session (pairing when
 * needed). On failure everything is released. */
int host_conn_open(const char *udid, const ferry_host_opts_t *opts, host_conn_t *c);
/* Fills the device description from lockdownd (needs the session of host_conn_open). */
int host_conn_describe(host_conn_t *c, ferry_host_device_t *out);
/* Starts mobilebackup2 (with the escrow bag), ends the lockdownd session, and says Hello. With sync,
 * also notification_proxy and AFC (started in the same session, as idevicebackup2 does), then takes
 * the sync lock (host_sync_begin). */
int host_conn_start_mb2(host_conn_t *c, int sync);
/* Releases the sync lock, sends DLMessageDisconnect and releases everything. */
void host_conn_close(host_conn_t *c);

/* synclock.c: the iTunes sync session around a backup or restore: syncWillStart, the AFC lock on
 * /com.apple.itunes.lock_sync (retried while the device says it would block), syncDidStart, and a
 * watch for com.apple.itunes-client.syncCancelRequest, which sets c->device_cancel. */
int host_sync_connect(host_conn_t *c, lockdownd_service_descriptor_t np_svc, lockdownd_service_descriptor_t afc_svc);
int host_sync_begin(host_conn_t *c);
void host_sync_end(host_conn_t *c);

/* ---- the DeviceLink loop (devicelink*.c) -------------------------------------------------------- */

typedef struct {
    host_wire_t *wire;             /* the connection's mobilebackup2 (also its deadline and cancel flags) */
    const char *udid;              /* for messages */
    const char *root;              /* the backup root (holds <UDID>/); NULL: every file request fails */
    int read_only;                 /* restores: writes are refused with an error status */
    const ferry_host_opts_t *opts;
    uint64_t reserve;              /* bytes GetFreeDiskSpace keeps back from the device */
    ferry_host_stage_t stage;      /* reported with progress */
    ferry_host_result_t *res;      /* counters and the device's final error; required */
    char *content;                 /* ProcessMessage Content, malloc'd, or NULL (caller frees) */
    double percent;                /* the device's last progress figure, -1 when none */
    uint64_t bytes_total;          /* UploadFiles' total size, 0 when unknown */
} host_dl_t;

/* Serves the device's DL messages until DLMessageProcessMessage or DLMessageDisconnect. Returns 0
 * when the device reported ErrorCode 0; FERRY_EDEVICE (FERRY_EPASSWORD for 207, FERRY_ENOSPC for
 * 105) with res->device_error and res->device_message set when it reported an error; FERRY_ETIMEOUT,
 * FERRY_EIO (device gone), FERRY_ECANCELED, FERRY_EFORMAT (protocol violation), FERRY_EUNSAFE (a path
 * outside the root) otherwise. Messages name the device and the step. */
int host_dl_run(host_dl_t *dl);

/* Internal to devicelink*.c. */
int host_dl_recv_exact(host_dl_t *dl, void *buf, size_t len, const char *step);
int host_dl_send_raw(host_dl_t *dl, const void *buf, size_t len, const char *step);
int host_dl_status(host_dl_t *dl, int64_t code, const char *msg, plist_t content);
/* The absolute path of rel under the root after the checks (relative, no "..", no empty component,
 * no symlink on the way); malloc'd. FERRY_EUNSAFE / FERRY_EINVAL. */
int host_dl_path(host_dl_t *dl, const char *rel, char **out);
void host_dl_progress(host_dl_t *dl, const char *file);
/* errno -> the DeviceLink status code (ENOENT -6, EEXIST -7, else -errno). */
int host_dl_errno_code(int err);
int host_dl_upload(host_dl_t *dl, plist_t msg);     /* DLMessageUploadFiles */
int host_dl_download(host_dl_t *dl, plist_t msg);   /* DLMessageDownloadFiles */
int host_dl_fsop(host_dl_t *dl, const char *name, plist_t msg, int *handled); /* directories, moves, ... */

#endif
