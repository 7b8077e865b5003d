/*
 * synclock.c: the sync session iTunes, Finder and idevicebackup2 hold around a backup or restore
 * (spec/device-protocol.md §7.1, §7.2): notification_proxy observes the device's cancel requests and
 * carries syncWillStart, syncLockRequest, syncDidStart and syncDidFinish; the exclusive AFC lock on
 * /com.apple.itunes.lock_sync keeps a second host from syncing the same device at the same time.
 * Invariants: a lock that cannot be taken within 50 tries of 200 ms is a clear error (another host is
 * syncing), never a silent wait; the lock is always released by host_sync_end, which is safe to call
 * whatever was set up; the watcher thread only sets a flag. The watcher is ferry's own rather than
 * np_set_notify_callback's, whose thread sleeps a second between reads and so makes every backup and
 * restore wait up to 1.5 s for it to stop; ours reads with libimobiledevice's 500 ms timeout and
 * checks its stop flag between reads.
 */
#include "host_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCK_FILE "/com.apple.itunes.lock_sync"
#define LOCK_TRIES 50
#define LOCK_WAIT_US 200000

#define WATCH_POLL_MS 100
#define SHUTDOWN_WAIT_MS 1000

typedef struct {
    host_conn_t *c;
    pthread_t th;
    atomic_int stop;
} np_watch_t;

/* {Command: cmd, Name: name} (§7.1), as libimobiledevice's notification_proxy sends it. */
static int np_send_quiet(host_conn_t *c, const char *cmd, const char *name)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "Command", plist_new_string(cmd));
    if (name)
        plist_dict_set_item(d, "Name", plist_new_string(name));
    property_list_service_error_t e = property_list_service_send_xml_plist(c->np, d);
    plist_free(d);
    return e == PROPERTY_LIST_SERVICE_E_SUCCESS ? 0 : -1;
}

static int np_send(host_conn_t *c, const char *cmd, const char *name)
{
    if (np_send_quiet(c, cmd, name) == 0)
        return 0;
    return ferry_error_set(FERRY_EIO, "device %s: cannot send %s %s to notification_proxy", c->udid, cmd,
                           name ? name : "");
}

/* The Command of a message, and its Name when it is a RelayNotification ("" otherwise). */
static void np_parse(plist_t m, char cmd[64], char name[256])
{
    cmd[0] = name[0] = '\0';
    if (!m || plist_get_node_type(m) != PLIST_DICT)
        return;
    plist_t n = plist_dict_get_item(m, "Command");
    const char *v = n && plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
    snprintf(cmd, 64, "%s", v ? v : "");
    n = plist_dict_get_item(m, "Name");
    v = n && plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
    snprintf(name, 256, "%s", v && !strcmp(cmd, "RelayNotification") ? v : "");
}

/* Reads the device's notifications WATCH_POLL_MS at a time, checking its stop flag in between. */
static void *watch_main(void *arg)
{
    np_watch_t *w = arg;
    while (!atomic_load(&w->stop)) {
        plist_t m = NULL;
        property_list_service_error_t e = property_list_service_receive_plist_with_timeout(w->c->np, &m, WATCH_POLL_MS);
        char cmd[64], name[256];
        np_parse(m, cmd, name);
        plist_free(m);
        if (!strcmp(name, NP_SYNC_CANCEL_REQUEST))
            w->c->device_cancel = 1;
        if ((e != PROPERTY_LIST_SERVICE_E_SUCCESS && e != PROPERTY_LIST_SERVICE_E_RECEIVE_TIMEOUT) ||
            !strcmp(cmd, "ProxyDeath"))
            break; /* nothing more will come */
    }
    return NULL;
}

static int watch_start(host_conn_t *c)
{
    np_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    w->c = c;
    atomic_init(&w->stop, 0);
    if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
        free(w);
        return ferry_error_set(FERRY_ENOMEM, "device %s: cannot start watching its notifications", c->udid);
    }
    c->np_watch = w;
    return 0;
}

static void watch_stop(host_conn_t *c)
{
    np_watch_t *w = c->np_watch;
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    pthread_join(w->th, NULL);
    free(w);
    c->np_watch = NULL;
}

