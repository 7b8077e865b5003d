/*
 * serve.c: `ferry device serve`: loads the device directories, listens on a UNIX or TCP socket and
 * runs one thread per accepted connection (spec/device-protocol.md §13.1: a host keeps
 * notification_proxy, AFC and mobilebackup2 open at once and opens lockdownd connections meanwhile).
 * It also keeps the instance state that usbmuxd and the devices own: pair records (the emulator is
 * the host's pair-record store, §4.5) under <state>/pair/, and per device <state>/<udid>/ with the
 * device key, trusted HostIDs and the AFC media root. Nothing is ever read from or written to
 * /var/lib/lockdown. Invariants: a connection thread owns its socket; at stop every open socket is
 * shut down and serve waits for the threads before freeing the devices they use.
 */
#include "ferry/device.h"
#include "serve_internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 256

static volatile sig_atomic_t stop_flag, cancel_flag;

void ferry_device_serve_stop(void)
{
    stop_flag = 1;
}

void ferry_device_serve_cancel_sync(void)
{
    cancel_flag = 1;
}

/* The user "cancels the sync on the device": hosts that observe syncCancelRequest abort. */
static void relay_cancel(emu_server_t *s)
{
    cancel_flag = 0;
    for (size_t i = 0; i < s->ndevs; i++) {
        size_t n = emu_np_relay(s->devs[i], "com.apple.itunes-client.syncCancelRequest");
        ferry_log(FERRY_LOG_INFO, "device %s: syncCancelRequest relayed to %zu host connection(s)",
                  s->devs[i]->udid, n);
    }
}

/* ---- connection bookkeeping ---------------------------------------------------------------------- */

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_done = PTHREAD_COND_INITIALIZER;
static int conn_fds[MAX_CONNS];
static emu_device_t *conn_devs[MAX_CONNS]; /* the device a connection was Connected to, or NULL */
static int nconns;

static int conn_register(int fd)
{
    pthread_mutex_lock(&conns_lock);
    int ok = nconns < MAX_CONNS;
    if (ok) {
        conn_devs[nconns] = NULL;
        conn_fds[nconns++] = fd;
    }
    pthread_mutex_unlock(&conns_lock);
    return ok;
}

void emu_conn_bind(int fd, emu_device_t *d)
{
    pthread_mutex_lock(&conns_lock);
    for (int i = 0; i < nconns; i++)
        if (conn_fds[i] == fd)
            conn_devs[i] = d;
    pthread_mutex_unlock(&conns_lock);
}

size_t emu_conn_drop_device(emu_device_t *d, int except_fd)
{
    size_t n = 0;
    pthread_mutex_lock(&conns_lock);
    for (int i = 0; i < nconns; i++)
        if (conn_devs[i] == d && conn_fds[i] != except_fd) {
            shutdown(conn_fds[i], SHUT_RDWR); /* its thread sees the end of the stream and exits */
            n++;
        }
    pthread_mutex_unlock(&conns_lock);
    return n;
}

static void conn_unregister(int fd)
{
    pthread_mutex_lock(&conns_lock);
    for (int i = 0; i < nconns; i++)
        if (conn_fds[i] == fd) {
            conn_fds[i] = conn_fds[--nconns];
            conn_devs[i] = conn_devs[nconns];
            break;
        }
    pthread_cond_broadcast(&conns_done);
    pthread_mutex_unlock(&conns_lock);
}

static void conns_shutdown_and_wait(void)
{
    pthread_mutex_lock(&conns_lock);
    for (int i = 0; i < nconns; i++)
        shutdown(conn_fds[i], SHUT_RDWR);
    while (nconns > 0)
        pthread_cond_wait(&conns_done, &conns_lock);
    pthread_mutex_unlock(&conns_lock);
}

typedef struct {
    emu_server_t *srv;
    int fd;
} conn_arg_t;

static void *conn_thread(void *p)
{
    conn_arg_t *a = p;
    emu_conn_t c = {.fd = a->fd, .srv = a->srv, .what = "usbmuxd"};
    free(a);
    emu_usbmux_serve(&c);
    emu_tls_close(&c);
    conn_unregister(c.fd);
    close(c.fd);
    return NULL;
}

/* ---- pair records and trusted hosts -------------------------------------------------------------- */

