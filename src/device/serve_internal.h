/*
 * serve_internal.h: what the files of the emulated device's protocol stack share (serve.c, serve_mem.c,
 * usbmux_server.c, service_conn.c, tls.c, lockdown_server.c, notification_proxy.c,
 * installation_proxy.c, afc_server.c, devicelink.c, mobilebackup2.c, mb2_*.c). Not a public header: the public entry point is ferry_device_serve()
 * in include/ferry/device.h. The wire formats are those of spec/device-protocol.md; section numbers
 * below refer to it.
 *
 * Concurrency model: one thread per accepted connection (§13.1). Everything a connection thread may
 * change in a served device (trusted hosts, pair records, backup password) is guarded by that
 * device's mutex; the rest of emu_device_t is read-only after start-up.
 */
#ifndef FERRY_SERVE_INTERNAL_H
#define FERRY_SERVE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>
#include <openssl/ssl.h>

#include "ferry/common.h"
#include "ferry/device.h"

/* Fixed device ports: a service's port outlives the lockdownd connection that announced it (§6.7). */
enum {
    EMU_PORT_LOCKDOWN = 62078,
    EMU_PORT_NOTIFICATION = 49201,
    EMU_PORT_AFC = 49202,
    EMU_PORT_MOBILEBACKUP2 = 49203,
    EMU_PORT_INSTPROXY = 49204,
    EMU_PORT_MCINSTALL = 49205,
};

#define EMU_PLIST_MAX (16u * 1024 * 1024) /* largest framed plist accepted from a host */

typedef struct emu_server emu_server_t;
typedef struct emu_np_observer emu_np_observer_t;

/* One served device directory. */
typedef struct {
    int id;                 /* usbmux DeviceID, > 0 */
    char *dir;              /* the device directory */
    ferry_device_t *model;  /* the device module's model of dir (include/ferry/device.h); guarded by lock */
    char *state_dir;        /* <instance state>/<udid>: AFC root, trusted hosts, device key */
    char *afc_root;         /* <state_dir>/media */
    /* identity (read-only after load) */
    char *udid, *name, *product_type, *product_version, *build_version, *serial, *device_class;
    char *wifi_address;
    int pv_major;           /* ProductVersion major, for the TLS floor (§6.6) */
    /* device key and certificate: TLS server identity and DevicePublicKey */
    EVP_PKEY *key;
    X509 *cert;
    char *pubkey_pem;       /* PKCS#1 "RSA PUBLIC KEY" PEM */
    SSL_CTX *ssl_ctx;
    pthread_mutex_t lock;   /* guards the files below and will_encrypt */
    int will_encrypt;       /* a backup password is set */
    int requires_encryption; /* restriction forceEncryptedBackup (B13's effective value) */
    int allow_cloud_backup;  /* restriction allowCloudBackup */
    emu_np_observer_t *observers; /* notification_proxy connections (notification_proxy.c); lock */
    atomic_int rebooting;   /* detached while it "reboots" after a restore (mb2_reboot.c) */
    atomic_int reboot_pending; /* a restore asked for a reboot: it starts when the host disconnects */
    emu_server_t *srv;
} emu_device_t;

struct emu_server {
    emu_device_t **devs;
    size_t ndevs;
    char *state_dir;        /* pair records under <state_dir>/pair/, devices under <state_dir>/<udid>/ */
    char *buid;             /* SystemBUID reported by ReadBUID */
    pthread_mutex_t lock;   /* guards pair records */
    volatile sig_atomic_t *stop;
    int verbose;
    uint32_t kdf_dpic;      /* ferry_serve_opts_t.kdf_dpic */
    int (*restored)(const char *dir, void *ctx); /* ferry_serve_opts_t.restored, or NULL */
    void *restored_ctx;
    ferry_host_type_t restore_host;   /* ferry_serve_opts_t.restore_host */
    unsigned restore_skip;            /* ferry_serve_opts_t.restore_skip_categories */
};

/* An in-memory connection (serve_mem.c): the host's bytes come from in, the replies go to out. */
typedef struct {
    const uint8_t *in;
    size_t in_len, in_pos;
    uint8_t *out;           /* malloc'd, grown as replies are written */
    size_t out_len, out_cap;
    size_t out_max;         /* a write past this fails, as to a host that stopped reading */
} emu_mem_t;

/* A connection from the host, plain or TLS after lockdownd's StartSession. */
typedef struct {
    int fd;
    SSL *ssl;
    emu_mem_t *mem;         /* non-NULL: in memory (fd unused; StartSession's TLS is a no-op) */
    emu_server_t *srv;
    emu_device_t *dev;      /* set after usbmux Connect */
    const char *what;       /* for messages: "usbmuxd", "lockdownd", ... */
} emu_conn_t;

/* ---- service_conn.c: reading and writing on a connection ----------------------------------------- */

