/*
 * admin_client.c: the client of the server's administration API (admin.c), used by
 * `ferry mdm ... --url URL`. Requests and replies are XML plists over libcurl with a bearer token;
 * every reply is parsed defensively and turned into the same records the database functions return,
 * so the command line prints both the same way. A non-200 reply becomes an error carrying the
 * server's reason.
 */
#include "mdm_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One admin request; on 200 *reply is the parsed plist (may be NULL when not wanted). */
static int admin_call(const ferry_mdm_admin_t *a, const char *method, const char *path, plist_t body,
                      plist_t *reply)
{
    if (reply)
        *reply = NULL;
    if (!a->url || !a->token)
        return ferry_error_set(FERRY_EINVAL, "the admin API needs --url and an admin token");
    char *url = NULL, *xml = NULL;
    uint32_t len = 0;
    if (asprintf(&url, "%s%s", a->url, path) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (body)
        plist_to_xml(body, &xml, &len);
    mdm_http_req_t q = {method, url, body ? "application/xml" : NULL, xml, len, NULL, a->ca_file, 60,
                        a->token};
    mdm_http_resp_t r;
    int rc = mdm_http(&q, &r);
    free(xml);
    if (!rc && r.status != 200) {
        int code = r.status == 404 ? FERRY_ENOTFOUND : r.status == 400 ? FERRY_EINVAL : FERRY_EIO;
        const char *why = r.body.buf && r.body.len < 2048 ? r.body.buf : "";
        rc = ferry_error_set(code, "%s %s: the MDM server answered %ld%s%.*s", method, url, r.status,
                             why[0] ? ": " : "", (int)strcspn(why, "\n"), why);
    } else if (!rc && reply) {
        rc = ferry_plist_parse(r.body.buf, r.body.len, reply, "the MDM server's admin reply");
    }
    mdm_http_resp_clear(&r);
    free(url);
    return rc;
}

static int expect_array(plist_t p)
{
    if (plist_get_node_type(p) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "the MDM server's admin reply is not an array");
    return 0;
}

int ferry_mdm_admin_list_devices(const ferry_mdm_admin_t *a, ferry_mdm_device_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    plist_t p;
    int rc = admin_call(a, "GET", "/admin/devices", NULL, &p);
    if (rc)
        return rc;
    uint32_t count = 0;
    if (!(rc = expect_array(p)) && (count = plist_array_get_size(p)) > 0 &&
        !(*out = calloc(count, sizeof **out)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < count; i++) {
        rc = mdm_device_from_plist(plist_array_get_item(p, i), &(*out)[i]);
        if (!rc)
            (*n)++;
    }
    plist_free(p);
    if (rc) {
        ferry_mdm_devices_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int ferry_mdm_admin_list_commands(const ferry_mdm_admin_t *a, const char *udid,
                                  ferry_mdm_command_rec_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *path = NULL;
    if (udid) {
        CURL *c = curl_easy_init();
        char *esc = c ? curl_easy_escape(c, udid, 0) : NULL;
        if (!esc || asprintf(&path, "/admin/commands?udid=%s", esc) < 0)
            path = NULL;
        curl_free(esc);
        curl_easy_cleanup(c);
    } else {
        path = strdup("/admin/commands");
    }
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    plist_t p;
    int rc = admin_call(a, "GET", path, NULL, &p);
    free(path);
    if (rc)
        return rc;
    uint32_t count = 0;
    if (!(rc = expect_array(p)) && (count = plist_array_get_size(p)) > 0 &&
        !(*out = calloc(count, sizeof **out)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < count; i++) {
        rc = mdm_command_from_plist(plist_array_get_item(p, i), &(*out)[i]);
        if (!rc)
            (*n)++;
    }
    plist_free(p);
    if (rc) {
        ferry_mdm_commands_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int ferry_mdm_admin_enqueue(const ferry_mdm_admin_t *a, const char *udid, const char *request_type,
                            plist_t params, char **uuid)
{
    *uuid = NULL;
    plist_t b = plist_new_dict(), p = NULL;
    plist_dict_set_item(b, "udid", plist_new_string(udid));
    plist_dict_set_item(b, "request_type", plist_new_string(request_type));
    if (params)
        plist_dict_set_item(b, "params", plist_copy(params));
    int rc = admin_call(a, "POST", "/admin/enqueue", b, &p);
    plist_free(b);
    if (!rc) {
        rc = ferry_plist_get_string(p, "command_uuid", uuid);
        plist_free(p);
    }
    return rc;
}

int ferry_mdm_admin_set_decision(const ferry_mdm_admin_t *a, const char *udid, int decision,
                                 int restore_only)
{
    plist_t b = plist_new_dict();
    plist_dict_set_item(b, "udid", plist_new_string(udid));
    plist_dict_set_item(b, "decision", plist_new_uint((uint64_t)decision));
    plist_dict_set_item(b, "restore_only", plist_new_bool(restore_only != 0));
    int rc = admin_call(a, "POST", "/admin/decision", b, NULL);
    plist_free(b);
    return rc;
}

int ferry_mdm_admin_assign(const ferry_mdm_admin_t *a, const ferry_mdm_ade_profile_t *p)
{
    plist_t b = ferry_mdm_ade_profile_to_plist(p, NULL);
    int rc = admin_call(a, "POST", "/admin/assign", b, NULL);
    plist_free(b);
    return rc;
}

int ferry_mdm_admin_unassign(const ferry_mdm_admin_t *a, const char *serial)
{
    plist_t b = plist_new_dict();
    plist_dict_set_item(b, "serial", plist_new_string(serial));
    plist_dict_set_item(b, "unassign", plist_new_bool(1));
    int rc = admin_call(a, "POST", "/admin/assign", b, NULL);
    plist_free(b);
    return rc;
}
