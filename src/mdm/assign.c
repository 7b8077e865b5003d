/*
 * assign.c: the device-assignment side of ADE (spec/mdm.md §12): the ADE profile a serial number is
 * assigned, in Apple's define-profile key names (url, is_supervised, is_mandatory, is_mdm_removable,
 * is_multi_user, await_device_configured, do_not_use_profile_from_backup), and the enrollment profile
 * a device receives when it posts its MachineInfo. The enrollment profile carries the device identity
 * as an ACME payload (the emulated device makes the key itself, hardware-bound or not, since there is
 * no ACME server) and a com.apple.mdm payload that requires signed messages.
 */
#include "mdm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ferry_mdm_ade_profile_init(ferry_mdm_ade_profile_t *p)
{
    memset(p, 0, sizeof *p);
    p->is_mdm_removable = 1;
}

void ferry_mdm_ade_profile_clear(ferry_mdm_ade_profile_t *p)
{
    free(p->serial);
    free(p->url);
    free(p->profile_name);
    free(p->org_name);
    ferry_mdm_ade_profile_init(p);
}

static const struct {
    const char *key;
    size_t off;
} BOOL_KEYS[] = {
    {"is_supervised", offsetof(ferry_mdm_ade_profile_t, is_supervised)},
    {"is_mandatory", offsetof(ferry_mdm_ade_profile_t, is_mandatory)},
    {"is_mdm_removable", offsetof(ferry_mdm_ade_profile_t, is_mdm_removable)},
    {"is_multi_user", offsetof(ferry_mdm_ade_profile_t, is_multi_user)},
    {"await_device_configured", offsetof(ferry_mdm_ade_profile_t, await_device_configured)},
    {"do_not_use_profile_from_backup", offsetof(ferry_mdm_ade_profile_t, do_not_use_profile_from_backup)},
    {"ferry_acme_hardware_bound", offsetof(ferry_mdm_ade_profile_t, acme_hardware_bound)},
};

plist_t ferry_mdm_ade_profile_to_plist(const ferry_mdm_ade_profile_t *p, const char *default_url)
{
    plist_t d = plist_new_dict();
    const char *url = p->url ? p->url : default_url;
    if (url)
        plist_dict_set_item(d, "url", plist_new_string(url));
    if (p->profile_name)
        plist_dict_set_item(d, "profile_name", plist_new_string(p->profile_name));
    if (p->org_name)
        plist_dict_set_item(d, "org_name", plist_new_string(p->org_name));
    for (size_t i = 0; i < sizeof BOOL_KEYS / sizeof *BOOL_KEYS; i++)
        plist_dict_set_item(d, BOOL_KEYS[i].key,
                            plist_new_bool(*(const int *)((const char *)p + BOOL_KEYS[i].off) != 0));
    if (p->serial) {
        plist_t devs = plist_new_array();
        plist_array_append_item(devs, plist_new_string(p->serial));
        plist_dict_set_item(d, "devices", devs);
    }
    return d;
}

static int opt_string(plist_t dict, const char *key, char **out)
{
    int rc = ferry_plist_get_string(dict, key, out);
    return rc == FERRY_ENOTFOUND ? 0 : rc;
}

int ferry_mdm_ade_profile_from_plist(plist_t dict, ferry_mdm_ade_profile_t *out)
{
    ferry_mdm_ade_profile_init(out);
    if (!dict || plist_get_node_type(dict) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "ADE profile is not a dictionary");
    int rc = opt_string(dict, "url", &out->url);
    if (!rc)
        rc = opt_string(dict, "profile_name", &out->profile_name);
    if (!rc)
        rc = opt_string(dict, "org_name", &out->org_name);
    for (size_t i = 0; !rc && i < sizeof BOOL_KEYS / sizeof *BOOL_KEYS; i++) {
        int v;
        int r = ferry_plist_get_bool(dict, BOOL_KEYS[i].key, &v);
        if (r == 0)
            *(int *)((char *)out + BOOL_KEYS[i].off) = v;
        else if (r != FERRY_ENOTFOUND)
            rc = r;
    }
    plist_t devs = plist_dict_get_item(dict, "devices");
    if (!rc && devs && plist_get_node_type(devs) == PLIST_ARRAY && plist_array_get_size(devs) == 1) {
        plist_t s = plist_array_get_item(devs, 0);
        if (plist_get_node_type(s) == PLIST_STRING)
            out->serial = ferry_plist_string_dup(s);
    }
    if (rc) {
        ferry_mdm_ade_profile_clear(out);
        return ferry_error_wrap(rc, "in the ADE profile");
    }
    return 0;
}

