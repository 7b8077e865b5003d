/*
 * mcinstall.c: com.apple.mobile.MCInstall on the emulated device, the read-only part a host uses to see
 * how a device is managed: GetProfileList (OrderedIdentifiers, ProfileManifest, ProfileMetadata,
 * Status, as real devices answer) and GetCloudConfiguration (CloudConfiguration: the device's
 * CloudConfigurationDetails, left out when the device has no management configuration), plus
 * HelloHostIdentifier and Flush, which only acknowledge. Every other RequestType (InstallProfile,
 * RemoveProfile, Escalate, EraseDevice ...) is answered Status "Error" with an ErrorChain and changes
 * nothing: the emulated device is changed through its directory and MDM, never by this service.
 *
 * Real devices do not say in ProfileMetadata which payloads a profile carries or whether the MDM
 * installed it. The emulator adds both under the names of the MDM ProfileList command's answer
 * (IsManaged; PayloadContent entries with PayloadType, PayloadIdentifier, PayloadUUID,
 * PayloadDisplayName, PayloadVersion) and, for the payloads the rules read, their own keys
 * (com.apple.mdm: IdentityCertificateUUID, EnrollmentMode, ManagedAppleID; com.apple.security.acme:
 * HardwareBound). The host treats them as optional (docs/cli.md). Reads take the device's lock:
 * a restore may replace the model at any time.
 */
#include "serve_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_key(plist_t dst, plist_t src, const char *key)
{
    plist_t n = plist_dict_get_item(src, key);
    if (n)
        plist_dict_set_item(dst, key, plist_copy(n));
}

static plist_t payload_entry(const ferry_payload_t *p)
{
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "PayloadType", plist_new_string(p->PayloadType));
    plist_dict_set_item(e, "PayloadIdentifier", plist_new_string(p->PayloadIdentifier));
    plist_dict_set_item(e, "PayloadUUID", plist_new_string(p->PayloadUUID));
    copy_key(e, p->dict, "PayloadDisplayName");
    copy_key(e, p->dict, "PayloadVersion");
    if (!strcmp(p->PayloadType, "com.apple.mdm")) {
        copy_key(e, p->dict, "IdentityCertificateUUID");
        copy_key(e, p->dict, "EnrollmentMode");
        copy_key(e, p->dict, "ManagedAppleID");
    } else if (!strcmp(p->PayloadType, "com.apple.security.acme")) {
        copy_key(e, p->dict, "HardwareBound");
    }
    return e;
}

static plist_t metadata(const ferry_installed_profile_t *ip)
{
    const ferry_profile_t *p = ip->profile;
    plist_t m = plist_new_dict();
    plist_dict_set_item(m, "PayloadUUID", plist_new_string(p->PayloadUUID));
    if (p->PayloadDisplayName)
        plist_dict_set_item(m, "PayloadDisplayName", plist_new_string(p->PayloadDisplayName));
    if (p->PayloadOrganization)
        plist_dict_set_item(m, "PayloadOrganization", plist_new_string(p->PayloadOrganization));
    copy_key(m, p->top, "PayloadDescription");
    plist_t v = plist_dict_get_item(p->top, "PayloadVersion");
    plist_dict_set_item(m, "PayloadVersion", v ? plist_copy(v) : plist_new_uint(1));
    plist_dict_set_item(m, "PayloadRemovalDisallowed", plist_new_bool(p->PayloadRemovalDisallowed));
    plist_dict_set_item(m, "IsManaged", plist_new_bool(ip->source == FERRY_SOURCE_MDM));
    plist_t pc = plist_new_array();
    for (size_t i = 0; i < p->n_payloads; i++)
        plist_array_append_item(pc, payload_entry(&p->payloads[i]));
    plist_dict_set_item(m, "PayloadContent", pc);
    return m;
}

static plist_t profile_list(emu_device_t *d)
{
    plist_t order = plist_new_array(), manifest = plist_new_dict(), meta = plist_new_dict();
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->model->n_profiles; i++) {
        const ferry_installed_profile_t *ip = &d->model->profiles[i];
        const char *id = ip->profile->PayloadIdentifier;
        plist_array_append_item(order, plist_new_string(id));
        plist_t man = plist_new_dict();
        const char *desc = ip->profile->PayloadDisplayName ? ip->profile->PayloadDisplayName : id;
        plist_dict_set_item(man, "Description", plist_new_string(desc));
        plist_dict_set_item(man, "IsActive", plist_new_bool(1));
        plist_dict_set_item(manifest, id, man);
        plist_dict_set_item(meta, id, metadata(ip));
    }
    pthread_mutex_unlock(&d->lock);
    plist_t r = plist_new_dict();
    plist_dict_set_item(r, "OrderedIdentifiers", order);
    plist_dict_set_item(r, "ProfileManifest", manifest);
    plist_dict_set_item(r, "ProfileMetadata", meta);
    plist_dict_set_item(r, "Status", plist_new_string("Acknowledged"));
    return r;
}

static plist_t cloud_configuration(emu_device_t *d)
{
    plist_t r = plist_new_dict();
    pthread_mutex_lock(&d->lock);
    if (d->model->CloudConfigurationDetails)
        plist_dict_set_item(r, "CloudConfiguration", plist_copy(d->model->CloudConfigurationDetails));
    pthread_mutex_unlock(&d->lock);
    plist_dict_set_item(r, "Status", plist_new_string("Acknowledged"));
    return r;
}

/* The shape of a refused request on real devices: Status Error and one ErrorChain entry. */
static plist_t error_reply(const char *request)
{
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "ErrorCode", plist_new_uint(1));
    plist_dict_set_item(e, "ErrorDomain", plist_new_string("MCInstallationErrorDomain"));
    char msg[160];
    snprintf(msg, sizeof msg, "The emulated device does not perform %s", request ? request : "(no RequestType)");
    plist_dict_set_item(e, "LocalizedDescription", plist_new_string(msg));
    plist_t chain = plist_new_array();
    plist_array_append_item(chain, e);
    plist_t r = plist_new_dict();
    plist_dict_set_item(r, "ErrorChain", chain);
    plist_dict_set_item(r, "Status", plist_new_string("Error"));
    return r;
}

static plist_t answer(emu_conn_t *c, const char *request)
{
    if (request && !strcmp(request, "GetProfileList"))
        return profile_list(c->dev);
    if (request && !strcmp(request, "GetCloudConfiguration"))
        return cloud_configuration(c->dev);
    if (request && (!strcmp(request, "HelloHostIdentifier") || !strcmp(request, "Flush"))) {
        plist_t r = plist_new_dict();
        plist_dict_set_item(r, "Status", plist_new_string("Acknowledged"));
        return r;
    }
    return error_reply(request);
}

void emu_mcinstall_serve(emu_conn_t *c)
{
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        char *request = emu_dict_string(req, "RequestType");
        if (c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "MCInstall %s: %s", c->dev->udid, request ? request : "(no RequestType)");
        plist_t r = answer(c, request);
        int rc = emu_plist_send(c, r, 1);
        plist_free(r);
        free(request);
        plist_free(req);
        if (rc)
            break;
    }
}