/* Reads exactly len bytes: 0, or FERRY_EIO on error or end of stream (message names conn->what). */
int emu_read(emu_conn_t *c, void *buf, size_t len);
/* Writes all bytes; a single write call per buffer on plain sockets (§2 item 2). */
int emu_write(emu_conn_t *c, const void *buf, size_t len);
/* Frames a plist as u32BE length | body (XML when xml, binary otherwise) in one buffer (§5). */
int emu_plist_frame(plist_t p, int xml, uint8_t **out, size_t *len);
int emu_plist_send(emu_conn_t *c, plist_t p, int xml);
/* Parses u32BE-length framing from a buffer: the length checked against EMU_PLIST_MAX. */
int emu_plist_length(const uint8_t hdr[4], uint32_t *len);
/* Receives one framed plist: FERRY_EIO at end of stream, FERRY_EFORMAT for a bad length or body. */
int emu_plist_recv(emu_conn_t *c, plist_t *out);
/* A copy of a dict's string value (malloc'd: the caller frees), or NULL when dict is not a dict or the
 * key is absent or not a string. */
char *emu_dict_string(plist_t dict, const char *key);

/* ---- usbmux_server.c ------------------------------------------------------------------------------ */

typedef struct {
    uint32_t length, version, message, tag;
} emu_usbmux_hdr_t;

/* Decodes and checks a 16-byte header (§4.2): FERRY_EFORMAT when length < 16 or > 1 MiB, or when it
 * is not a version-1 plist message. */
int emu_usbmux_parse_header(const uint8_t b[16], emu_usbmux_hdr_t *h);
/* Serves one accepted client connection until it closes; becomes the device service after Connect. */
void emu_usbmux_serve(emu_conn_t *c);
/* Port as usbmuxd Connect sends it (htons value, §4.4) to host order. */
uint16_t emu_usbmux_port(uint64_t n);
/* Sends an Attached (attached != 0) or Detached event for d to every Listen subscriber. */
void emu_usbmux_notify(emu_device_t *d, int attached);

/* ---- serve.c: the server without its listener, and pair records --------------------------------- */

/* Loads the devices of dirs (ids 1..n) with o's state_dir (or the default for o->listen), kdf_dpic,
 * verbose and restored hook: what ferry_device_serve does before it listens. s is filled; on failure
 * everything is released. emu_server_close releases it. */
int emu_server_open(emu_server_t *s, const char *const *dirs, size_t n, const ferry_serve_opts_t *o);
void emu_server_close(emu_server_t *s);

/* ---- serve_mem.c: one service run on bytes instead of a socket ----------------------------------- */

/* Serves the host bytes in[0..len) to service ("usbmuxd", "lockdownd", "notification_proxy", "afc",
 * "mobilebackup2" or "installation_proxy"; the services run as device 1 of s) until they are used up
 * or the service ends the connection, the way a socket would, and returns the device's replies in
 * *out (malloc'd, *out_len bytes; NULL when none). out_max (0: 64 MiB) bounds what is kept: a write
 * past it fails like one to a host that stopped reading. FERRY_EINVAL for an unknown service or
 * when s has no device. This is the `handle(bytes) -> reply` of the fuzz targets and unit tests. */
int emu_serve_bytes(emu_server_t *s, const char *service, const uint8_t *in, size_t len, size_t out_max,
                    uint8_t **out, size_t *out_len);

/* ---- serve.c: pair records (the emulator is usbmuxd's pair-record store, §4.5) --------------------- */

int emu_pair_record_read(emu_server_t *s, const char *udid, uint8_t **data, size_t *len);
int emu_pair_record_save(emu_server_t *s, const char *udid, const uint8_t *data, size_t len);
int emu_pair_record_delete(emu_server_t *s, const char *udid);
emu_device_t *emu_find_device(emu_server_t *s, int64_t id);
/* The connection on fd now serves d (after usbmux Connect). */
void emu_conn_bind(int fd, emu_device_t *d);
/* Shuts down every connection bound to d except except_fd; returns how many. */
size_t emu_conn_drop_device(emu_device_t *d, int except_fd);
/* Trusted HostIDs of a device (lockdownd Pair/Unpair). */
int emu_host_trusted(emu_device_t *d, const char *host_id);
int emu_host_trust(emu_device_t *d, const char *host_id, int trust);

/* ---- tls.c --------------------------------------------------------------------------------------- */

/* Loads or creates the device's RSA key (<state_dir>/device.key) and a self-signed certificate, the
 * PKCS#1 PEM public key and an SSL_CTX for the server side of lockdownd sessions (§6.6). */
int emu_tls_device_init(emu_device_t *d);
void emu_tls_device_free(emu_device_t *d);
/* Runs the server handshake on c->fd; c->ssl set on success. */
int emu_tls_accept(emu_conn_t *c);
void emu_tls_close(emu_conn_t *c);

/* ---- the services; each serves one connection until the host closes it ---------------------------- */

void emu_lockdown_serve(emu_conn_t *c);
void emu_np_serve(emu_conn_t *c);
/* Sends RelayNotification name to every notification_proxy connection of d that observes it;
 * returns how many got it. */
size_t emu_np_relay(emu_device_t *d, const char *name);
void emu_instproxy_serve(emu_conn_t *c);
void emu_mcinstall_serve(emu_conn_t *c); /* mcinstall.c: com.apple.mobile.MCInstall */
void emu_afc_serve(emu_conn_t *c);
void emu_mb2_serve(emu_conn_t *c);
/* mb2_reboot.c: after a restore that asked for it, the device "reboots" once the host has
 * disconnected mobilebackup2 (c): Detached, its other connections dropped, the post-restore hook (the
 * S2 check-in) run as part of the boot, then Attached again. */
void emu_device_reboot(emu_conn_t *c);

#endif
