/*
 * notification_proxy.c: com.apple.mobile.notification_proxy on the emulated device (§8.1). Hosts
 * observe the sync notifications and post their own; Shutdown is answered with ProxyDeath, without
 * which every np_client_free() on the host blocks for 30 s. Invariant: nothing is ever sent in
 * reply to Observe or Post.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

void emu_np_serve(emu_conn_t *c)
{
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        char *cmd = emu_dict_string(req, "Command");
        char *name = emu_dict_string(req, "Name");
        int done = 0;
        if (c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "notification_proxy %s: %s %s", c->dev->udid, cmd ? cmd : "(none)",
                      name ? name : "");
        if (cmd && !strcmp(cmd, "Shutdown")) {
            plist_t r = plist_new_dict();
            plist_dict_set_item(r, "Command", plist_new_string("ProxyDeath"));
            emu_plist_send(c, r, 1);
            plist_free(r);
            done = 1;
        }
        free(cmd);
        free(name);
        plist_free(req);
        if (done)
            break;
    }
}
