/*
 * profile.c: reading a .mobileconfig the way a device does: the bytes are an XML or binary property
 * list, or CMS SignedData (DER) around one; the dictionary must be a "Configuration" with a
 * PayloadIdentifier, a PayloadUUID and a PayloadContent array of payload dictionaries, each with its
 * own PayloadType, PayloadIdentifier and PayloadUUID (apple/device-management TopLevel.yaml). Every
 * error starts with the file name and names the key, so that an administrator can fix the file.
 * Nothing here writes: installing is edit.c's job, after this has accepted the whole profile.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ferry_profile_format_name(ferry_profile_format_t f)
{
    switch (f) {
    case FERRY_PROFILE_XML: return "xml";
    case FERRY_PROFILE_BINARY: return "binary";
    case FERRY_PROFILE_SIGNED: return "signed";
    }
    return "?";
}

static const char *const source_names[] = {"Manual", "Enrollment", "MDM", "Configurator"};

const char *ferry_profile_source_name(ferry_profile_source_t s)
{
    return (unsigned)s < 4 ? source_names[s] : "?";
}

int ferry_profile_source_parse(const char *s, ferry_profile_source_t *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, source_names[i])) {
            *out = (ferry_profile_source_t)i;
            return 0;
        }
    return ferry_error_set(FERRY_EINVAL, "unknown profile source '%s' (Manual, Enrollment, MDM, Configurator)", s);
}

void ferry_profile_free(ferry_profile_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_payloads; i++) {
        free(p->payloads[i].PayloadType);
        free(p->payloads[i].PayloadIdentifier);
        free(p->payloads[i].PayloadUUID);
    }
    free(p->payloads);
    free(p->signer);
    free(p->PayloadIdentifier);
    free(p->PayloadUUID);
    free(p->PayloadDisplayName);
    free(p->PayloadOrganization);
    if (p->top)
        plist_free(p->top);
    free(p->raw);
    free(p);
}

const ferry_payload_t *ferry_profile_find_payload(const ferry_profile_t *p, const char *type)
{
    for (size_t i = 0; p && i < p->n_payloads; i++)
        if (!strcmp(p->payloads[i].PayloadType, type))
            return &p->payloads[i];
    return NULL;
}

const ferry_payload_t *ferry_profile_find_uuid(const ferry_profile_t *p, const char *uuid)
{
    for (size_t i = 0; p && uuid && i < p->n_payloads; i++)
        if (!strcmp(p->payloads[i].PayloadUUID, uuid))
            return &p->payloads[i];
    return NULL;
}

/* A required non-empty string; errors say "<name>: <where>key 'K' is missing / must be a string". */
static int req_str(plist_t d, const char *key, char **out, const char *name, const char *where)
{
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' is missing", name, where, key);
    if (plist_get_node_type(n) != PLIST_STRING)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' must be a string", name, where, key);
    *out = ferry_plist_string_dup(n); /* NULL too for a string with a NUL byte */
    if (!*out || !**out)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' is empty", name, where, key);
    return 0;
}

static int opt_typed(plist_t d, const char *key, plist_type t, const char *tname, const char *name, const char *where)
{
    plist_t n = plist_dict_get_item(d, key);
    if (n && plist_get_node_type(n) != t)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' must be %s", name, where, key, tname);
    return 0;
}

static int check_top(ferry_profile_t *p, const char *name)
{
    plist_t top = p->top;
    char *type = NULL;
    int rc = req_str(top, "PayloadType", &type, name, "");
    if (!rc && strcmp(type, "Configuration"))
        rc = ferry_error_set(FERRY_EFORMAT, "%s: key 'PayloadType' is '%s'; a profile's top level must be "
                             "'Configuration'", name, type);
    free(type);
    if (rc || (rc = req_str(top, "PayloadIdentifier", &p->PayloadIdentifier, name, "")) ||
        (rc = req_str(top, "PayloadUUID", &p->PayloadUUID, name, "")) ||
        (rc = opt_typed(top, "PayloadVersion", PLIST_UINT, "an integer", name, "")) ||
        (rc = opt_typed(top, "PayloadRemovalDisallowed", PLIST_BOOLEAN, "a boolean", name, "")) ||
        (rc = dev_opt_str(top, "PayloadDisplayName", &p->PayloadDisplayName, name)) ||
        (rc = dev_opt_str(top, "PayloadOrganization", &p->PayloadOrganization, name)))
        return rc;
    plist_t rd = plist_dict_get_item(top, "PayloadRemovalDisallowed");
    p->PayloadRemovalDisallowed = rd && plist_bool_val_is_true(rd);
    return 0;
}

