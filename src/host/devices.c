/*
 * devices.c: `ferry devices` and the preflight: which devices usbmuxd lists, what lockdownd says of
 * each (host_conn_describe), and the checks made before any transfer (paired, setup finished,
 * encryption required but no password, host free space against the device's used space). A device
 * that is attached but cannot be described (locked, not trusted) is still listed, with paired = 0.
 */
#include "host_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

int ferry_host_device_info(const char *udid, const ferry_host_opts_t *opts, ferry_host_device_t *out)
{
    host_conn_t c;
    int rc = host_conn_open(udid, opts, &c);
    if (!rc)
        rc = host_conn_describe(&c, out);
    host_conn_close(&c);
    return rc;
}

static void unknown_device(const char *udid, ferry_host_device_t *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->udid, sizeof d->udid, "%s", udid);
    d->supervised = d->setup_done = -1;
    d->data_capacity = d->data_available = -1;
}

int ferry_host_list(const ferry_host_opts_t *opts, ferry_host_device_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    idevice_info_t *list = NULL;
    int count = 0;
    if (idevice_get_device_list_extended(&list, &count) != IDEVICE_E_SUCCESS)
        return ferry_error_set(FERRY_EIO, "cannot reach usbmuxd to list devices: is usbmuxd running (or "
                               "USBMUXD_SOCKET_ADDRESS right)?");
    ferry_host_device_t *d = count > 0 ? calloc((size_t)count, sizeof *d) : NULL;
    if (count > 0 && !d) {
        idevice_device_list_extended_free(list);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (int i = 0; i < count; i++) {
        if (list[i]->conn_type != CONNECTION_USBMUXD || !list[i]->udid)
            continue;
        int dup = 0;
        for (size_t j = 0; j < k; j++)
            dup |= !strcmp(d[j].udid, list[i]->udid);
        if (dup)
            continue;
        if (ferry_host_device_info(list[i]->udid, opts, &d[k])) {
            ferry_log(FERRY_LOG_WARN, "%s", ferry_error_last());
            ferry_error_clear();
            unknown_device(list[i]->udid, &d[k]);
        }
        k++;
    }
    idevice_device_list_extended_free(list);
    *out = d;
    *n = k;
    return 0;
}

/* The device's used space, the estimate of a full backup's size. */
static uint64_t estimated_need(const ferry_host_device_t *d)
{
    if (d->data_capacity > 0 && d->data_available >= 0 && d->data_capacity > d->data_available)
        return (uint64_t)(d->data_capacity - d->data_available);
    return 0;
}

int ferry_host_attached(const char *udid)
{
    idevice_t dev = NULL;
    idevice_error_t e = idevice_new_with_options(&dev, udid, IDEVICE_LOOKUP_USBMUX);
    if (dev)
        idevice_free(dev);
    if (e == IDEVICE_E_NO_DEVICE || (e == IDEVICE_E_SUCCESS && !dev))
        return ferry_error_set(FERRY_ENOTFOUND, "device %s is not attached: connect it (usbmuxd does not list it; "
                               "see `ferry devices`)", udid);
    if (e != IDEVICE_E_SUCCESS)
        return ferry_error_set(FERRY_EIO, "cannot reach usbmuxd for device %s (error %d): is usbmuxd running?",
                               udid, (int)e);
    return 0;
}

int ferry_host_preflight_check(const ferry_host_device_t *d, const char *staging_root)
{
    if (!d->paired)
        return ferry_error_set(FERRY_EDEVICE, "device %s is not paired: run `idevicepair pair -u %s`", d->udid, d->udid);
    if (d->setup_done == 0)
        return ferry_error_set(FERRY_EDEVICE, "device %s has not finished Setup Assistant (MBErrorDomain 212): "
                               "finish setup on the device, then back it up", d->udid);
    if (d->encryption_required == 1 && d->password_set != 1)
        return ferry_error_set(FERRY_EPASSWORD, "device %s requires encrypted backups (a profile sets "
                               "forceEncryptedBackup) and has no backup password: set one with `ferry password set "
                               "-u %s` or `ferry backup --encrypt`; nothing was transferred", d->udid, d->udid);
    struct statvfs sv;
    if (staging_root && statvfs(staging_root, &sv) == 0) {
        uint64_t avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        uint64_t need = estimated_need(d);
        uint64_t margin = 512ull << 20;
        if (need + margin > avail)
            ferry_log(FERRY_LOG_WARN, "device %s uses %llu MiB; the repository's file system has %llu MiB free: a "
                      "full backup may not fit (unchanged files are shared with the previous snapshot)", d->udid,
                      (unsigned long long)(need >> 20), (unsigned long long)(avail >> 20));
        if (avail < margin)
            return ferry_error_set(FERRY_ENOSPC, "only %llu MiB free where the backup of device %s would go (%s): "
                                   "free space first", (unsigned long long)(avail >> 20), d->udid, staging_root);
    }
    return 0;
}