static char *pair_path(emu_server_t *s, const char *udid)
{
    char name[512];
    snprintf(name, sizeof name, "pair/%s.plist", udid);
    return ferry_path_join(s->state_dir, name);
}

int emu_pair_record_read(emu_server_t *s, const char *udid, uint8_t **data, size_t *len)
{
    char *path = pair_path(s, udid);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pthread_mutex_lock(&s->lock);
    int rc = ferry_file_read_all(path, EMU_PLIST_MAX, data, len);
    pthread_mutex_unlock(&s->lock);
    free(path);
    return rc;
}

int emu_pair_record_save(emu_server_t *s, const char *udid, const uint8_t *data, size_t len)
{
    plist_t check = NULL;
    int rc = ferry_plist_parse(data, len, &check, "SavePairRecord PairRecordData");
    plist_free(check);
    if (rc)
        return rc;
    char *path = pair_path(s, udid);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pthread_mutex_lock(&s->lock);
    rc = ferry_file_write_atomic(path, data, len, 0600);
    pthread_mutex_unlock(&s->lock);
    free(path);
    return rc;
}

int emu_pair_record_delete(emu_server_t *s, const char *udid)
{
    char *path = pair_path(s, udid);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pthread_mutex_lock(&s->lock);
    int rc = unlink(path) == 0 || errno == ENOENT ? 0 : ferry_error_errno("cannot remove %s", path);
    pthread_mutex_unlock(&s->lock);
    free(path);
    return rc;
}

emu_device_t *emu_find_device(emu_server_t *s, int64_t id)
{
    for (size_t i = 0; i < s->ndevs; i++)
        if (s->devs[i]->id == id)
            return s->devs[i];
    return NULL;
}

static plist_t trusted_load(emu_device_t *d, char **path)
{
    plist_t arr = NULL;
    *path = ferry_path_join(d->state_dir, "trusted_hosts.plist");
    if (*path && ferry_plist_read_file(*path, 0, &arr) == 0 && plist_get_node_type(arr) == PLIST_ARRAY)
        return arr;
    plist_free(arr);
    ferry_error_clear();
    return plist_new_array();
}

static int trusted_index(plist_t arr, const char *host_id)
{
    for (uint32_t i = 0; i < plist_array_get_size(arr); i++) {
        plist_t n = plist_array_get_item(arr, i);
        char *s = NULL;
        if (plist_get_node_type(n) == PLIST_STRING)
            s = ferry_plist_string_dup(n);
        int same = s && !strcmp(s, host_id);
        free(s);
        if (same)
            return (int)i;
    }
    return -1;
}

int emu_host_trusted(emu_device_t *d, const char *host_id)
{
    char *path;
    pthread_mutex_lock(&d->lock);
    plist_t arr = trusted_load(d, &path);
    int yes = trusted_index(arr, host_id) >= 0;
    pthread_mutex_unlock(&d->lock);
    plist_free(arr);
    free(path);
    return yes;
}

int emu_host_trust(emu_device_t *d, const char *host_id, int trust)
{
    char *path;
    int rc = 0;
    pthread_mutex_lock(&d->lock);
    plist_t arr = trusted_load(d, &path);
    int i = trusted_index(arr, host_id);
    if (trust && i < 0)
        plist_array_append_item(arr, plist_new_string(host_id));
    else if (!trust && i >= 0)
        plist_array_remove_item(arr, (uint32_t)i);
    if (path)
        rc = ferry_plist_write_file(path, arr, 1);
    pthread_mutex_unlock(&d->lock);
    plist_free(arr);
    free(path);
    return rc;
}

/* ---- devices ------------------------------------------------------------------------------------- */

