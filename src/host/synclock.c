/*
 * synclock.c: the sync session iTunes, Finder and idevicebackup2 hold around a backup or restore
 * (spec/device-protocol.md §7.1, §7.2): notification_proxy observes the device's cancel requests and
 * carries syncWillStart, syncLockRequest, syncDidStart and syncDidFinish; the exclusive AFC lock on
 * /com.apple.itunes.lock_sync keeps a second host from syncing the same device at the same time.
 * Invariants: a lock that cannot be taken within 50 tries of 200 ms is a clear error (another host is
 * syncing), never a silent wait; the lock is always released by host_sync_end, which is safe to call
 * whatever was set up; the cancel callback only sets a flag (it runs on libimobiledevice's thread).
 */
#include "host_internal.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define LOCK_FILE "/com.apple.itunes.lock_sync"
#define LOCK_TRIES 50
#define LOCK_WAIT_US 200000

static void on_notification(const char *name, void *ctx)
{
    host_conn_t *c = ctx;
    if (name && !strcmp(name, NP_SYNC_CANCEL_REQUEST))
        c->device_cancel = 1;
}

int host_sync_connect(host_conn_t *c, lockdownd_service_descriptor_t np_svc, lockdownd_service_descriptor_t afc_svc)
{
    if (np_client_new(c->dev, np_svc, &c->np) != NP_E_SUCCESS) {
        c->np = NULL;
        return ferry_error_set(FERRY_EIO, "device %s: cannot connect to notification_proxy: reconnect it", c->udid);
    }
    const char *watch[] = {NP_SYNC_CANCEL_REQUEST, NP_SYNC_SUSPEND_REQUEST, NP_SYNC_RESUME_REQUEST, NULL};
    if (np_observe_notifications(c->np, watch) != NP_E_SUCCESS)
        return ferry_error_set(FERRY_EIO, "device %s: notification_proxy refused to observe", c->udid);
    if (afc_client_new(c->dev, afc_svc, &c->afc) != AFC_E_SUCCESS) {
        c->afc = NULL;
        return ferry_error_set(FERRY_EIO, "device %s: cannot connect to AFC: reconnect it", c->udid);
    }
    return 0;
}

static int post(host_conn_t *c, const char *name)
{
    if (np_post_notification(c->np, name) != NP_E_SUCCESS)
        return ferry_error_set(FERRY_EIO, "device %s: cannot post %s", c->udid, name);
    return 0;
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
    np_set_notify_callback(c->np, on_notification, c);
    return 0;
}

static void *free_np(void *np)
{
    np_client_free(np);
    return NULL;
}

void host_sync_end(host_conn_t *c)
{
    int polite = !c->wire.dead; /* a frozen device would make each call below wait 30 s */
    if (c->np)
        np_set_notify_callback(c->np, NULL, NULL); /* stops the watching thread */
    if (polite && c->afc && c->locked)
        afc_file_lock(c->afc, c->lock_handle, AFC_LOCK_UN);
    if (polite && c->afc && c->lock_open)
        afc_file_close(c->afc, c->lock_handle);
    if (polite && c->np && c->locked)
        np_post_notification(c->np, NP_SYNC_DID_FINISH);
    pthread_t t;
    if (c->np && !polite && pthread_create(&t, NULL, free_np, c->np) == 0)
        pthread_detach(t); /* np_client_free waits for the device's ProxyDeath: not on our time */
    else if (c->np)
        np_client_free(c->np);
    if (c->afc)
        afc_client_free(c->afc);
    c->np = NULL;
    c->afc = NULL;
    c->locked = c->lock_open = 0;
}
