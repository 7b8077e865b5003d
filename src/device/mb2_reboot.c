/*
 * mb2_reboot.c: the emulated device "reboots" after a restore, as a real one does unless the host
 * sent RestoreShouldReboot false (`idevicebackup2 restore --no-reboot`). The reboot starts when the
 * host lets go of mobilebackup2 (after its final ProcessMessage, idevicebackup2 releases the AFC sync
 * lock and then disconnects): the device leaves usbmuxd (a Detached event to every Listen subscriber;
 * ListDevices no longer lists it and Connect is refused), every other connection to it is dropped
 * (lockdownd sessions, notification_proxy, AFC), it checks in as it boots (S2, the server's restored
 * hook), and it comes back (Attached). Invariants: the restore is finished, for anyone watching
 * usbmuxd, only when the device is attached again; Detached always precedes Attached; a reboot runs
 * at most once per restore.
 */
#include "mb2_internal.h"

void emu_device_reboot(emu_conn_t *c)
{
    emu_device_t *d = c->dev;
    if (!d || !atomic_exchange(&d->reboot_pending, 0))
        return;
    if (c->srv->stop && *c->srv->stop)
        return; /* serve is stopping: the device checks in when it is served again (RestorePending) */
    atomic_store(&d->rebooting, 1);
    emu_usbmux_notify(d, 0);
    size_t n = emu_conn_drop_device(d, c->fd);
    ferry_log(FERRY_LOG_INFO, "device %s: rebooting after the restore (detached, %zu connection(s) dropped)", d->udid, n);
    mb2_after_restore(d);
    atomic_store(&d->rebooting, 0);
    emu_usbmux_notify(d, 1);
    ferry_log(FERRY_LOG_INFO, "device %s: back after the reboot (attached)", d->udid);
}
