/*
 * connect.c: reaching one device through libimobiledevice: usbmuxd lookup, the lockdownd handshake
 * (pairing when needed), the lockdownd values `ferry devices` shows, and starting mobilebackup2 (with
 * the escrow bag, as idevicebackup2 does; spec/device-protocol.md §11.1). Every failure is turned into
 * a FERRY_E* code with a message that names the device, the step and what the administrator can do
 * (unlock, trust, reconnect). Invariants: on failure nothing stays open; the lockdownd session ends
 * before mobilebackup2's Hello, as on real hosts.
 */
#include "host_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lockdown_error(const char *udid, lockdownd_error_t e)
{
    switch (e) {
    case LOCKDOWN_E_PASSWORD_PROTECTED:
        return ferry_error_set(FERRY_EDEVICE, "device %s is locked with a passcode: unlock it and tap Trust, "
                               "then run again", udid);
    case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
        return ferry_error_set(FERRY_EDEVICE, "device %s shows the Trust dialog: tap Trust, then run again", udid);
    case LOCKDOWN_E_USER_DENIED_PAIRING:
        return ferry_error_set(FERRY_EDEVICE, "device %s: the user denied pairing (Don't Trust): reconnect and "
                               "tap Trust", udid);
    case LOCKDOWN_E_INVALID_HOST_ID:
    case LOCKDOWN_E_PAIRING_FAILED:
    case LOCKDOWN_E_INVALID_PAIR_RECORD:
        return ferry_error_set(FERRY_EDEVICE, "device %s is not paired with this computer (lockdownd error %d): "
                               "run `idevicepair pair -u %s` and tap Trust", udid, (int)e, udid);
    default:
        return ferry_error_set(FERRY_EIO, "device %s: lockdownd failed (error %d): reconnect the device and run "
                               "again", udid, (int)e);
    }
}

int host_conn_open(const char *udid, const ferry_host_opts_t *opts, host_conn_t *c)
{
    memset(c, 0, sizeof *c);
    c->opts = opts;
    c->timeout_ms = host_timeout_ms(opts);
    snprintf(c->udid, sizeof c->udid, "%s", udid ? udid : "(first device)");
    idevice_error_t e = idevice_new_with_options(&c->dev, udid, IDEVICE_LOOKUP_USBMUX);
    if (e == IDEVICE_E_NO_DEVICE || (e == IDEVICE_E_SUCCESS && !c->dev))
        return ferry_error_set(FERRY_ENOTFOUND, "device %s is not attached: connect it (usbmuxd does not list it; "
                               "see `ferry devices`)", c->udid);
    if (e != IDEVICE_E_SUCCESS)
        return ferry_error_set(FERRY_EIO, "cannot reach usbmuxd for device %s (error %d): is usbmuxd running?",
                               c->udid, (int)e);
    char *real = NULL;
    if (!udid && idevice_get_udid(c->dev, &real) == IDEVICE_E_SUCCESS && real)
        snprintf(c->udid, sizeof c->udid, "%s", real);
    free(real);
    lockdownd_error_t le = lockdownd_client_new_with_handshake(c->dev, &c->ld, HOST_LABEL);
    if (le != LOCKDOWN_E_SUCCESS) {
        c->ld = NULL;
        int rc = lockdown_error(c->udid, le);
        host_conn_close(c);
        return rc;
    }
    return 0;
}

/* Copies a string value of dict into a fixed buffer ("" when absent). */
static void copy_string(plist_t dict, const char *key, char *out, size_t size)
{
    char *s = NULL;
    out[0] = '\0';
    if (dict && ferry_plist_get_string(dict, key, &s) == 0)
        snprintf(out, size, "%s", s);
    else
        ferry_error_clear();
    free(s);
}

static int get_bool(plist_t dict, const char *key)
{
    int v = -1;
    if (!dict || ferry_plist_get_bool(dict, key, &v)) {
        ferry_error_clear();
        return -1;
    }
    return v ? 1 : 0;
}

static int64_t get_int(plist_t dict, const char *key)
{
    int64_t v = -1;
    if (!dict || ferry_plist_get_int(dict, key, &v)) {
        ferry_error_clear();
        return -1;
    }
    return v;
}

/* A whole domain as a dict, or NULL when the device does not have it. */
static plist_t domain(host_conn_t *c, const char *name)
{
    plist_t v = NULL;
    if (lockdownd_get_value(c->ld, name, NULL, &v) != LOCKDOWN_E_SUCCESS || !v ||
        plist_get_node_type(v) != PLIST_DICT) {
        plist_free(v);
        return NULL;
    }
    return v;
}