static plist_t payload(const char *type, const char *id, const char *uuid)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "PayloadType", plist_new_string(type));
    plist_dict_set_item(d, "PayloadIdentifier", plist_new_string(id));
    plist_dict_set_item(d, "PayloadUUID", plist_new_string(uuid));
    plist_dict_set_item(d, "PayloadVersion", plist_new_uint(1));
    return d;
}

static char *url_join(const char *base, const char *path)
{
    size_t n = strlen(base) + strlen(path) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", base, path);
    return s;
}

plist_t ferry_mdm_enrollment_profile(const ferry_mdm_ade_profile_t *p, const char *udid,
                                     const char *base_url, const char *topic)
{
    char u_top[37], u_acme[37], u_mdm[37];
    if (mdm_uuid(u_top) || mdm_uuid(u_acme) || mdm_uuid(u_mdm))
        return NULL;
    char *server = url_join(base_url, "/mdm"), *checkin = url_join(base_url, "/checkin"),
         *acme_dir = url_join(base_url, "/acme/directory");
    if (!server || !checkin || !acme_dir) {
        free(server);
        free(checkin);
        free(acme_dir);
        return NULL;
    }
    plist_t acme = payload("com.apple.security.acme", "com.ferry.mdm.enroll.identity", u_acme);
    plist_dict_set_item(acme, "DirectoryURL", plist_new_string(acme_dir));
    plist_dict_set_item(acme, "ClientIdentifier", plist_new_string(udid ? udid : "unknown"));
    plist_dict_set_item(acme, "KeyType", plist_new_string("ECSECPrimeRandom"));
    plist_dict_set_item(acme, "KeySize", plist_new_uint(256));
    plist_dict_set_item(acme, "HardwareBound", plist_new_bool(p->acme_hardware_bound != 0));
    plist_dict_set_item(acme, "Attest", plist_new_bool(0));
    plist_t cn = plist_new_array(), rdn = plist_new_array(), subj = plist_new_array();
    plist_array_append_item(cn, plist_new_string("CN"));
    plist_array_append_item(cn, plist_new_string(udid ? udid : "ferry device"));
    plist_array_append_item(rdn, cn);
    plist_array_append_item(subj, rdn);
    plist_dict_set_item(acme, "Subject", subj);

    plist_t mdm = payload("com.apple.mdm", "com.ferry.mdm.enroll.mdm", u_mdm);
    plist_dict_set_item(mdm, "IdentityCertificateUUID", plist_new_string(u_acme));
    plist_dict_set_item(mdm, "Topic", plist_new_string(topic));
    plist_dict_set_item(mdm, "ServerURL", plist_new_string(server));
    plist_dict_set_item(mdm, "CheckInURL", plist_new_string(checkin));
    plist_dict_set_item(mdm, "SignMessage", plist_new_bool(1));
    plist_dict_set_item(mdm, "AccessRights", plist_new_uint(8191));
    plist_dict_set_item(mdm, "CheckOutWhenRemoved", plist_new_bool(1));
    plist_t caps = plist_new_array();
    plist_array_append_item(caps, plist_new_string("com.apple.mdm.per-user-connections"));
    plist_dict_set_item(mdm, "ServerCapabilities", caps);

    plist_t top = plist_new_dict();
    plist_dict_set_item(top, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(top, "PayloadIdentifier", plist_new_string("com.ferry.mdm.enroll"));
    plist_dict_set_item(top, "PayloadUUID", plist_new_string(u_top));
    plist_dict_set_item(top, "PayloadVersion", plist_new_uint(1));
    plist_dict_set_item(top, "PayloadDisplayName",
                        plist_new_string(p->profile_name ? p->profile_name : "ferry MDM enrollment"));
    if (p->org_name)
        plist_dict_set_item(top, "PayloadOrganization", plist_new_string(p->org_name));
    plist_dict_set_item(top, "PayloadRemovalDisallowed", plist_new_bool(!p->is_mdm_removable));
    plist_t content = plist_new_array();
    plist_array_append_item(content, acme);
    plist_array_append_item(content, mdm);
    plist_dict_set_item(top, "PayloadContent", content);
    free(server);
    free(checkin);
    free(acme_dir);
    return top;
}
