/*
 * notification_proxy.c: com.apple.mobile.notification_proxy on the emulated device (§8.1). Hosts
 * observe the sync notifications and post their own; Shutdown is answered with ProxyDeath, without
 * which every np_client_free() on the host blocks for 30 s. The device can relay a notification to
 * every connection that observes it (emu_np_relay: `ferry device serve` relays
 * com.apple.itunes-client.syncCancelRequest on SIGUSR1, which makes idevicebackup2 abort a running
 * backup). Invariants: nothing is sent in reply to Observe or Post; a connection is in its device's
 * observer list exactly while its thread serves it, and writes to it are serialised by its own lock,
 * since a relay comes from another thread.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

#define NP_MAX_NAMES 32

struct emu_np_observer {
    emu_conn_t *c;
    pthread_mutex_t wlock;        /* serialises writes: the serving thread and relays */
    char *names[NP_MAX_NAMES];    /* observed names; guarded by the device lock */
    size_t n;
    emu_np_observer_t *next;
};

static int send_locked(emu_np_observer_t *o, const char *command, const char *name)
{
    plist_t r = plist_new_dict();
    plist_dict_set_item(r, "Command", plist_new_string(command));
    if (name)
        plist_dict_set_item(r, "Name", plist_new_string(name));
    pthread_mutex_lock(&o->wlock);
    int rc = emu_plist_send(o->c, r, 1);
    pthread_mutex_unlock(&o->wlock);
    plist_free(r);
    return rc;
}

size_t emu_np_relay(emu_device_t *d, const char *name)
{
    size_t sent = 0;
    pthread_mutex_lock(&d->lock);
    for (emu_np_observer_t *o = d->observers; o; o = o->next)
        for (size_t i = 0; i < o->n; i++)
            if (!strcmp(o->names[i], name)) {
                sent += send_locked(o, "RelayNotification", name) == 0;
                break;
            }
    pthread_mutex_unlock(&d->lock);
    return sent;
}

static void observe(emu_device_t *d, emu_np_observer_t *o, const char *name)
{
    pthread_mutex_lock(&d->lock);
    int known = 0;
    for (size_t i = 0; i < o->n; i++)
        known |= !strcmp(o->names[i], name);
    if (!known && o->n < NP_MAX_NAMES && (o->names[o->n] = strdup(name)))
        o->n++;
    pthread_mutex_unlock(&d->lock);
}

static void unregister(emu_device_t *d, emu_np_observer_t *o)
{
    pthread_mutex_lock(&d->lock);
    for (emu_np_observer_t **p = &d->observers; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            break;
        }
    pthread_mutex_unlock(&d->lock);
    for (size_t i = 0; i < o->n; i++)
        free(o->names[i]);
    pthread_mutex_destroy(&o->wlock);
}

void emu_np_serve(emu_conn_t *c)
{
    emu_device_t *d = c->dev;
    emu_np_observer_t o = {.c = c};
    pthread_mutex_init(&o.wlock, NULL);
    pthread_mutex_lock(&d->lock);
    o.next = d->observers;
    d->observers = &o;
    pthread_mutex_unlock(&d->lock);
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        char *cmd = emu_dict_string(req, "Command");
        char *name = emu_dict_string(req, "Name");
        int done = 0;
        if (c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "notification_proxy %s: %s %s", d->udid, cmd ? cmd : "(none)",
                      name ? name : "");
        if (cmd && name && !strcmp(cmd, "ObserveNotification"))
            observe(d, &o, name);
        if (cmd && !strcmp(cmd, "Shutdown")) {
            send_locked(&o, "ProxyDeath", NULL);
            done = 1;
        }
        free(cmd);
        free(name);
        plist_free(req);
        if (done)
            break;
    }
    unregister(d, &o);
}