int host_conn_describe(host_conn_t *c, ferry_host_device_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->udid, sizeof out->udid, "%s", c->udid);
    plist_t root = domain(c, NULL);
    if (!root)
        return ferry_error_set(FERRY_EIO, "device %s: lockdownd gave no values: reconnect it and run again", c->udid);
    copy_string(root, "DeviceName", out->name, sizeof out->name);
    copy_string(root, "ProductType", out->product_type, sizeof out->product_type);
    copy_string(root, "DeviceClass", out->device_class, sizeof out->device_class);
    copy_string(root, "ProductVersion", out->os_version, sizeof out->os_version);
    copy_string(root, "BuildVersion", out->build_version, sizeof out->build_version);
    copy_string(root, "SerialNumber", out->serial, sizeof out->serial);
    plist_free(root);
    out->paired = 1; /* the handshake validated the pair record */
    plist_t b = domain(c, "com.apple.mobile.backup");
    out->password_set = get_bool(b, "WillEncrypt");
    out->encryption_required = get_bool(b, "RequiresEncryption");
    if (out->password_set < 0)
        out->password_set = 0; /* real devices omit WillEncrypt until a password was ever set */
    if (out->encryption_required < 0)
        out->encryption_required = 0;
    plist_free(b);
    plist_t ch = domain(c, "com.apple.mobile.chaperone");
    out->supervised = get_bool(ch, "DeviceIsChaperoned");
    plist_free(ch);
    plist_t pb = domain(c, "com.apple.purplebuddy");
    out->setup_done = get_bool(pb, "SetupDone");
    plist_free(pb);
    plist_t du = domain(c, "com.apple.disk_usage");
    out->data_capacity = get_int(du, "TotalDataCapacity");
    if (out->data_capacity < 0)
        out->data_capacity = get_int(du, "TotalDiskCapacity");
    out->data_available = get_int(du, "TotalDataAvailable");
    plist_free(du);
    return 0;
}

/* notification_proxy and AFC, started in the lockdownd session; NULL descriptors when refused (the
 * sync session is then skipped with a warning: the backup service alone is enough for a backup). */
static void start_sync_services(host_conn_t *c, lockdownd_service_descriptor_t *np,
                                lockdownd_service_descriptor_t *afc)
{
    if (lockdownd_start_service(c->ld, NP_SERVICE_NAME, np) != LOCKDOWN_E_SUCCESS ||
        lockdownd_start_service(c->ld, AFC_SERVICE_NAME, afc) != LOCKDOWN_E_SUCCESS) {
        ferry_log(FERRY_LOG_WARN, "device %s: no notification_proxy or AFC: backing up without the sync lock",
                  c->udid);
        lockdownd_service_descriptor_free(*np);
        lockdownd_service_descriptor_free(*afc);
        *np = *afc = NULL;
    }
}

int host_conn_start_mb2(host_conn_t *c, int sync)
{
    lockdownd_service_descriptor_t svc = NULL, np = NULL, afc = NULL;
    if (sync)
        start_sync_services(c, &np, &afc);
    lockdownd_error_t le = lockdownd_start_service_with_escrow_bag(c->ld, MOBILEBACKUP2_SERVICE_NAME, &svc);
    if (le != LOCKDOWN_E_SUCCESS || !svc) {
        lockdownd_service_descriptor_free(svc);
        lockdownd_service_descriptor_free(np);
        lockdownd_service_descriptor_free(afc);
        if (le == LOCKDOWN_E_PASSWORD_PROTECTED)
            return lockdown_error(c->udid, le);
        return ferry_error_set(FERRY_EDEVICE, "device %s refused to start its backup service (lockdownd error %d): "
                               "unlock the device and run again", c->udid, (int)le);
    }
    lockdownd_client_free(c->ld); /* StopSession: the services' ports outlive it */
    c->ld = NULL;
    int rc = np && afc ? host_sync_connect(c, np, afc) : 0;
    lockdownd_service_descriptor_free(np);
    lockdownd_service_descriptor_free(afc);
    c->wire.udid = c->udid;
    c->wire.opts = c->opts;
    c->wire.device_cancel = &c->device_cancel;
    if (!rc)
        rc = host_wire_open(&c->wire, c->dev, svc);
    lockdownd_service_descriptor_free(svc);
    if (!rc && c->np && c->afc)
        rc = host_sync_begin(c);
    return rc;
}

void host_conn_close(host_conn_t *c)
{
    host_sync_end(c);
    host_wire_close(&c->wire);
    if (c->ld)
        lockdownd_client_free(c->ld);
    if (c->dev)
        idevice_free(c->dev);
    c->ld = NULL;
    c->dev = NULL;
}