static void device_free(emu_device_t *d)
{
    if (!d)
        return;
    emu_tls_device_free(d);
    free(d->dir);
    free(d->state_dir);
    free(d->afc_root);
    free(d->udid);
    free(d->name);
    free(d->product_type);
    free(d->product_version);
    free(d->build_version);
    free(d->serial);
    free(d->device_class);
    free(d->wifi_address);
    ferry_device_free(d->model);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* The identity lockdownd reports, from the device module's model of the directory. */
static int load_identity(emu_device_t *d)
{
    int rc = ferry_device_load(d->dir, &d->model);
    if (rc)
        return rc;
    const ferry_device_t *m = d->model;
    d->udid = strdup(m->UniqueDeviceID);
    d->name = strdup(m->DeviceName);
    d->product_type = strdup(m->ProductType);
    d->product_version = strdup(m->ProductVersion);
    d->build_version = strdup(m->BuildVersion);
    d->serial = strdup(m->SerialNumber);
    d->device_class = strdup(m->DeviceClass ? m->DeviceClass : "iPhone");
    if (!d->udid || !d->name || !d->product_type || !d->product_version || !d->build_version || !d->serial ||
        !d->device_class)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (ferry_path_check_domain(d->udid, strlen(d->udid)))
        return ferry_error_set(FERRY_EUNSAFE, "%s: UniqueDeviceID '%s' cannot name a file", d->dir, d->udid);
    d->pv_major = atoi(d->product_version);
    d->will_encrypt = m->has_backup_password;
    d->allow_cloud_backup = 1;
    plist_t r = NULL;
    if ((rc = ferry_device_effective_restrictions(m, &r, NULL)))
        return rc;
    int v;
    if (ferry_plist_get_bool(r, "forceEncryptedBackup", &v) == 0)
        d->requires_encryption = v;
    if (ferry_plist_get_bool(r, "allowCloudBackup", &v) == 0)
        d->allow_cloud_backup = v;
    plist_free(r);
    ferry_error_clear();
    uint8_t h[6];
    char hex[41];
    ferry_sha1_pair_hex(d->udid, strlen(d->udid), "wifi", 4, hex);
    ferry_hex_decode(hex, h, 6);
    char mac[18];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", h[0] & 0xfe, h[1], h[2], h[3], h[4], h[5]);
    d->wifi_address = strdup(mac);
    return d->wifi_address ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static int device_open(emu_server_t *s, const char *dir, int id, emu_device_t **out)
{
    emu_device_t *d = calloc(1, sizeof *d);
    if (!d)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pthread_mutex_init(&d->lock, NULL);
    d->id = id;
    d->srv = s;
    d->dir = strdup(dir);
    int rc = d->dir ? load_identity(d) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc) {
        for (size_t i = 0; i < s->ndevs; i++)
            if (!strcmp(s->devs[i]->udid, d->udid))
                rc = ferry_error_set(FERRY_EINVAL, "%s and %s are the same device (%s): serve each once",
                                     s->devs[i]->dir, dir, d->udid);
    }
    if (!rc) {
        d->state_dir = ferry_path_join(s->state_dir, d->udid);
        d->afc_root = d->state_dir ? ferry_path_join(d->state_dir, "media") : NULL;
        if (!d->afc_root)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    if (!rc && !(rc = ferry_mkdir_p(d->afc_root, 0700)))
        rc = emu_tls_device_init(d);
    if (rc) {
        device_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- the listener -------------------------------------------------------------------------------- */

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof sa.sun_path)
        return ferry_error_set(FERRY_EINVAL, "--listen UNIX:%s: the path must have 1 to %zu bytes", path,
                               sizeof sa.sun_path - 1);
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return ferry_error_set(FERRY_EEXIST, "--listen UNIX:%s: a file that is not a socket is there", path);
        unlink(path); /* a stale socket of an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ferry_error_errno("cannot create a UNIX socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64)) {
        int rc = ferry_error_errno("cannot listen on %s", path);
        close(fd);
        return rc;
    }
    chmod(path, 0600);
    return fd;
}

static int listen_tcp(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host || !colon[1])
        return ferry_error_set(FERRY_EINVAL, "--listen %s: expected UNIX:PATH or HOST:PORT", spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int e = getaddrinfo(host, colon + 1, &hints, &ai);
    if (e)
        return ferry_error_set(FERRY_EINVAL, "--listen %s: %s", spec, gai_strerror(e));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        int rc = ferry_error_errno("cannot listen on %s", spec);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    return fd;
}

static void accept_loop(emu_server_t *s, int lfd)
{
    while (!stop_flag) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        if (cancel_flag)
            relay_cancel(s);
        int n = poll(&pfd, 1, 200);
        if (n <= 0)
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        conn_arg_t *a = malloc(sizeof *a);
        pthread_t t;
        pthread_attr_t attr;
        if (!a || !conn_register(fd)) {
            free(a);
            close(fd);
            continue;
        }
        a->srv = s;
        a->fd = fd;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, conn_thread, a)) {
            conn_unregister(fd);
            close(fd);
            free(a);
        }
        pthread_attr_destroy(&attr);
    }
}

static char *default_state_dir(const char *listen)
{
    char buf[4096];
    if (!strncmp(listen, "UNIX:", 5))
        snprintf(buf, sizeof buf, "%s.d", listen + 5);
    else
        snprintf(buf, sizeof buf, "ferry-serve-%s.d", strrchr(listen, ':') ? strrchr(listen, ':') + 1 : listen);
    return strdup(buf);
}

/* The SystemBUID is part of every pair record a host saves: keep it across runs (<state>/buid). */
static int load_buid(emu_server_t *s)
{
    char *path = ferry_path_join(s->state_dir, "buid");
    uint8_t *data = NULL;
    size_t len = 0;
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (ferry_file_read_all(path, 64, &data, &len) == 0 && len == 36) {
        memcpy(s->buid, data, 36);
        s->buid[36] = '\0';
        free(data);
        free(path);
        return 0;
    }
    free(data);
    ferry_error_clear();
    uint8_t r[16];
    ferry_random_bytes(r, sizeof r);
    snprintf(s->buid, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    int rc = ferry_file_write_atomic(path, s->buid, 36, 0600);
    free(path);
    return rc;
}

static int server_init(emu_server_t *s, const char *const *dirs, size_t n, const ferry_serve_opts_t *o)
{
    s->state_dir = o->state_dir ? strdup(o->state_dir) : default_state_dir(o->listen);
    char *pair = s->state_dir ? ferry_path_join(s->state_dir, "pair") : NULL;
    s->devs = calloc(n ? n : 1, sizeof *s->devs);
    s->buid = malloc(37);
    if (!pair || !s->devs || !s->buid) {
        free(pair);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc = ferry_mkdir_p(pair, 0700);
    free(pair);
    if (!rc)
        rc = load_buid(s);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = device_open(s, dirs[i], (int)i + 1, &s->devs[i]);
        if (!rc)
            s->ndevs++;
    }
    return rc;
}

static void server_free(emu_server_t *s)
{
    for (size_t i = 0; i < s->ndevs; i++)
        device_free(s->devs[i]);
    free(s->devs);
    free(s->state_dir);
    free(s->buid);
    pthread_mutex_destroy(&s->lock);
}

int emu_server_open(emu_server_t *s, const char *const *dirs, size_t n, const ferry_serve_opts_t *o)
{
    memset(s, 0, sizeof *s);
    if (!o->state_dir && !o->listen)
        return ferry_error_set(FERRY_EINVAL, "the emulator needs a state folder or a listen address");
    s->stop = &stop_flag;
    s->verbose = o->verbose;
    s->kdf_dpic = o->kdf_dpic;
    s->restored = o->restored;
    s->restored_ctx = o->restored_ctx;
    s->restore_host = o->restore_host;
    s->restore_skip = o->restore_skip_categories;
    pthread_mutex_init(&s->lock, NULL);
    int rc = server_init(s, dirs, n, o);
    if (rc)
        server_free(s);
    return rc;
}

void emu_server_close(emu_server_t *s)
{
    server_free(s);
}

int ferry_device_serve(const char *const *dirs, size_t n, const ferry_serve_opts_t *o)
{
    if (!o || !o->listen || n == 0)
        return ferry_error_set(FERRY_EINVAL, "serve needs at least one device directory and --listen");
    emu_server_t s;
    signal(SIGPIPE, SIG_IGN); /* hosts close without waiting; writes then fail with EPIPE instead */
    int rc = emu_server_open(&s, dirs, n, o);
    if (rc)
        return rc;
    int is_unix = !strncmp(o->listen, "UNIX:", 5);
    int lfd = is_unix ? listen_unix(o->listen + 5) : listen_tcp(o->listen);
    if (lfd < 0) {
        server_free(&s);
        return lfd;
    }
    if (o->ready)
        o->ready(o->ready_ctx);
    accept_loop(&s, lfd);
    close(lfd);
    if (is_unix)
        unlink(o->listen + 5);
    conns_shutdown_and_wait();
    server_free(&s);
    stop_flag = 0;
    return 0;
}
