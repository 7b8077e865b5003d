/*
 * installation_proxy.c: com.apple.mobile.installation_proxy on the emulated device (§8.2): Browse,
 * which idevicebackup2 uses to fill Info.plist's Applications, answers with the device's installed
 * apps of the requested ApplicationType ("User" by default; the emulated device has no system apps) in
 * one BrowsingApplications status, then Complete. Placeholders (apps not installed) are left out.
 * Any other command gets an Error reply, which the host treats as a failed command.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

static plist_t app_entry(const ferry_app_t *a)
{
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "CFBundleIdentifier", plist_new_string(a->Identifier));
    plist_dict_set_item(e, "CFBundleDisplayName", plist_new_string(a->Name ? a->Name : a->Identifier));
    if (a->Version)
        plist_dict_set_item(e, "CFBundleShortVersionString", plist_new_string(a->Version));
    plist_dict_set_item(e, "ApplicationType", plist_new_string("User"));
    return e;
}

static int browse(emu_conn_t *c, plist_t req)
{
    plist_t opts = plist_dict_get_item(req, "ClientOptions");
    char *type = emu_dict_string(opts, "ApplicationType");
    int user = !type || !strcmp(type, "User") || !strcmp(type, "Any");
    free(type);
    plist_t list = plist_new_array();
    emu_device_t *d = c->dev;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; user && i < d->model->n_apps; i++)
        if (d->model->apps[i].Installed)
            plist_array_append_item(list, app_entry(&d->model->apps[i]));
    pthread_mutex_unlock(&d->lock);
    uint32_t n = plist_array_get_size(list);
    int rc = 0;
    if (n > 0) {
        plist_t r = plist_new_dict();
        plist_dict_set_item(r, "Status", plist_new_string("BrowsingApplications"));
        plist_dict_set_item(r, "CurrentList", list);
        plist_dict_set_item(r, "CurrentAmount", plist_new_uint(n));
        plist_dict_set_item(r, "CurrentIndex", plist_new_uint(0));
        plist_dict_set_item(r, "Total", plist_new_uint(n));
        rc = emu_plist_send(c, r, 1);
        plist_free(r);
    } else {
        plist_free(list);
    }
    if (!rc) {
        plist_t r = plist_new_dict();
        plist_dict_set_item(r, "Status", plist_new_string("Complete"));
        rc = emu_plist_send(c, r, 1);
        plist_free(r);
    }
    return rc;
}

void emu_instproxy_serve(emu_conn_t *c)
{
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        char *cmd = emu_dict_string(req, "Command");
        int rc;
        if (cmd && !strcmp(cmd, "Browse")) {
            rc = browse(c, req);
        } else {
            plist_t r = plist_new_dict();
            plist_dict_set_item(r, "Error", plist_new_string("UnknownCommand"));
            rc = emu_plist_send(c, r, 1);
            plist_free(r);
        }
        free(cmd);
        plist_free(req);
        if (rc)
            break;
    }
}
