/*
 * checkin_state.c: the device's MDM check-in state, kept in device.plist under "MDMCheckIn" (ferry):
 * whether this enrollment has been authenticated with its server, whether a restore left a check-in
 * pending (S2), and the last answer. It lives in device.plist so that it is saved atomically with
 * the rest of the device; a device without the key has never checked in.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_KEY "MDMCheckIn"

void ferry_device_checkin_state(const ferry_device_t *dev, ferry_device_checkin_state_t *out)
{
    memset(out, 0, sizeof *out);
    plist_t d = dev->plist ? plist_dict_get_item(dev->plist, STATE_KEY) : NULL;
    if (!d || plist_get_node_type(d) != PLIST_DICT)
        return;
    ferry_plist_get_bool(d, "Authenticated", &out->Authenticated);
    ferry_plist_get_bool(d, "TokenUpdated", &out->TokenUpdated);
    ferry_plist_get_bool(d, "RestorePending", &out->RestorePending);
    ferry_plist_get_date(d, "LastCheckIn", &out->LastCheckIn);
    ferry_plist_get_int(d, "LastStatus", &out->LastStatus);
    char *s = NULL;
    if (!ferry_plist_get_string(d, "LastOutcome", &s))
        snprintf(out->LastOutcome, sizeof out->LastOutcome, "%s", s);
    free(s);
}

int ferry_device_set_checkin_state(ferry_device_t *dev, const ferry_device_checkin_state_t *st)
{
    if (!dev->plist || plist_get_node_type(dev->plist) != PLIST_DICT)
        return ferry_error_set(FERRY_EINVAL, "%s: device.plist is not loaded", dev->dir);
    plist_t d = plist_new_dict();
    dev_dict_set_bool(d, "Authenticated", st->Authenticated);
    dev_dict_set_bool(d, "TokenUpdated", st->TokenUpdated);
    dev_dict_set_bool(d, "RestorePending", st->RestorePending);
    if (st->LastCheckIn)
        plist_dict_set_item(d, "LastCheckIn", ferry_plist_new_date_unix(st->LastCheckIn));
    dev_dict_set_uint(d, "LastStatus", (uint64_t)(st->LastStatus < 0 ? 0 : st->LastStatus));
    if (st->LastOutcome[0])
        dev_dict_set_str(d, "LastOutcome", st->LastOutcome);
    plist_dict_set_item(dev->plist, STATE_KEY, d);
    return ferry_device_save(dev);
}