static int load_payloads(ferry_profile_t *p, const char *name)
{
    plist_t content = plist_dict_get_item(p->top, "PayloadContent");
    if (!content)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'PayloadContent' is missing", name);
    if (plist_get_node_type(content) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'PayloadContent' must be an array of payload dictionaries",
                               name);
    uint32_t n = plist_array_get_size(content);
    p->payloads = calloc(n ? n : 1, sizeof *p->payloads);
    if (!p->payloads)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof where, "PayloadContent[%u]: ", i);
        plist_t d = plist_array_get_item(content, i);
        if (plist_get_node_type(d) != PLIST_DICT)
            return ferry_error_set(FERRY_EFORMAT, "%s: PayloadContent[%u] must be a dictionary", name, i);
        ferry_payload_t *pl = &p->payloads[i];
        pl->dict = d;
        p->n_payloads++;
        int rc;
        if ((rc = req_str(d, "PayloadType", &pl->PayloadType, name, where)) ||
            (rc = req_str(d, "PayloadIdentifier", &pl->PayloadIdentifier, name, where)) ||
            (rc = req_str(d, "PayloadUUID", &pl->PayloadUUID, name, where)) ||
            (rc = opt_typed(d, "PayloadVersion", PLIST_UINT, "an integer", name, where)))
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(p->payloads[j].PayloadUUID, pl->PayloadUUID))
                return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'PayloadUUID' %s is used by PayloadContent[%u] too",
                                       name, where, pl->PayloadUUID, j);
    }
    for (size_t i = 0; i < p->n_payloads; i++) {
        int rc = dev_payload_check(p, i, name);
        if (rc)
            return rc;
    }
    return 0;
}

static int is_xml_start(const uint8_t *d, size_t len)
{
    size_t i = 0;
    if (len >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf)
        i = 3;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
        i++;
    return i < len && d[i] == '<';
}

static int parse_plist_bytes(ferry_profile_t *p, const uint8_t *data, size_t len, const char *name)
{
    if (len >= 8 && !memcmp(data, "bplist00", 8)) {
        if (p->format != FERRY_PROFILE_SIGNED)
            p->format = FERRY_PROFILE_BINARY;
    } else if (!is_xml_start(data, len))
        return ferry_error_set(FERRY_EFORMAT, "%s: not a configuration profile (neither a property list nor CMS "
                               "signed data)", name);
    if (len > UINT32_MAX)
        return ferry_error_set(FERRY_ELIMIT, "%s: too large", name);
    plist_from_memory((const char *)data, (uint32_t)len, &p->top);
    if (!p->top)
        return ferry_error_set(FERRY_EFORMAT, "%s: not a valid XML or binary property list", name);
    if (ferry_plist_check_tree(p->top, name))
        return FERRY_EFORMAT; /* p->top is freed with p */
    if (plist_get_node_type(p->top) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "%s: the top level must be a dictionary", name);
    return 0;
}

int ferry_profile_parse(const uint8_t *data, size_t len, const char *name, ferry_profile_t **out)
{
    *out = NULL;
    if (!data || len == 0)
        return ferry_error_set(FERRY_EFORMAT, "%s: the file is empty", name);
    if (len > DEV_MAX_PROFILE)
        return ferry_error_set(FERRY_ELIMIT, "%s: %zu bytes is larger than the %u-byte profile limit", name, len,
                               DEV_MAX_PROFILE);
    ferry_profile_t *p = calloc(1, sizeof *p);
    if (!p || !(p->raw = malloc(len))) {
        free(p);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    memcpy(p->raw, data, len);
    p->raw_len = len;
    int rc;
    if (data[0] == 0x30) { /* DER SEQUENCE: CMS ContentInfo */
        uint8_t *content = NULL;
        size_t clen = 0;
        p->format = FERRY_PROFILE_SIGNED;
        rc = dev_cms_unwrap(data, len, name, &content, &clen, &p->signer);
        if (!rc) {
            p->is_signed = 1;
            rc = parse_plist_bytes(p, content, clen, name);
        }
        free(content);
    } else
        rc = parse_plist_bytes(p, data, len, name);
    if (!rc)
        rc = check_top(p, name);
    if (!rc)
        rc = load_payloads(p, name);
    if (rc) {
        ferry_profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int ferry_profile_read_file(const char *path, ferry_profile_t **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = ferry_file_read_all(path, DEV_MAX_PROFILE, &buf, &len);
    if (rc)
        return rc;
    const char *base = strrchr(path, '/');
    rc = ferry_profile_parse(buf, len, base ? base + 1 : path, out);
    free(buf);
    return rc;
}

char *dev_profile_file_name(const char *identifier)
{
    size_t n = strlen(identifier);
    if (n > 200)
        n = 200;
    char *s = malloc(n + sizeof ".mobileconfig");
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = identifier[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == '_';
        s[i] = ok ? c : '_';
    }
    if (n && s[0] == '.')
        s[0] = '_'; /* never a hidden file, never "." or ".." */
    memcpy(s + n, ".mobileconfig", sizeof ".mobileconfig");
    return s;
}
