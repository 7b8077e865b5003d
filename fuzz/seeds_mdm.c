/*
 * seeds_mdm.c: the seeds of the profile, mdm_server and mdm_device targets: the profiles a created
 * device holds (XML as stored, binary, and CMS-signed with a generated identity), ferry's ADE
 * enrollment profile; check-in sessions in the record format of fuzz_mdm_server.c (Authenticate,
 * TokenUpdate, polls and command results signed with one identity, unsigned and malformed ones,
 * MachineInfo plain and signed); and for the device side one command of each request type ferry
 * runs, with typical parameters, and ADE profile + enrollment profile pairs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_mdm.h"
#include "seeds.h"
#include "ferry/device.h"
#include "ferry/mdm.h"

static void put_plist(const char *name, plist_t p, int xml)
{
    char *s = NULL;
    uint32_t n = 0;
    if (xml)
        plist_to_xml(p, &s, &n);
    else
        plist_to_bin(p, &s, &n);
    if (s)
        seed_put(name, s, n);
    free(s);
}

static ferry_mdm_identity_t *identity(void)
{
    ferry_mdm_identity_t *id = NULL;
    if (ferry_mdm_identity_generate("fuzz device", &id) != 0) {
        fprintf(stderr, "ferry_fuzz_seeds: %s\n", ferry_error_last());
        exit(1);
    }
    return id;
}

static plist_t enrollment_profile(void)
{
    ferry_mdm_ade_profile_t a;
    ferry_mdm_ade_profile_init(&a);
    a.serial = FUZZ_SERIAL;
    a.acme_hardware_bound = 1;
    return ferry_mdm_enrollment_profile(&a, FUZZ_MDM_UDID, "https://mdm.fuzz.example", FUZZ_MDM_TOPIC);
}

/* ---- profiles ---------------------------------------------------------------------------------------- */

static void profiles_of(const char *tmpl, ferry_mdm_identity_t *id, int *signed_one)
{
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = tmpl;
    o.files = 1;
    o.size = 512;
    char *dir = fuzz_path(tmpl), *pdir = NULL;
    if (ferry_device_create(dir, &o) != 0 || !(pdir = ferry_path_join(dir, "profiles"))) {
        free(dir);
        return;
    }
    DIR *d = opendir(pdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = ferry_path_join(pdir, e->d_name);
        uint8_t *buf = NULL;
        size_t len = 0;
        if (path && ferry_file_read_all(path, 1u << 22, &buf, &len) == 0) {
            seed_put("profile", buf, len);
            plist_t p = NULL;
            if (ferry_plist_parse(buf, len, &p, path) == 0) {
                put_plist("profile-bin", p, 0);
                plist_free(p);
            }
            uint8_t *der = NULL;
            size_t dlen = 0;
            if ((*signed_one)++ < 3 && ferry_mdm_sign_attached(id, buf, len, &der, &dlen) == 0)
                seed_put("profile-signed", der, dlen);
            free(der);
        }
        free(buf);
        free(path);
    }
    if (d)
        closedir(d);
    free(pdir);
    free(dir);
}

void seeds_profile(const char *fixtures)
{
    ferry_mdm_identity_t *id = identity();
    int signed_n = 0;
    static const char *const tmpls[] = {"ade-iphone", "profile-de-ipad", "ue-account-iphone", "ade-ipad-acme"};
    for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++)
        profiles_of(tmpls[i], id, &signed_n);
    plist_t e = enrollment_profile();
    put_plist("enrollment", e, 1);
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(e, &xml, &n);
    uint8_t *der = NULL;
    size_t dlen = 0;
    if (xml && ferry_mdm_sign_attached(id, xml, n, &der, &dlen) == 0)
        seed_put("enrollment-signed", der, dlen);
    free(der);
    free(xml);
    plist_free(e);
    ferry_mdm_identity_free(id);
}

/* ---- the MDM server ------------------------------------------------------------------------------------ */

static plist_t msg(const char *key, const char *value)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, key, plist_new_string(value));
    return d;
}

static void set_s(plist_t d, const char *k, const char *v) { plist_dict_set_item(d, k, plist_new_string(v)); }

