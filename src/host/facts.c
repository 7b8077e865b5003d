/*
 * facts.c: reads an attached device's state as policy facts (ferry_host_device_facts) over
 * libimobiledevice: lockdownd values (UniqueDeviceID, SerialNumber, ProductVersion,
 * com.apple.mobile.chaperone DeviceIsChaperoned, com.apple.mobile.backup WillEncrypt,
 * PasswordProtected), com.apple.mobile.MCInstall (GetCloudConfiguration, then GetProfileList) and
 * installation_proxy Browse. Used before a restore to plan it and after it to compare. The connection
 * is connect.c's (pairing, Trust and passcode messages); every MCInstall answer is awaited with the
 * caller's deadline.
 * Facts the wire does not carry keep their defaults (facts_parse.c, docs/cli.md): restrictions are
 * Apple's defaults, no account, no category, no assignment.
 */
#include "facts_internal.h"
#include "host_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libimobiledevice/installation_proxy.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <libimobiledevice/property_list_service.h>

#define MCINSTALL_SERVICE "com.apple.mobile.MCInstall"

static int lockdown_fail(const host_conn_t *c, const char *step, int err)
{
    int code = err == LOCKDOWN_E_RECEIVE_TIMEOUT ? FERRY_ETIMEOUT : err == LOCKDOWN_E_MUX_ERROR ? FERRY_EIO : FERRY_EDEVICE;
    return ferry_error_set(code,
                           "device %s: lockdownd %s failed (error %d): is the device attached, unlocked and "
                           "trusting this computer?", c->udid, step, err);
}

static void value_copy(const host_conn_t *c, const char *domain, const char *key, char *dst, size_t n)
{
    plist_t v = NULL;
    dst[0] = 0;
    if (lockdownd_get_value(c->ld, domain, key, &v) == LOCKDOWN_E_SUCCESS && v) {
        char *s = plist_get_node_type(v) == PLIST_STRING ? ferry_plist_string_dup(v) : NULL;
        if (s)
            snprintf(dst, n, "%s", s);
        free(s);
    }
    if (v)
        plist_free(v);
}

static int value_bool(const host_conn_t *c, const char *domain, const char *key)
{
    plist_t v = NULL;
    int r = 0;
    if (lockdownd_get_value(c->ld, domain, key, &v) == LOCKDOWN_E_SUCCESS && v)
        r = plist_get_node_type(v) == PLIST_BOOLEAN && plist_bool_val_is_true(v);
    if (v)
        plist_free(v);
    return r;
}

static int lockdown_values(const host_conn_t *c, ferry_device_facts_t *f)
{
    char version[32];
    value_copy(c, NULL, "UniqueDeviceID", f->udid, sizeof f->udid);
    value_copy(c, NULL, "SerialNumber", f->serial, sizeof f->serial);
    value_copy(c, NULL, "ProductVersion", version, sizeof version);
    if (!f->udid[0])
        return ferry_error_set(FERRY_EDEVICE, "device %s: lockdownd gave no UniqueDeviceID", c->udid);
    if (ferry_policy_os_parse(version, &f->os))
        ferry_log(FERRY_LOG_WARN, "device %s: ProductVersion '%s' is not a version number; the version gates "
                  "treat it as 0", c->udid, version);
    f->supervised = value_bool(c, "com.apple.mobile.chaperone", "DeviceIsChaperoned");
    f->backup_password_set = value_bool(c, "com.apple.mobile.backup", "WillEncrypt");
    f->has_passcode = value_bool(c, NULL, "PasswordProtected");
    return 0;
}

