/*
 * checkin_flow.c: the flow of `ferry device checkin`, the glue between the device module (the
 * directory, its commands, unenrollment and ADE enrollment, include/ferry/device.h) and the MDM module
 * (the check-in client, signatures and the assignment service, include/ferry/mdm.h): src/cli is the
 * only place that sees both. The rules it follows: S2 (Authenticate and TokenUpdate when the
 * enrollment is new, TokenUpdate alone after a restore, else only the command loop; a 200 keeps the
 * enrollment, any answer but 200/401/403-with-body keeps it too and is retried later), S3/E1/E2/U3
 * (401, or 403 com.apple.unrecognized.device from version 17: unenroll by ferry_policy_unenroll_plan),
 * S4 (after a restore a hardware-bound ACME identity cannot come back: unenroll, then ADE when
 * registered), S6 (an Employee-plan ADE enrollment is not resumed after a restore), V1 (from version
 * 26, an ADE profile with do_not_use_profile_from_backup replaces a restored enrollment) and D2 (a
 * registered device that was never configured asks the assignment service and enrolls; a device that
 * kept its configuration after S3 or S7 does not start ADE on its own). Every step is recorded in the
 * report; nothing here prints.
 */
#include "checkin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void step(checkin_t *c, const char *name, int http, const char *result, const char *rules, const char *fmt,
                 ...) __attribute__((format(printf, 6, 7)));

static void step(checkin_t *c, const char *name, int http, const char *result, const char *rules, const char *fmt,
                 ...)
{
    step_t *n = realloc(c->steps, (c->n_steps + 1) * sizeof *n);
    if (!n)
        return; /* the report loses a line; the check-in itself goes on */
    c->steps = n;
    step_t *s = &n[c->n_steps++];
    memset(s, 0, sizeof *s);
    snprintf(s->step, sizeof s->step, "%s", name);
    snprintf(s->result, sizeof s->result, "%s", result);
    snprintf(s->rules, sizeof s->rules, "%s", rules ? rules : "");
    s->http_status = http;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
}

/* ---- URLs and the MDM payload -------------------------------------------------------------------- */

static const char *mdm_str(const ferry_device_t *dev, const char *key)
{
    const ferry_installed_profile_t *ip = ferry_device_enrollment_profile(dev);
    const ferry_payload_t *pl = ip ? ferry_profile_find_payload(ip->profile, "com.apple.mdm") : NULL;
    plist_t v = pl ? plist_dict_get_item(pl->dict, key) : NULL;
    return v && plist_get_node_type(v) == PLIST_STRING ? plist_get_string_ptr(v, NULL) : NULL;
}

/* scheme://host[:port] of url (malloc'd), or NULL. */
static char *url_origin(const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p)
        return NULL;
    const char *slash = strchr(p + 3, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, url, n);
        o[n] = '\0';
    }
    return o;
}

