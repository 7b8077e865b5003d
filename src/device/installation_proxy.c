/*
 * installation_proxy.c: com.apple.mobile.installation_proxy on the emulated device (§8.2), the
 * Browse command idevicebackup2 uses to fill Info.plist's Applications: it answers with the status
 * "Complete" and no list yet (the app list comes with the device module's apps). Any other command
 * gets an Error reply, which the host treats as a failed command, not a broken connection.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

void emu_instproxy_serve(emu_conn_t *c)
{
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        char *cmd = emu_dict_string(req, "Command");
        plist_t r = plist_new_dict();
        if (cmd && !strcmp(cmd, "Browse"))
            plist_dict_set_item(r, "Status", plist_new_string("Complete"));
        else
            plist_dict_set_item(r, "Error", plist_new_string("UnknownCommand"));
        int rc = emu_plist_send(c, r, 1);
        plist_free(r);
        free(cmd);
        plist_free(req);
        if (rc)
            break;
    }
}