/* One MCInstall request and its reply (a new plist for the caller). */
static int mc_request(const host_conn_t *c, property_list_service_client_t pl, const char *request, plist_t *reply)
{
    plist_t req = plist_new_dict();
    plist_dict_set_item(req, "RequestType", plist_new_string(request));
    property_list_service_error_t e = property_list_service_send_xml_plist(pl, req);
    plist_free(req);
    *reply = NULL;
    if (e == PROPERTY_LIST_SERVICE_E_SUCCESS)
        e = property_list_service_receive_plist_with_timeout(pl, reply, (unsigned)c->timeout_ms);
    if (e == PROPERTY_LIST_SERVICE_E_SUCCESS && *reply)
        return 0;
    if (*reply)
        plist_free(*reply);
    *reply = NULL;
    return ferry_error_set(e == PROPERTY_LIST_SERVICE_E_RECEIVE_TIMEOUT ? FERRY_ETIMEOUT : FERRY_EDEVICE,
                           "device %s: MCInstall %s got no answer (error %d)%s", c->udid, request, e,
                           e == PROPERTY_LIST_SERVICE_E_RECEIVE_TIMEOUT ? " before the deadline" : "");
}

static int mcinstall(const host_conn_t *c, ferry_device_facts_t *f)
{
    lockdownd_service_descriptor_t svc = NULL;
    lockdownd_error_t le = lockdownd_start_service(c->ld, MCINSTALL_SERVICE, &svc);
    if (le != LOCKDOWN_E_SUCCESS)
        return lockdown_fail(c, "StartService " MCINSTALL_SERVICE, le);
    property_list_service_client_t pl = NULL;
    int rc = property_list_service_client_new(c->dev, svc, &pl) == PROPERTY_LIST_SERVICE_E_SUCCESS
                 ? 0
                 : ferry_error_set(FERRY_EDEVICE, "device %s: cannot connect to %s", c->udid, MCINSTALL_SERVICE);
    lockdownd_service_descriptor_free(svc);
    plist_t r = NULL;
    if (!rc && !(rc = mc_request(c, pl, "GetCloudConfiguration", &r)))
        rc = host_facts_cloud_config(r, f);
    if (r)
        plist_free(r);
    r = NULL;
    if (!rc && !(rc = mc_request(c, pl, "GetProfileList", &r)))
        rc = host_facts_profiles(r, f);
    if (r)
        plist_free(r);
    if (pl)
        property_list_service_client_free(pl);
    return rc;
}

static int apps(const host_conn_t *c, ferry_device_facts_t *f)
{
    instproxy_client_t ip = NULL;
    if (instproxy_client_start_service(c->dev, &ip, "ferry") != INSTPROXY_E_SUCCESS)
        return ferry_error_set(FERRY_EDEVICE, "device %s: cannot start installation_proxy", c->udid);
    plist_t opts = instproxy_client_options_new();
    instproxy_client_options_add(opts, "ApplicationType", "User", NULL);
    plist_t list = NULL;
    instproxy_error_t e = instproxy_browse(ip, opts, &list);
    instproxy_client_options_free(opts);
    instproxy_client_free(ip);
    int rc = e == INSTPROXY_E_SUCCESS ? host_facts_apps(list, f)
                                      : ferry_error_set(FERRY_EDEVICE, "device %s: installation_proxy Browse failed "
                                                        "(error %d)", c->udid, e);
    if (list)
        plist_free(list);
    return rc;
}

int ferry_host_device_facts(const char *udid, const ferry_host_opts_t *opts, ferry_device_facts_t *out)
{
    if (!udid || !out)
        return ferry_error_set(FERRY_EINVAL, "ferry_host_device_facts: no device");
    memset(out, 0, sizeof *out);
    ferry_policy_restrictions_default(&out->restrictions);
    host_conn_t c;
    int rc = host_conn_open(udid, opts, &c); /* the same connection as backups and restores (connect.c) */
    if (!rc)
        rc = lockdown_values(&c, out);
    if (!rc)
        rc = mcinstall(&c, out);
    if (!rc)
        rc = apps(&c, out);
    host_conn_close(&c);
    if (rc)
        ferry_host_facts_free(out);
    return rc;
}

void ferry_host_facts_free(ferry_device_facts_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->profiles && i < f->n_profiles; i++)
        free((void *)f->profiles[i].payloads);
    free((void *)f->profiles);
    free((void *)f->apps);
    free((void *)f->books);
    memset(f, 0, sizeof *f);
}
