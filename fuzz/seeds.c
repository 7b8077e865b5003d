/*
 * seeds.c: ferry_fuzz_seeds, the generator of the writer-made seeds of the fuzz corpora:
 *
 *     ferry_fuzz_seeds TARGET OUT_DIR [FIXTURES_DIR]
 *
 * writes into OUT_DIR the inputs TARGET starts from that a fixture file cannot give as is: MBFile
 * records and keybags made by ferry's encoder (with the fuzz password and tiny KDF counts, so the
 * keybag target gets past the KDF caps and unlocks), the plists and Manifest.db of the fixed backup
 * of fuzz_common.c (whose fileIDs name the blobs the backup target has), and encrypted-file inputs in
 * the target's mode-byte format. With FIXTURES_DIR it also pulls what is inside fixture files: the
 * BackupKeyBag of each Manifest.plist and the first MBFile records of each plaintext Manifest.db.
 * Whole fixture files are copied by fuzz/run.sh, not here. The protocol streams of the emulator targets
 * are in seeds_emu.c, the profiles and MDM bodies in seeds_mdm.c. Nothing is written outside OUT_DIR (the
 * fixed backup is built in a scratch folder).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "seeds.h"

#define MAX_FIXTURE_RECORDS 40

static const char *out_dir;
static unsigned seq;

static void put(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/gen-%02u-%s", out_dir, seq++, name);
    fuzz_write_file(path, data, len);
}

void seed_put(const char *name, const void *data, size_t len)
{
    put(name, data, len);
}

static void put_file(const char *name, const char *src)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ferry_file_read_all(src, 1u << 24, &buf, &len) == 0)
        put(name, buf, len);
    free(buf);
}

static char *backup(const char *password)
{
    char *dir = fuzz_path(password ? "encrypted" : "plain");
    if (fuzz_make_backup(dir, password) != 0) {
        fprintf(stderr, "ferry_fuzz_seeds: cannot write the fixed backup: %s\n", ferry_error_last());
        exit(1);
    }
    return dir;
}

static char *in(const char *dir, const char *name)
{
    char *p = ferry_path_join(dir, name);
    if (!p)
        abort();
    return p;
}

/* ---- per target -------------------------------------------------------------------------------- */

static void mbfile_from_db(const char *db_path, unsigned max)
{
    ferry_manifest_db_t *db = NULL;
    ferry_db_iter_t *it = NULL;
    ferry_db_row_t row;
    if (ferry_manifest_db_open(db_path, &db) != 0 || ferry_db_iter_new(db, NULL, &it) != 0) {
        ferry_manifest_db_close(db);
        return;
    }
    for (unsigned n = 0; n < max && ferry_db_iter_next(it, &row) == 1;)
        if (row.file) {
            put("mbfile", row.file, row.file_len);
            n++;
        }
    ferry_db_iter_free(it);
    ferry_manifest_db_close(db);
}

static void seeds_mbfile(const char *fixtures)
{
    plist_t xd = plist_new_dict();
    plist_dict_set_item(xd, "com.apple.metadata:_kMDItemUserTags", plist_new_data("\x01\x02", 2));
    char *xattrs = NULL;
    uint32_t xattrs_len = 0;
    plist_to_bin(xd, &xattrs, &xattrs_len);
    plist_free(xd);
    ferry_mbfile_t f;
    memset(&f, 0, sizeof f);
    f.relative_path = "Library/SMS/sms.db";
    f.mode = 0100644;
    f.uid = f.gid = -2;
    f.size = 12345;
    f.has_digest = 1;
    memset(f.digest, 0xab, sizeof f.digest);
    f.has_encryption_key = 1;
    f.encryption_key[0] = 3;
    f.has_protection_class = 1;
    f.protection_class = 3;
    f.xattrs = (uint8_t *)xattrs;
    f.xattrs_len = xattrs_len;
    uint8_t *enc = NULL;
    size_t len = 0;
    if (ferry_mbfile_encode(&f, &enc, &len) == 0)
        put("mbfile-file", enc, len);
    free(enc);
    free(xattrs);
    memset(&f, 0, sizeof f);
    f.relative_path = "Library/link";
    f.target = "/var/mobile/Library/SMS/sms.db";
    f.mode = 0120755;
    if (ferry_mbfile_encode(&f, &enc, &len) == 0)
        put("mbfile-symlink", enc, len);
    free(enc);
    char *dir = backup(NULL), *db = in(dir, "Manifest.db");
    mbfile_from_db(db, MAX_FIXTURE_RECORDS);
    free(db);
    free(dir);
    if (fixtures) {
        char path[4096];
        snprintf(path, sizeof path, "%s/real/ios14.3-mvt-decrypted/Manifest.db", fixtures);
        mbfile_from_db(path, MAX_FIXTURE_RECORDS);
        snprintf(path, sizeof path, "%s/reference/unencrypted/00008030-000A1B2C3D4E5F60/Manifest.db", fixtures);
        mbfile_from_db(path, MAX_FIXTURE_RECORDS);
    }
}

static void put_keybag(const char *name, const ferry_keybag_t *kb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (kb && ferry_keybag_serialize(kb, &buf, &len) == 0)
        put(name, buf, len);
    free(buf);
}

static void keybag_from_manifest(const char *path)
{
    ferry_manifest_plist_t m;
    if (ferry_manifest_plist_read(path, &m) != 0)
        return;
    if (m.keybag)
        put("keybag-fixture", m.keybag, m.keybag_len);
    ferry_manifest_plist_clear(&m);
}