/* Shutdown, then the device's ProxyDeath (bounded: a silent device does not hold us). */
static void np_close(host_conn_t *c, int polite)
{
    if (polite && np_send_quiet(c, "Shutdown", NULL) == 0) {
        for (int i = 0; i < SHUTDOWN_WAIT_MS / WATCH_POLL_MS; i++) {
            plist_t m = NULL;
            property_list_service_error_t e = property_list_service_receive_plist_with_timeout(c->np, &m, WATCH_POLL_MS);
            char cmd[64], name[256];
            np_parse(m, cmd, name);
            plist_free(m);
            if (!strcmp(cmd, "ProxyDeath") ||
                (e != PROPERTY_LIST_SERVICE_E_SUCCESS && e != PROPERTY_LIST_SERVICE_E_RECEIVE_TIMEOUT))
                break;
        }
    }
    property_list_service_client_free(c->np);
    c->np = NULL;
}

int host_sync_connect(host_conn_t *c, lockdownd_service_descriptor_t np_svc, lockdownd_service_descriptor_t afc_svc)
{
    if (property_list_service_client_new(c->dev, np_svc, &c->np) != PROPERTY_LIST_SERVICE_E_SUCCESS) {
        c->np = NULL;
        return ferry_error_set(FERRY_EIO, "device %s: cannot connect to notification_proxy: reconnect it", c->udid);
    }
    const char *watch[] = {NP_SYNC_CANCEL_REQUEST, NP_SYNC_SUSPEND_REQUEST, NP_SYNC_RESUME_REQUEST};
    for (size_t i = 0; i < sizeof watch / sizeof watch[0]; i++)
        if (np_send(c, "ObserveNotification", watch[i]))
            return ferry_error_set(FERRY_EIO, "device %s: notification_proxy refused to observe", c->udid);
    if (afc_client_new(c->dev, afc_svc, &c->afc) != AFC_E_SUCCESS) {
        c->afc = NULL;
        return ferry_error_set(FERRY_EIO, "device %s: cannot connect to AFC: reconnect it", c->udid);
    }
    return 0;
}

static int post(host_conn_t *c, const char *name)
{
    return np_send(c, "PostNotification", name);
}

int host_sync_begin(host_conn_t *c)
{
    int rc = post(c, NP_SYNC_WILL_START);
    if (rc)
        return rc;
    if (afc_file_open(c->afc, LOCK_FILE, AFC_FOPEN_RW, &c->lock_handle) != AFC_E_SUCCESS)
        return ferry_error_set(FERRY_EDEVICE, "device %s: cannot open its sync lock %s", c->udid, LOCK_FILE);
    c->lock_open = 1;
    if ((rc = post(c, NP_SYNC_LOCK_REQUEST)))
        return rc;
    for (int i = 0; i < LOCK_TRIES && !c->locked; i++) {
        afc_error_t e = afc_file_lock(c->afc, c->lock_handle, AFC_LOCK_EX);
        if (e == AFC_E_SUCCESS)
            c->locked = 1;
        else if (e != AFC_E_OP_WOULD_BLOCK)
            return ferry_error_set(FERRY_EDEVICE, "device %s: cannot take its sync lock (AFC error %d)", c->udid, (int)e);
        else if ((rc = host_check_cancel(c->opts, c->udid, "waiting for the sync lock")))
            return rc;
        else
            usleep(LOCK_WAIT_US);
    }
    if (!c->locked)
        return ferry_error_set(FERRY_EDEVICE, "device %s is syncing with another computer or app (its sync lock is "
                               "held): wait for it to finish, then run again", c->udid);
    if ((rc = post(c, NP_SYNC_DID_START)))
        return rc;
    return watch_start(c);
}

void host_sync_end(host_conn_t *c)
{
    int polite = !c->wire.dead; /* a frozen device would make each call below wait 30 s */
    watch_stop(c); /* before any other use of np: the watcher holds its lock while it reads */
    if (polite && c->afc && c->locked)
        afc_file_lock(c->afc, c->lock_handle, AFC_LOCK_UN);
    if (polite && c->afc && c->lock_open)
        afc_file_close(c->afc, c->lock_handle);
    if (polite && c->np && c->locked)
        np_send_quiet(c, "PostNotification", NP_SYNC_DID_FINISH); /* keeps the error of a failed sync */
    if (c->np)
        np_close(c, polite); /* a frozen device gets no Shutdown and is not waited for */
    if (c->afc)
        afc_client_free(c->afc);
    c->np = NULL;
    c->afc = NULL;
    c->locked = c->lock_open = 0;
}