/* One record of fuzz_mdm_server.c; signed with id when id is not NULL. Frees p. */
static void rec(sbuf_t *b, unsigned sel, plist_t p, const ferry_mdm_identity_t *id)
{
    char *xml = NULL, *sig = NULL;
    uint32_t n = 0;
    plist_to_xml(p, &xml, &n);
    plist_free(p);
    if (id && ferry_mdm_sign(id, xml, n, &sig) != 0)
        abort();
    size_t total = n + (sig ? strlen(sig) + 1 : 0);
    sb_u8(b, (uint8_t)(sel | (sig ? FUZZ_MDM_SIGNED : 0)));
    sb_u16le(b, (uint16_t)(total > 0xFFFF ? 0xFFFF : total));
    if (sig) {
        sb_add(b, sig, strlen(sig));
        sb_u8(b, '\n');
    }
    sb_add(b, xml, n);
    free(xml);
    free(sig);
}

static plist_t authenticate(void)
{
    plist_t d = msg("MessageType", "Authenticate");
    set_s(d, "UDID", FUZZ_MDM_UDID);
    set_s(d, "Topic", FUZZ_MDM_TOPIC);
    set_s(d, "SerialNumber", FUZZ_SERIAL);
    set_s(d, "ProductName", "iPhone15,2");
    set_s(d, "OSVersion", "17.5.1");
    set_s(d, "BuildVersion", "21F90");
    return d;
}

static plist_t token_update(int awaiting)
{
    plist_t d = msg("MessageType", "TokenUpdate");
    set_s(d, "UDID", FUZZ_MDM_UDID);
    set_s(d, "Topic", FUZZ_MDM_TOPIC);
    set_s(d, "PushMagic", "5A1B2C3D-FUZZ");
    plist_dict_set_item(d, "Token", plist_new_data("0123456789abcdef0123456789abcdef", 32));
    plist_dict_set_item(d, "UnlockToken", plist_new_data("unlock", 6));
    plist_dict_set_item(d, "AwaitingConfiguration", plist_new_bool(awaiting));
    return d;
}

static plist_t status(const char *st, const char *uuid)
{
    plist_t d = msg("Status", st);
    set_s(d, "UDID", FUZZ_MDM_UDID);
    if (uuid)
        set_s(d, "CommandUUID", uuid);
    return d;
}

void seeds_mdm_server(void)
{
    ferry_mdm_identity_t *id = identity();
    sbuf_t b = {0};
    rec(&b, FUZZ_MDM_CHECKIN, authenticate(), id);
    rec(&b, FUZZ_MDM_CHECKIN, token_update(1), id);
    rec(&b, FUZZ_MDM_COMMAND, status("Idle", NULL), id);
    plist_t ack = status("Acknowledged", "00000000-0000-4000-8000-00000000FEED");
    plist_dict_set_item(ack, "ProfileList", plist_new_array());
    rec(&b, FUZZ_MDM_COMMAND, ack, id);
    rec(&b, FUZZ_MDM_COMMAND, status("NotNow", "00000000-0000-4000-8000-00000000FEED"), id);
    rec(&b, FUZZ_MDM_CHECKIN_AT_MDM, msg("MessageType", "CheckOut"), id);
    sb_put(&b, "mdm-session");
    rec(&b, FUZZ_MDM_CHECKIN, authenticate(), NULL);
    rec(&b, FUZZ_MDM_CHECKIN, msg("MessageType", "UserAuthenticate"), NULL);
    rec(&b, FUZZ_MDM_CHECKIN, msg("Topic", "no MessageType"), NULL);
    rec(&b, FUZZ_MDM_COMMAND, status("Bogus", "x"), NULL);
    rec(&b, FUZZ_MDM_COMMAND, msg("Status", "Idle"), id);
    sb_put(&b, "mdm-malformed");
    plist_t mi = msg("SERIAL", FUZZ_SERIAL);
    set_s(mi, "UDID", FUZZ_MDM_UDID);
    set_s(mi, "PRODUCT", "iPhone15,2");
    set_s(mi, "VERSION", "21F90");
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(mi, &xml, &n);
    rec(&b, FUZZ_MDM_ADE_ENROLL, mi, NULL);
    sb_put(&b, "mdm-machineinfo");
    uint8_t *der = NULL;
    size_t dlen = 0;
    if (ferry_mdm_sign_attached(id, xml, n, &der, &dlen) == 0 && dlen < 0xFFFF) {
        sb_u8(&b, FUZZ_MDM_ADE_ENROLL);
        sb_u16le(&b, (uint16_t)dlen);
        sb_add(&b, der, dlen);
        sb_put(&b, "mdm-machineinfo-signed");
    }
    free(der);
    free(xml);
    free(b.p);
    ferry_mdm_identity_free(id);
}