static void seeds_keybag(const char *fixtures)
{
    ferry_keybag_params_t p = {FUZZ_KDF_COUNT, FUZZ_KDF_COUNT};
    ferry_keybag_t *kb = NULL;
    if (ferry_keybag_create(FUZZ_PASSWORD, strlen(FUZZ_PASSWORD), &p, &kb, NULL) == 0)
        put_keybag("keybag-dp", kb);
    ferry_keybag_free(kb);
    kb = NULL;
    if (ferry_keybag_create_unencrypted(&kb) == 0) {
        put_keybag("keybag-unencrypted", kb);
        /* the blank-password layout with the fuzz password and a count under the cap: it unlocks */
        if (ferry_keybag_rewrap(kb, FUZZ_PASSWORD, strlen(FUZZ_PASSWORD), &p, NULL) == 0) {
            kb->has_dp = 0;
            put_keybag("keybag-nodp-locked", kb);
        }
    }
    ferry_keybag_free(kb);
    if (fixtures) {
        static const char *const backups[] = {
            "reference/unencrypted/00008030-000A1B2C3D4E5F60",
            "reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432",
            "third-party/pyiosbackup-synthetic-pw0000",
        };
        for (size_t i = 0; i < sizeof backups / sizeof backups[0]; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s/Manifest.plist", fixtures, backups[i]);
            keybag_from_manifest(path);
        }
    }
}

/* Each plist of the backup in dir, as stored (binary) and as XML. */
static void plists_of(const char *dir)
{
    static const char *const names[] = {"Manifest.plist", "Status.plist", "Info.plist"};
    for (size_t i = 0; i < 3; i++) {
        char *path = in(dir, names[i]);
        put_file(names[i], path);
        plist_t p = NULL;
        char *xml = NULL;
        uint32_t len = 0;
        if (ferry_plist_read_file(path, 0, &p) == 0) {
            plist_to_xml(p, &xml, &len);
            if (xml)
                put(names[i], xml, len);
            free(xml);
            plist_free(p);
        }
        free(path);
    }
}

static void seeds_plist(void)
{
    char *a = backup(NULL), *b = backup(FUZZ_PASSWORD);
    plists_of(a);
    plists_of(b);
    free(a);
    free(b);
}

static void seeds_manifest_db(void)
{
    char *dir = backup(NULL), *db = in(dir, "Manifest.db");
    put_file("Manifest.db", db);
    free(db);
    free(dir);
}

static void seeds_encrypted_file(void)
{
    /* mode byte: 0 raw, 1 padded, 2 unpadded, 3 missing; +4 = strict (fuzz_encrypted_file.c) */
    static const uint8_t ok[] = "\x01" "0123456789abcdefghij";
    static const uint8_t ok_strict[] = "\x05" "0123456789abcdefghij";
    static const uint8_t short_strict[] = "\x05" "0123456789";
    uint8_t unpadded[33] = {2};
    memset(unpadded + 1, 'x', 20);
    memset(unpadded + 21, 12, 12); /* valid padding of 12 bytes: 20 bytes of content */
    uint8_t bad_pad[33] = {6};
    memset(bad_pad + 1, 'y', 32);
    uint8_t raw[33] = {0};
    for (size_t i = 1; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 37);
    put("enc-padded", ok, sizeof ok - 1);
    put("enc-padded-strict", ok_strict, sizeof ok_strict - 1);
    put("enc-short-strict", short_strict, sizeof short_strict - 1);
    put("enc-unpadded", unpadded, sizeof unpadded);
    put("enc-badpad-strict", bad_pad, sizeof bad_pad);
    put("enc-raw", raw, sizeof raw);
    put("enc-missing", "\x03", 1);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: ferry_fuzz_seeds TARGET OUT_DIR [FIXTURES_DIR]\n");
        return 2;
    }
    fuzz_quiet();
    out_dir = argv[2];
    const char *t = argv[1], *fixtures = argc == 4 ? argv[3] : NULL;
    if (ferry_mkdir_p(out_dir, 0700) != 0) {
        fprintf(stderr, "ferry_fuzz_seeds: %s\n", ferry_error_last());
        return 1;
    }
    if (strcmp(t, "mbfile") == 0)
        seeds_mbfile(fixtures);
    else if (strcmp(t, "keybag") == 0)
        seeds_keybag(fixtures);
    else if (strcmp(t, "plist") == 0)
        seeds_plist();
    else if (strcmp(t, "manifest_db") == 0 || strcmp(t, "backup") == 0)
        seeds_manifest_db();
    else if (strcmp(t, "encrypted_file") == 0)
        seeds_encrypted_file();
    else if (strcmp(t, "usbmux") == 0)
        seeds_usbmux();
    else if (strcmp(t, "lockdown") == 0)
        seeds_lockdown();
    else if (strcmp(t, "afc") == 0)
        seeds_afc();
    else if (strcmp(t, "devicelink") == 0)
        seeds_devicelink();
    else if (strcmp(t, "profile") == 0)
        seeds_profile(fixtures);
    else if (strcmp(t, "mdm_server") == 0)
        seeds_mdm_server();
    else if (strcmp(t, "mdm_device") == 0)
        seeds_mdm_device();
    else {
        fprintf(stderr, "ferry_fuzz_seeds: unknown target %s\n", t);
        return 2;
    }
    return 0;
}