static char *join(const char *a, const char *b)
{
    char *s = NULL;
    return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* The device-assignment service: --url, else the origin of the configuration or MDM URL. */
static char *assignment_base(const checkin_t *c)
{
    if (c->url)
        return strdup(c->url);
    plist_t v = c->dev->CloudConfigurationDetails
                    ? plist_dict_get_item(c->dev->CloudConfigurationDetails, "ConfigurationURL") : NULL;
    if (v && plist_get_node_type(v) == PLIST_STRING)
        return url_origin(plist_get_string_ptr(v, NULL));
    return url_origin(mdm_str(c->dev, "ServerURL"));
}

/* ---- identity ------------------------------------------------------------------------------------ */

/* The device's MDM identity: PKCS#12 from the profile, or the ACME/SCEP key the device keeps in its
 * keychain; an ACME/SCEP identity without one gets a key generated now and stored (the emulated CA
 * issues a self-signed certificate). */
static int obtain_identity(checkin_t *c, ferry_mdm_identity_t **out)
{
    ferry_device_identity_t di;
    int rc = ferry_device_identity_get(c->dev, &di);
    if (rc)
        return rc;
    if (di.pkcs12) {
        rc = ferry_mdm_identity_from_pkcs12(di.pkcs12, di.pkcs12_len, di.password, out);
    } else if (di.cert_der && di.key_der) {
        rc = ferry_mdm_identity_from_der(di.cert_der, di.cert_len, di.key_der, di.key_len, out);
    } else {
        uint8_t *cert = NULL, *key = NULL;
        size_t cl = 0, kl = 0;
        rc = ferry_mdm_identity_generate(c->dev->UniqueDeviceID, out);
        if (!rc)
            rc = ferry_mdm_identity_cert_der(*out, &cert, &cl);
        if (!rc)
            rc = ferry_mdm_identity_key_der(*out, &key, &kl);
        if (!rc)
            rc = ferry_device_identity_store(c->dev, cert, cl, key, kl);
        if (!rc)
            step(c, "Identity", 0, "generated", di.hardware_bound ? "R6" : "",
                 "%s identity: key generated and kept in keychain.plist (payload %s)%s", di.payload_type,
                 di.payload_uuid, di.hardware_bound ? "; hardware-bound: it never leaves the device" : "");
        if (key)
            ferry_wipe(key, kl);
        free(key);
        free(cert);
        if (rc && *out) {
            ferry_mdm_identity_free(*out);
            *out = NULL;
        }
    }
    ferry_device_identity_clear(&di);
    return rc;
}

/* ---- unenrollment and enrollment ----------------------------------------------------------------- */

static int unenroll(checkin_t *c, const char *cause)
{
    ferry_policy_unenroll_free(&c->removed);
    int rc = ferry_device_unenroll(c->dev, cause, &c->removed);
    if (rc) {
        step(c, "Unenroll", 0, "failed", cause, "%s", ferry_error_last());
        return rc;
    }
    size_t gone = 0, unmanaged = 0;
    for (size_t i = 0; i < c->removed.n; i++) {
        gone += c->removed.items[i].action == FERRY_UNENROLL_REMOVE;
        unmanaged += c->removed.items[i].action == FERRY_UNENROLL_UNMANAGE;
    }
    step(c, "Unenroll", 0, "unenrolled", cause, "%zu items removed, %zu apps unmanaged, the rest kept", gone,
         unmanaged);
    return 0;
}

static int reload(checkin_t *c)
{
    ferry_device_free(c->dev);
    c->dev = NULL;
    return ferry_device_load(c->dir, &c->dev);
}

static plist_t machine_info(const ferry_device_t *dev)
{
    plist_t mi = plist_new_dict();
    plist_dict_set_item(mi, "UDID", plist_new_string(dev->UniqueDeviceID));
    plist_dict_set_item(mi, "SERIAL", plist_new_string(dev->SerialNumber));
    plist_dict_set_item(mi, "PRODUCT", plist_new_string(dev->ProductType));
    plist_dict_set_item(mi, "VERSION", plist_new_string(dev->BuildVersion));
    plist_dict_set_item(mi, "OS_VERSION", plist_new_string(dev->ProductVersion));
    plist_dict_set_item(mi, "LANGUAGE", plist_new_string("en"));
    return mi;
}

/* D2: the assignment service's profile, then the enrollment profile fetched with the MachineInfo
 * (signed, as a device signs it, here with a one-time identity standing in for the device's
 * attestation certificate). Returns 1 when enrolled, 0 when the serial is not assigned. */
static int enroll_ade(checkin_t *c, const char *rules)
{
    char *base = assignment_base(c);
    if (!base) {
        step(c, "ADE", 0, "failed", rules, "no device-assignment service URL: give --url");
        return ferry_error_set(FERRY_EINVAL, "%s: no device-assignment service URL; give --url", c->dir);
    }
    ferry_mdm_ade_profile_t ade;
    int rc = ferry_mdm_client_fetch_ade_profile(base, c->dev->SerialNumber, c->ca_file, &ade);
    if (rc == FERRY_ENOTFOUND) {
        step(c, "ADE", 404, "not-assigned", rules, "serial number %s has no ADE profile at %s",
             c->dev->SerialNumber, base);
        free(base);
        return 0;
    }
    char *dflt = join(base, "/ade/enroll");
    plist_t ade_plist = rc ? NULL : ferry_mdm_ade_profile_to_plist(&ade, dflt);
    plist_t mi = machine_info(c->dev), profile = NULL;
    ferry_mdm_identity_t *attest = NULL;
    if (!rc)
        rc = ferry_mdm_identity_generate(c->dev->SerialNumber, &attest);
    if (!rc)
        rc = ferry_mdm_client_fetch_enrollment(ade.url ? ade.url : dflt, mi, attest, c->ca_file, &profile);
    char *xml = NULL;
    uint32_t len = 0;
    if (!rc) {
        plist_to_xml(profile, &xml, &len);
        rc = xml ? ferry_device_enroll_ade(c->dev, ade_plist, (const uint8_t *)xml, len)
                 : ferry_error_set(FERRY_EFORMAT, "cannot serialise the enrollment profile");
    }
    if (rc) {
        step(c, "ADE", 0, "failed", rules, "%s", ferry_error_last());
        reload(c); /* the device may be half-changed in memory; its directory is not */
    } else {
        step(c, "ADE", 200, "enrolled", rules, "Automated Device Enrollment from %s: %s, supervised %s",
             base, ade.org_name ? ade.org_name : "(no organisation)", c->dev->IsSupervised ? "yes" : "no");
    }
    free(xml);
    if (profile)
        plist_free(profile);
    plist_free(mi);
    if (ade_plist)
        plist_free(ade_plist);
    ferry_mdm_identity_free(attest);
    ferry_mdm_ade_profile_clear(&ade);
    free(dflt);
    free(base);
    return rc ? rc : 1;
}

/* ---- the MDM session ----------------------------------------------------------------------------- */

static const char *verdict_name(const ferry_mdm_reply_t *r)
{
    switch (r->verdict) {
    case FERRY_MDM_VERDICT_ACCEPTED: return "accepted";
    case FERRY_MDM_VERDICT_REJECTED_401: return "rejected-401";
    case FERRY_MDM_VERDICT_REJECTED_403: return "rejected-403";
    case FERRY_MDM_VERDICT_OTHER: break;
    }
    return r->http_status ? "kept" : "no-answer";
}

static const char *run_command(void *ctx, plist_t request, plist_t *response)
{
    checkin_t *c = ctx;
    char *uuid = NULL, *rt = NULL;
    plist_t cmd = plist_dict_get_item(request, "Command");
    ferry_plist_get_string(request, "CommandUUID", &uuid);
    ferry_plist_get_string(cmd, "RequestType", &rt);
    const char *status = "NotNow";
    if (c->dev) {
        int rc = ferry_device_mdm_command(&c->dev, request, response, &status);
        if (rc) /* the device could not be reloaded: answer NotNow, the server resends */
            status = "NotNow";
    }
    plist_t chain = *response ? plist_dict_get_item(*response, "ErrorChain") : NULL;
    plist_t first = chain ? plist_array_get_item(chain, 0) : NULL;
    char *why = NULL;
    if (first)
        ferry_plist_get_string(first, "USEnglishDescription", &why);
    step(c, "Command", 0, status, "", "%s %s%s%s", rt ? rt : "?", uuid ? uuid : "?", why ? ": " : "",
         why ? why : "");
    free(why);
    free(uuid);
    free(rt);
    return status;
}

/* The answer to one message: 1 when the session goes on, 0 when it ends (kept or unenrolled). */
static int judge(checkin_t *c, const char *what, int rc, const ferry_mdm_reply_t *r)
{
    c->last_status = r->http_status;
    const char *v = verdict_name(r);
    ferry_os_version_t os = {0, 0, 0};
    ferry_policy_os_parse(c->dev->ProductVersion, &os);
    int rejected = r->verdict == FERRY_MDM_VERDICT_REJECTED_401 || r->verdict == FERRY_MDM_VERDICT_REJECTED_403;
    if (rejected && !ferry_policy_checkin_unenrolls(r->http_status, r->verdict == FERRY_MDM_VERDICT_REJECTED_403, os)) {
        step(c, what, r->http_status, v, "S2", "version %s honours only 401: the enrollment stays and the device "
             "tries again at its next check-in", c->dev->ProductVersion);
        c->outcome = "kept";
        return 0;
    }
    if (rejected) {
        step(c, what, r->http_status, v, "S2 S3", "the MDM server rejects the device: it unenrolls");
        if (unenroll(c, "S3") == 0)
            c->outcome = "unenrolled";
        return 0;
    }
    if (rc || r->verdict != FERRY_MDM_VERDICT_ACCEPTED) {
        step(c, what, r->http_status, v, "S2", "%s; the enrollment stays and the device tries again at its next "
             "check-in (ferry choice)", rc ? ferry_error_last() : (r->reason ? r->reason : "no reason given"));
        c->outcome = "kept";
        return 0;
    }
    step(c, what, r->http_status, v, what[0] == 'T' ? "S2" : "",
         what[0] == 'T' ? "the server accepts the device: the enrollment stays"
                        : "the server accepts the enrollment and binds the identity that signed");
    return 1;
}

/* Records an accepted step of the enrollment's life in the device's check-in state. */
static int mark(checkin_t *c, int authenticated, int token_updated)
{
    ferry_device_checkin_state_t st;
    ferry_device_checkin_state(c->dev, &st);
    st.Authenticated |= authenticated;
    st.TokenUpdated |= token_updated;
    return ferry_device_set_checkin_state(c->dev, &st);
}

/* One session: Authenticate and TokenUpdate when asked, then the command loop (Idle first). */
static int session(checkin_t *c, int authenticate, int token_update)
{
    ferry_mdm_identity_t *id = NULL;
    int rc = obtain_identity(c, &id);
    if (rc) {
        step(c, "Identity", 0, "failed", "", "%s", ferry_error_last());
        return rc;
    }
    char *checkin = NULL, *server = NULL;
    if (c->url) {
        checkin = join(c->url, "/checkin");
        server = join(c->url, "/mdm");
    } else {
        const char *s = mdm_str(c->dev, "ServerURL"), *ci = mdm_str(c->dev, "CheckInURL");
        server = s ? strdup(s) : NULL;
        checkin = strdup(ci ? ci : s ? s : "");
    }
    char *udid = strdup(c->dev->UniqueDeviceID), *topic = strdup(mdm_str(c->dev, "Topic") ? mdm_str(c->dev, "Topic") : "");
    ferry_mdm_client_opts_t o = {checkin, server, udid, topic, id, c->ca_file, c->timeout};
    ferry_mdm_reply_t r;
    memset(&r, 0, sizeof r);
    int go = checkin && server && udid && topic;
    if (!go)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (go && authenticate) {
        ferry_mdm_device_facts_t f = {c->dev->SerialNumber, c->dev->ProductType, c->dev->ProductVersion,
                                      c->dev->BuildVersion};
        go = judge(c, "Authenticate", ferry_mdm_client_authenticate(&o, &f, &r), &r);
        ferry_mdm_reply_clear(&r);
        if (go) {
            rc = mark(c, 1, 0);
            go = rc == 0;
        }
    }
    if (go && token_update) {
        uint8_t token[32];
        char magic[33];
        ferry_random_bytes(token, sizeof token);
        ferry_hex_encode(token, 16, magic);
        int awaiting = 0;
        if (c->dev->CloudConfigurationDetails)
            ferry_plist_get_bool(c->dev->CloudConfigurationDetails, "AwaitDeviceConfigured", &awaiting);
        go = judge(c, "TokenUpdate", ferry_mdm_client_token_update(&o, token, sizeof token, magic, awaiting, &r), &r);
        ferry_mdm_reply_clear(&r);
        if (go) {
            rc = mark(c, 0, 1);
            go = rc == 0;
        }
    }
    if (go) {
        unsigned n = 0;
        int lrc = ferry_mdm_client_command_loop(&o, run_command, c, 0, &n, &r);
        if (!c->dev)
            rc = reload(c);
        if (!rc && (lrc || r.http_status != 200)) {
            judge(c, "Commands", lrc, &r);
        } else if (!rc) {
            c->last_status = 200;
            step(c, "Commands", 200, "done", "", "%u command%s run; the server ended the session", n,
                 n == 1 ? "" : "s");
            c->outcome = c->outcome ? c->outcome : "accepted";
        }
        ferry_mdm_reply_clear(&r);
    }
    free(checkin);
    free(server);
    free(udid);
    free(topic);
    ferry_mdm_identity_free(id);
    return rc;
}

/* ---- the check-in -------------------------------------------------------------------------------- */

/* V1 (iOS 26 and later, after a restore): the assignment service's current ADE profile says
 * do_not_use_profile_from_backup. 1 when it applies; an unreachable service is not an answer. */
static int v1_applies(checkin_t *c)
{
    ferry_os_version_t os = {0, 0, 0};
    ferry_policy_os_parse(c->dev->ProductVersion, &os);
    if (os.major < 26 || !c->dev->AssignmentService)
        return 0;
    char *base = assignment_base(c);
    ferry_mdm_ade_profile_t ade;
    int v1 = base && ferry_mdm_client_fetch_ade_profile(base, c->dev->SerialNumber, c->ca_file, &ade) == 0 &&
             ade.do_not_use_profile_from_backup;
    if (base)
        ferry_mdm_ade_profile_clear(&ade);
    free(base);
    return v1;
}

/* The enrollment a restore brought back is dropped (S4, V1): unenroll with E1/E2's effects. */
static int drop_restored_enrollment(checkin_t *c, const char *rule, const char *rules, const char *why)
{
    step(c, "Restore", 0, "unrestorable", rules, "%s", why);
    int rc = unenroll(c, rule);
    if (!rc)
        c->outcome = "unenrolled";
    return rc;
}

int checkin_run(checkin_t *c)
{
    int rc = ferry_device_load(c->dir, &c->dev);
    if (rc)
        return rc;
    snprintf(c->enrollment_before, sizeof c->enrollment_before, "%s",
             ferry_policy_enrollment_name(ferry_device_enrollment(c->dev)));
    ferry_device_checkin_state_t st;
    ferry_device_checkin_state(c->dev, &st);
    int restored = c->restored || st.RestorePending;
    /* S2: a restored device announces itself with TokenUpdate, never Authenticate; an enrollment
     * that has done both only polls for commands, as a device does when its server pushes */
    int authenticate = !st.Authenticated && !restored;
    int token_update = restored || authenticate || !st.TokenUpdated;
    const char *cause = NULL; /* S4 or V1: this check-in dropped a restored enrollment */

    if (restored && v1_applies(c)) {
        cause = "V1";
        if (ferry_device_enrollment_profile(c->dev) &&
            (rc = drop_restored_enrollment(c, "V1", "V1", "the ADE profile sets do_not_use_profile_from_backup: "
                                           "the restored enrollment is not used (ferry choice: dropped)")))
            return rc;
    } else if (ferry_device_enrollment_profile(c->dev) && restored && c->dev->EmployeePlan &&
               ferry_device_enrollment(c->dev) == FERRY_ENROLL_ADE) {
        /* S6: not resumed; the user enrolls again with their Managed Apple Account, not ADE */
        if ((rc = drop_restored_enrollment(c, "S6", "S6", "Apple Business Essentials Employee plan: the "
                                           "restored enrollment is not resumed; the user enrolls again "
                                           "with their Managed Apple Account")))
            return rc;
        step(c, "Enrollment", 0, "none", "S6", "waiting for the user to enroll again");
        return 0;
    } else if (ferry_device_enrollment_profile(c->dev) && restored) {
        ferry_device_identity_t di;
        int hw = ferry_device_identity_get(c->dev, &di) == 0 && di.hardware_bound;
        ferry_device_identity_clear(&di);
        if (hw) { /* S4: the key stayed in the old Secure Enclave */
            cause = "S4";
            if ((rc = drop_restored_enrollment(c, "S4", "S4 R6", "the MDM identity is a hardware-bound ACME "
                                               "key: the enrollment cannot be restored")))
                return rc;
        }
    }
    if (ferry_device_enrollment_profile(c->dev))
        return session(c, authenticate, token_update);
    if (!c->dev->AssignmentService) {
        step(c, "Enrollment", 0, "none", cause ? cause : "", "not enrolled and not registered in Apple "
             "Business/School Manager: no check-in");
        c->outcome = c->outcome ? c->outcome : "not-enrolled";
        return 0;
    }
    if (!cause && c->dev->CloudConfigurationDetails) {
        /* a device that kept its configuration after an unenrollment (S3, S7) does not start
         * Automated Device Enrollment on its own; ADE belongs to setup (D2) and to S4/V1 */
        step(c, "Enrollment", 0, "none", "S3 S7", "not enrolled; the management configuration is present, so "
             "the device does not start Automated Device Enrollment on its own");
        c->outcome = c->outcome ? c->outcome : "not-enrolled";
        return 0;
    }
    rc = enroll_ade(c, !cause ? "D2" : !strcmp(cause, "S4") ? "S4 D2" : "V1 D2");
    if (rc <= 0) {
        c->outcome = rc == 0 ? (c->outcome ? c->outcome : "not-assigned") : "failed";
        return rc;
    }
    c->outcome = NULL;
    rc = session(c, 1, 1);
    if (!rc && c->outcome && !strcmp(c->outcome, "accepted"))
        c->outcome = cause ? "re-enrolled" : "enrolled";
    return rc;
}

int checkin_record_state(checkin_t *c)
{
    if (!c->dev || !c->outcome)
        return 0;
    ferry_device_checkin_state_t st;
    ferry_device_checkin_state(c->dev, &st);
    st.LastCheckIn = (int64_t)time(NULL);
    st.LastStatus = c->last_status;
    snprintf(st.LastOutcome, sizeof st.LastOutcome, "%s", c->outcome);
    if (strcmp(c->outcome, "kept")) /* only an answer ends the pending post-restore check-in (S2) */
        st.RestorePending = 0;
    else if (c->restored)
        st.RestorePending = 1;
    return ferry_device_set_checkin_state(c->dev, &st);
}


void checkin_clear(checkin_t *c)
{
    ferry_policy_unenroll_free(&c->removed);
    free(c->steps);
    c->steps = NULL;
    c->n_steps = 0;
    ferry_device_free(c->dev);
    c->dev = NULL;
}