/* ---- the device side --------------------------------------------------------------------------------- */

static void command(const char *rt, plist_t params)
{
    plist_t c = plist_new_dict(), w = plist_new_dict();
    set_s(c, "RequestType", rt);
    if (params) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(params, &it);
        for (;;) {
            char *k = NULL;
            plist_t v = NULL;
            plist_dict_next_item(params, it, &k, &v);
            if (!k)
                break;
            plist_dict_set_item(c, k, plist_copy(v));
            free(k);
        }
        free(it);
        plist_free(params);
    }
    set_s(w, "CommandUUID", "0001-FUZZ");
    plist_dict_set_item(w, "Command", c);
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(w, &xml, &n);
    plist_free(w);
    sbuf_t b = {0};
    sb_u8(&b, 0);
    sb_add(&b, xml, n);
    free(xml);
    sb_put(&b, rt);
    free(b.p);
}

static plist_t strings(const char *a, const char *b)
{
    plist_t arr = plist_new_array();
    plist_array_append_item(arr, plist_new_string(a));
    if (b)
        plist_array_append_item(arr, plist_new_string(b));
    return arr;
}

void seeds_mdm_device(void)
{
    static const char *const plain[] = {"ProfileList", "ManagedApplicationList", "InstalledApplicationList",
                                        "ManagedMediaList", "DeviceConfigured", "NoSuchRequest"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        command(plain[i], NULL);
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "Queries", strings("UDID", "OSVersion"));
    command("DeviceInformation", p);
    plist_t e = enrollment_profile();
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(e, &xml, &n);
    p = plist_new_dict();
    plist_dict_set_item(p, "Payload", plist_new_data(xml, n));
    command("InstallProfile", p);
    command("RemoveProfile", msg("Identifier", "com.example.wifi"));
    p = msg("Identifier", "com.example.fuzzapp");
    plist_dict_set_item(p, "ManagementFlags", plist_new_uint(1));
    plist_dict_set_item(p, "iTunesStoreID", plist_new_uint(123456));
    command("InstallApplication", p);
    command("RemoveApplication", msg("Identifier", "com.example.fuzzapp"));
    p = msg("MediaType", "Book");
    set_s(p, "MediaURL", "https://books.example/b.epub");
    set_s(p, "PersistentID", "com.example.book");
    set_s(p, "Kind", "epub");
    set_s(p, "Title", "Fuzz");
    command("InstallMedia", p);
    p = msg("MediaType", "Book");
    set_s(p, "PersistentID", "com.example.book");
    command("RemoveMedia", p);
    p = plist_new_dict();
    plist_t s = plist_new_array(), one = msg("Item", "DeviceName");
    set_s(one, "DeviceName", "Fuzzed");
    plist_array_append_item(s, one);
    plist_dict_set_item(p, "Settings", s);
    command("Settings", p);
    /* ADE: selector 1, u16LE length of the ADE profile, then the enrollment profile */
    ferry_mdm_ade_profile_t a;
    ferry_mdm_ade_profile_init(&a);
    a.serial = FUZZ_SERIAL;
    a.org_name = "Fuzz Org";
    a.is_supervised = 1;
    a.is_mdm_removable = 0;
    a.await_device_configured = 1;
    plist_t ap = ferry_mdm_ade_profile_to_plist(&a, "https://mdm.fuzz.example/ade/enroll");
    char *axml = NULL;
    uint32_t an = 0;
    plist_to_xml(ap, &axml, &an);
    sbuf_t b = {0};
    sb_u8(&b, 1);
    sb_u16le(&b, (uint16_t)an);
    sb_add(&b, axml, an);
    sb_add(&b, xml, n);
    sb_put(&b, "ade");
    free(b.p);
    free(axml);
    plist_free(ap);
    free(xml);
    plist_free(e);
}
