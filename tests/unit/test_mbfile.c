/*
 * test_mbfile.c: the MBFile record (backup-format.md §5): the real 601-byte record and every row of
 * the mvt iOS 14.3 database decode to their documented fields; encode -> decode round trips keep
 * every field and produce Apple's object graph; the lenient forms other writers use are accepted;
 * hostile records (not a plist, truncated, UIDs out of range, wrong types) are FERRY_EFORMAT naming
 * the key, without crashing or leaking (run under ASan).
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/backup.h"

#define REAL_RECORD "mbfile/mbfile_e79835db903d8fd76a82abf9dda1294ec027e317.bin"
#define MVT_DB "real/ios14.3-mvt-decrypted/Manifest.db"

static const char real_key_hex[] =
    "03000000ce407b1da34422e4b1b27b6eef7792e68cc6e5986431071a15fe7c50006afce2354974bedaa69321";

/* ---- helpers ------------------------------------------------------------------------------------ */

static void fill_key(uint8_t key[FERRY_PREFIXED_KEY_LEN], uint32_t clas)
{
    for (int i = 0; i < FERRY_PREFIXED_KEY_LEN; i++)
        key[i] = (uint8_t)(0xA0 + i);
    key[0] = (uint8_t)clas;
    key[1] = key[2] = key[3] = 0;
}

/* A regular file with every optional object: the graph of Apple's full-featured row. */
static void sample_file(ferry_mbfile_t *f)
{
    static uint8_t xattrs[] = "bplist00-not-really-but-opaque";
    memset(f, 0, sizeof *f);
    f->relative_path = (char *)"Library/SMS/sms.db";
    f->has_digest = 1;
    for (int i = 0; i < 20; i++)
        f->digest[i] = (uint8_t)(i * 7);
    f->has_encryption_key = 1;
    fill_key(f->encryption_key, 4);
    f->mode = 0100644;
    f->inode = 55569;
    f->uid = 501;
    f->gid = 501;
    f->mtime = 1610659523;
    f->ctime = 1610659524;
    f->birth = 1610659525;
    f->size = 278528;
    f->has_protection_class = 1;
    f->protection_class = 4;
    f->xattrs = xattrs;
    f->xattrs_len = sizeof xattrs - 1;
    f->bsd_flags = 128;
}

static void assert_same(const ferry_mbfile_t *a, const ferry_mbfile_t *b)
{
    assert_string_equal(a->relative_path, b->relative_path);
    if (a->target || b->target) {
        assert_non_null(a->target);
        assert_non_null(b->target);
        assert_string_equal(a->target, b->target);
    }
    assert_int_equal(a->has_digest, b->has_digest);
    if (a->has_digest)
        assert_memory_equal(a->digest, b->digest, 20);
    assert_int_equal(a->has_encryption_key, b->has_encryption_key);
    if (a->has_encryption_key)
        assert_memory_equal(a->encryption_key, b->encryption_key, FERRY_PREFIXED_KEY_LEN);
    assert_int_equal(a->mode, b->mode);
    assert_true(a->inode == b->inode);
    assert_int_equal(a->uid, b->uid);
    assert_int_equal(a->gid, b->gid);
    assert_true(a->mtime == b->mtime && a->ctime == b->ctime && a->birth == b->birth);
    assert_true(a->size == b->size);
    assert_int_equal(a->has_protection_class, b->has_protection_class);
    assert_int_equal(a->protection_class, b->protection_class);
    assert_int_equal(a->xattrs_len, b->xattrs_len);
    assert_int_equal(a->xattrs != NULL, b->xattrs != NULL);
    if (a->xattrs_len)
        assert_memory_equal(a->xattrs, b->xattrs, a->xattrs_len);
    assert_int_equal(a->bsd_flags, b->bsd_flags);
}

static void round_trip(const ferry_mbfile_t *in, uint8_t **bytes, size_t *len)
{
    assert_int_equal(ferry_mbfile_encode(in, bytes, len), 0);
    ferry_mbfile_t out;
    assert_int_equal(ferry_mbfile_decode(*bytes, *len, &out), 0);
    assert_same(in, &out);
    ferry_mbfile_clear(&out);
}

static plist_t parse(const uint8_t *bytes, size_t len)
{
    plist_t p = NULL;
    plist_from_memory((const char *)bytes, (uint32_t)len, &p);
    assert_non_null(p);
    return p;
}

static uint8_t *to_bin(plist_t p, size_t *len)
{
    char *buf = NULL;
    uint32_t l = 0;
    plist_to_bin(p, &buf, &l);
    assert_non_null(buf);
    *len = l;
    return (uint8_t *)buf;
}

static void expect_format_error(const uint8_t *bytes, size_t len, const char *needle)
{
    ferry_mbfile_t out;
    int rc = ferry_mbfile_decode(bytes, len, &out);
    if (rc != FERRY_EFORMAT)
        fail_msg("expected FERRY_EFORMAT mentioning '%s', got %d (%s)", needle, rc, ferry_error_last());
    if (needle && !strstr(ferry_error_last(), needle))
        fail_msg("message '%s' does not mention '%s'", ferry_error_last(), needle);
    assert_null(out.relative_path);
    assert_null(out.target);
    assert_null(out.xattrs);
}

/* The archive of sample_file, parsed, for tests that damage one part of it. */
static plist_t sample_archive(void)
{
    ferry_mbfile_t f;
    sample_file(&f);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_mbfile_encode(&f, &bytes, &len), 0);
    plist_t p = parse(bytes, len);
    free(bytes);
    return p;
}

static plist_t objects_of(plist_t archive) { return plist_dict_get_item(archive, "$objects"); }
static plist_t root_of(plist_t archive) { return plist_array_get_item(objects_of(archive), 1); }

/* Serialises a damaged archive, expects FERRY_EFORMAT naming needle, frees the archive. */
static void expect_archive_error(plist_t archive, const char *needle)
{
    size_t len;
    uint8_t *bytes = to_bin(archive, &len);
    plist_free(archive);
    expect_format_error(bytes, len, needle);
    free(bytes);
}

/* A hand-built archive around the given $objects with $top.root = UID(root). */
static uint8_t *custom_archive(plist_t objects, uint64_t root, int xml, size_t *len)
{
    plist_t a = plist_new_dict();
    plist_t top = plist_new_dict();
    plist_dict_set_item(top, "root", plist_new_uid(root));
    plist_dict_set_item(a, "$version", plist_new_uint(100000));
    plist_dict_set_item(a, "$archiver", plist_new_string("NSKeyedArchiver"));
    plist_dict_set_item(a, "$top", top);
    plist_dict_set_item(a, "$objects", objects);
    uint8_t *bytes;
    if (xml) {
        char *buf = NULL;
        uint32_t l = 0;
        plist_to_xml(a, &buf, &l);
        assert_non_null(buf);
        bytes = (uint8_t *)buf;
        *len = l;
    } else {
        bytes = to_bin(a, len);
    }
    plist_free(a);
    return bytes;
}

static plist_t class_dict(const char *name)
{
    plist_t d = plist_new_dict();
    plist_t arr = plist_new_array();
    plist_array_append_item(arr, plist_new_string(name));
    plist_dict_set_item(d, "$classname", plist_new_string(name));
    plist_dict_set_item(d, "$classes", arr);
    return d;
}

static plist_t minimal_root(uint64_t path_uid, uint64_t class_uid)
{
    plist_t r = plist_new_dict();
    plist_dict_set_item(r, "$class", plist_new_uid(class_uid));
    plist_dict_set_item(r, "RelativePath", plist_new_uid(path_uid));
    plist_dict_set_item(r, "Mode", plist_new_uint(0100755));
    plist_dict_set_item(r, "Size", plist_new_uint(9));
    plist_dict_set_item(r, "UserID", plist_new_uint(501));
    plist_dict_set_item(r, "GroupID", plist_new_uint(501));
    plist_dict_set_item(r, "LastModified", plist_new_uint(1628082463));
    return r;
}

/* ---- the real record ---------------------------------------------------------------------------- */

static void test_real_record_fields(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, REAL_RECORD);
    size_t len;
    uint8_t *bytes = tu_read_file(path, &len);
    assert_int_equal(len, 601);
    ferry_mbfile_t f;
    assert_int_equal(ferry_mbfile_decode(bytes, len, &f), 0);
    assert_string_equal(f.relative_path, "Media/PhotoData/momentanalysis");
    assert_null(f.target);
    assert_false(f.has_digest);
    assert_null(f.xattrs);
    assert_true(f.mtime == 1610659523 && f.ctime == 1610659523 && f.birth == 1610659523);
    assert_int_equal(f.bsd_flags, 0);
    assert_int_equal(f.gid, 501);
    assert_int_equal(f.uid, 501);
    assert_true(f.inode == 55569);
    assert_int_equal(f.mode, 33188);
    assert_true(f.size == 0);
    assert_true(f.has_protection_class);
    assert_int_equal(f.protection_class, 3);
    assert_true(f.has_encryption_key);
    uint8_t want[FERRY_PREFIXED_KEY_LEN];
    assert_int_equal(ferry_hex_decode(real_key_hex, want, sizeof want), 0);
    assert_memory_equal(f.encryption_key, want, sizeof want);
    uint32_t prefix = (uint32_t)f.encryption_key[0] | (uint32_t)f.encryption_key[1] << 8 |
                      (uint32_t)f.encryption_key[2] << 16 | (uint32_t)f.encryption_key[3] << 24;
    assert_int_equal(prefix, 3);

    /* Re-encoding gives other bytes (no uniquing) but the same fields. */
    uint8_t *again;
    size_t again_len;
    round_trip(&f, &again, &again_len);
    free(again);
    ferry_mbfile_clear(&f);
    free(bytes);
    free(path);
}

/* Every `file` value of a real database decodes (§5.3), including the negative UserID/GroupID. */
static void test_every_mvt_row_decodes(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, MVT_DB);
    char *uri = NULL;
    assert_true(asprintf(&uri, "file:%s?immutable=1", path) > 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT file FROM Files", -1, &st, NULL), SQLITE_OK);
    int rows = 0, keys = 0, digests = 0, xattrs = 0, targets = 0, neg_uid = 0, neg_gid = 0, key_matches = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        ferry_mbfile_t f;
        int rc = ferry_mbfile_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &f);
        if (rc)
            fail_msg("row %d: %s", rows, ferry_error_last());
        rows++;
        keys += f.has_encryption_key;
        digests += f.has_digest;
        xattrs += f.xattrs != NULL;
        targets += f.target != NULL;
        neg_uid += f.uid == -2;
        neg_gid += f.gid == -2;
        if (f.has_encryption_key && f.encryption_key[0] == f.protection_class)
            key_matches++;
        ferry_mbfile_clear(&f);
    }
    assert_int_equal(rows, 3721);
    assert_int_equal(keys, 1089);
    assert_int_equal(key_matches, 1089);
    assert_int_equal(digests, 477);
    assert_int_equal(xattrs, 77);
    assert_int_equal(targets, 14);
    assert_int_equal(neg_uid, 98);
    assert_int_equal(neg_gid, 112);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(uri);
    free(path);
}

/* ---- round trips and the encoded graph ---------------------------------------------------------- */

static void test_round_trip_file(void **state)
{
    (void)state;
    ferry_mbfile_t f;
    sample_file(&f);
    uint8_t *bytes;
    size_t len;
    round_trip(&f, &bytes, &len);
    free(bytes);
}

static void test_round_trip_directory(void **state)
{
    (void)state;
    ferry_mbfile_t f;
    memset(&f, 0, sizeof f);
    f.relative_path = (char *)"";
    f.mode = 040755;
    f.uid = f.gid = 501;
    f.mtime = f.ctime = f.birth = 1700000000;
    f.has_protection_class = 1;
    uint8_t *bytes;
    size_t len;
    round_trip(&f, &bytes, &len);
    plist_t p = parse(bytes, len);
    plist_t objs = objects_of(p);
    assert_int_equal(plist_array_get_size(objs), 4); /* $null, root, "", MBFile class */
    uint64_t uid = 0;
    plist_get_uid_val(plist_dict_get_item(root_of(p), "$class"), &uid);
    assert_int_equal(uid, 3);
    plist_free(p);
    free(bytes);
}

static void test_round_trip_symlink_negative_gid_large_inode(void **state)
{
    (void)state;
    ferry_mbfile_t f;
    memset(&f, 0, sizeof f);
    f.relative_path = (char *)"Library/SMS/link";
    f.target = (char *)"/var/mobile/Library/SMS/big.bin";
    f.mode = 0120755;
    f.uid = -2;
    f.gid = -2;
    f.inode = 0x7123456789ABCDEFLL;
    f.mtime = -1;
    f.has_protection_class = 1;
    uint8_t *bytes;
    size_t len;
    round_trip(&f, &bytes, &len);
    /* -2 is stored as an 8-byte signed integer (marker 0x13), as Apple writes it. */
    static const uint8_t minus_two[] = {0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
    assert_non_null(memmem(bytes, len, minus_two, sizeof minus_two));
    plist_t p = parse(bytes, len);
    plist_t objs = objects_of(p);
    assert_int_equal(plist_array_get_size(objs), 5); /* $null, root, path, target, class */
    assert_int_equal(plist_string_val_compare(plist_array_get_item(objs, 3), f.target), 0);
    uint64_t uid = 0;
    plist_get_uid_val(plist_dict_get_item(root_of(p), "Target"), &uid);
    assert_int_equal(uid, 3);
    plist_free(p);
    free(bytes);
}

static void assert_class(plist_t d, const char *name, const char *const *classes, uint32_t n)
{
    assert_int_equal(plist_get_node_type(d), PLIST_DICT);
    assert_int_equal(plist_dict_get_size(d), 2);
    assert_int_equal(plist_string_val_compare(plist_dict_get_item(d, "$classname"), name), 0);
    plist_t arr = plist_dict_get_item(d, "$classes");
    assert_int_equal(plist_get_node_type(arr), PLIST_ARRAY);
    assert_int_equal(plist_array_get_size(arr), n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(plist_string_val_compare(plist_array_get_item(arr, i), classes[i]), 0);
}

static uint64_t uid_of(plist_t dict, const char *key)
{
    plist_t n = plist_dict_get_item(dict, key);
    assert_non_null(n);
    assert_int_equal(plist_get_node_type(n), PLIST_UID);
    uint64_t v = 0;
    plist_get_uid_val(n, &v);
    return v;
}

/* The graph of §5.2, checked by reading the encoded bytes back with libplist. */
static void test_encoded_graph_is_apples(void **state)
{
    (void)state;
    static const char *const mbfile[] = {"MBFile", "NSObject"};
    static const char *const data[] = {"NSMutableData", "NSData", "NSObject"};
    plist_t p = sample_archive();
    assert_int_equal(plist_dict_get_size(p), 4);
    plist_t version = plist_dict_get_item(p, "$version");
    assert_int_equal(plist_get_node_type(version), PLIST_UINT);
    assert_int_equal(plist_uint_val_compare(version, 100000), 0);
    assert_int_equal(plist_string_val_compare(plist_dict_get_item(p, "$archiver"), "NSKeyedArchiver"), 0);
    assert_int_equal(uid_of(plist_dict_get_item(p, "$top"), "root"), 1);

    plist_t objs = objects_of(p);
    assert_true(plist_array_get_size(objs) < 128);
    assert_int_equal(plist_array_get_size(objs), 8);
    assert_int_equal(plist_string_val_compare(plist_array_get_item(objs, 0), "$null"), 0);
    plist_t root = root_of(p);
    assert_int_equal(uid_of(root, "RelativePath"), 2);
    assert_int_equal(uid_of(root, "Digest"), 3);
    assert_int_equal(uid_of(root, "EncryptionKey"), 4);
    assert_int_equal(uid_of(root, "ExtendedAttributes"), 6);
    assert_int_equal(uid_of(root, "$class"), 7);
    assert_int_equal(plist_string_val_compare(plist_array_get_item(objs, 2), "Library/SMS/sms.db"), 0);
    assert_int_equal(plist_get_node_type(plist_array_get_item(objs, 3)), PLIST_DATA);
    plist_t key = plist_array_get_item(objs, 4);
    assert_int_equal(plist_dict_get_size(key), 2);
    assert_int_equal(plist_get_node_type(plist_dict_get_item(key, "NS.data")), PLIST_DATA);
    assert_int_equal(uid_of(key, "$class"), 5);
    assert_class(plist_array_get_item(objs, 5), "NSMutableData", data, 3);
    assert_int_equal(plist_get_node_type(plist_array_get_item(objs, 6)), PLIST_DATA);
    assert_class(plist_array_get_item(objs, 7), "MBFile", mbfile, 2);
    static const char *const ints[] = {"Mode",  "InodeNumber", "UserID",          "GroupID", "LastModified",
                                       "LastStatusChange", "Birth", "Size", "ProtectionClass", "Flags"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        assert_int_equal(plist_get_node_type(plist_dict_get_item(root, ints[i])), PLIST_UINT);
    assert_int_equal(plist_dict_get_size(root), 15); /* 3 objects, 10 integers, xattrs, $class */
    plist_free(p);
}

static void test_encode_refuses_bad_input(void **state)
{
    (void)state;
    ferry_mbfile_t f;
    uint8_t *bytes = (uint8_t *)"x";
    size_t len = 1;
    memset(&f, 0, sizeof f);
    assert_int_equal(ferry_mbfile_encode(&f, &bytes, &len), FERRY_EINVAL);
    assert_null(bytes);
    assert_int_equal(len, 0);
    sample_file(&f);
    f.size = -1;
    assert_int_equal(ferry_mbfile_encode(&f, &bytes, &len), FERRY_EINVAL);
}

/* ---- lenient forms ------------------------------------------------------------------------------ */

static void test_encryption_key_as_raw_data(void **state)
{
    (void)state;
    uint8_t key[FERRY_PREFIXED_KEY_LEN];
    fill_key(key, 2);
    plist_t objs = plist_new_array();
    plist_array_append_item(objs, plist_new_string("$null"));
    plist_t root = minimal_root(2, 4);
    plist_dict_set_item(root, "EncryptionKey", plist_new_uid(3));
    plist_array_append_item(objs, root);
    plist_array_append_item(objs, plist_new_string("Media/Test.txt"));
    plist_array_append_item(objs, plist_new_data((const char *)key, sizeof key));
    plist_array_append_item(objs, class_dict("MBFile"));
    size_t len;
    uint8_t *bytes = custom_archive(objs, 1, 0, &len);
    ferry_mbfile_t f;
    assert_int_equal(ferry_mbfile_decode(bytes, len, &f), 0);
    assert_true(f.has_encryption_key);
    assert_memory_equal(f.encryption_key, key, sizeof key);
    assert_false(f.has_protection_class);
    ferry_mbfile_clear(&f);
    free(bytes);
}

/* pyiosbackup's form: NS.data is itself a UID, and the root is not at index 1. */
static plist_t nested_uid_objects(const uint8_t key[FERRY_PREFIXED_KEY_LEN])
{
    plist_t objs = plist_new_array();
    plist_array_append_item(objs, plist_new_string("$null"));               /* 0 */
    plist_array_append_item(objs, class_dict("MBFile"));                    /* 1 */
    plist_array_append_item(objs, plist_new_string("Media/Test.txt"));      /* 2 */
    plist_array_append_item(objs, plist_new_data((const char *)key, FERRY_PREFIXED_KEY_LEN)); /* 3 */
    plist_t kd = plist_new_dict();                                          /* 4 */
    plist_dict_set_item(kd, "NS.data", plist_new_uid(3));
    plist_dict_set_item(kd, "$class", plist_new_uid(1));
    plist_array_append_item(objs, kd);
    plist_t root = minimal_root(2, 1);                                      /* 5 */
    plist_dict_set_item(root, "EncryptionKey", plist_new_uid(4));
    plist_array_append_item(objs, root);
    return objs;
}

static void check_nested(const uint8_t *bytes, size_t len, const uint8_t key[FERRY_PREFIXED_KEY_LEN])
{
    ferry_mbfile_t f;
    int rc = ferry_mbfile_decode(bytes, len, &f);
    if (rc)
        fail_msg("%s", ferry_error_last());
    assert_string_equal(f.relative_path, "Media/Test.txt");
    assert_int_equal(f.mode, 0100755);
    assert_true(f.size == 9);
    assert_true(f.mtime == 1628082463);
    assert_true(f.has_encryption_key);
    assert_memory_equal(f.encryption_key, key, FERRY_PREFIXED_KEY_LEN);
    ferry_mbfile_clear(&f);
}

static void test_nested_ns_data_uid_and_root_not_at_1(void **state)
{
    (void)state;
    uint8_t key[FERRY_PREFIXED_KEY_LEN];
    fill_key(key, 2);
    size_t len;
    uint8_t *bytes = custom_archive(nested_uid_objects(key), 5, 0, &len);
    check_nested(bytes, len, key);
    free(bytes);
}

static void test_xml_archive(void **state)
{
    (void)state;
    uint8_t key[FERRY_PREFIXED_KEY_LEN];
    fill_key(key, 2);
    size_t len;
    uint8_t *bytes = custom_archive(nested_uid_objects(key), 5, 1, &len);
    assert_non_null(memmem(bytes, len, "CF$UID", 6)); /* UIDs as XML writes them */
    check_nested(bytes, len, key);
    free(bytes);

    /* The encoder's own graph, converted to XML, decodes to the same fields. */
    ferry_mbfile_t f, out;
    sample_file(&f);
    plist_t p = sample_archive();
    char *xml = NULL;
    uint32_t xlen = 0;
    plist_to_xml(p, &xml, &xlen);
    plist_free(p);
    assert_int_equal(ferry_mbfile_decode((uint8_t *)xml, xlen, &out), 0);
    assert_same(&f, &out);
    ferry_mbfile_clear(&out);
    free(xml);
}

/* ---- hostile records ---------------------------------------------------------------------------- */

static void test_not_a_plist(void **state)
{
    (void)state;
    static const char junk[] = "this is not a property list at all";
    expect_format_error((const uint8_t *)junk, sizeof junk - 1, NULL);
    expect_format_error((const uint8_t *)"", 0, NULL);
    expect_format_error(NULL, 0, NULL);
    /* A valid plist that is not an archive. */
    plist_t arr = plist_new_array();
    size_t len;
    uint8_t *bytes = to_bin(arr, &len);
    plist_free(arr);
    expect_format_error(bytes, len, NULL);
    free(bytes);
}

static void test_every_truncation_of_the_real_record(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, REAL_RECORD);
    size_t len;
    uint8_t *bytes = tu_read_file(path, &len);
    for (size_t n = 0; n < len; n++) {
        /* A fresh copy of exactly n bytes, so that ASan sees any read past the end. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, bytes, n);
        expect_format_error(cut, n, NULL);
        free(cut);
    }
    free(bytes);
    free(path);
}

/* Every byte of the real record replaced by a few values: decode succeeds or refuses, never crashes. */
static void test_byte_mutations_of_the_real_record(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, REAL_RECORD);
    size_t len;
    uint8_t *bytes = tu_read_file(path, &len);
    static const uint8_t values[] = {0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xd1, 0xff};
    uint8_t *copy = malloc(len);
    int refused = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, bytes, len);
            copy[i] = values[v];
            ferry_mbfile_t f;
            int rc = ferry_mbfile_decode(copy, len, &f);
            assert_true(rc == 0 || rc == FERRY_EFORMAT);
            if (rc == 0) {
                assert_non_null(f.relative_path);
                ferry_mbfile_clear(&f);
            } else {
                refused++;
            }
        }
    }
    assert_true(refused > 0);
    free(copy);
    free(bytes);
    free(path);
}

static void test_uid_out_of_range(void **state)
{
    (void)state;
    plist_t p = sample_archive();
    plist_dict_set_item(root_of(p), "RelativePath", plist_new_uid(99));
    expect_archive_error(p, "RelativePath");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "Digest", plist_new_uid(8)); /* == $objects count */
    expect_archive_error(p, "Digest");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "$class", plist_new_uid(1000));
    expect_archive_error(p, "$class");

    p = sample_archive();
    plist_dict_set_item(plist_dict_get_item(p, "$top"), "root", plist_new_uid(8));
    expect_archive_error(p, "$top.root");

    p = sample_archive();
    plist_dict_set_item(plist_array_get_item(objects_of(p), 4), "NS.data", plist_new_uid(200));
    expect_archive_error(p, "EncryptionKey");
}

static void test_top_missing_or_root_not_a_dict(void **state)
{
    (void)state;
    plist_t p = sample_archive();
    plist_dict_remove_item(p, "$top");
    expect_archive_error(p, "$top");

    p = sample_archive();
    plist_dict_remove_item(plist_dict_get_item(p, "$top"), "root");
    expect_archive_error(p, "$top.root");

    p = sample_archive();
    plist_dict_set_item(plist_dict_get_item(p, "$top"), "root", plist_new_uint(1)); /* not a UID */
    expect_archive_error(p, "$top.root");

    p = sample_archive();
    plist_dict_set_item(plist_dict_get_item(p, "$top"), "root", plist_new_uid(2)); /* the path string */
    expect_archive_error(p, "$top.root");

    p = sample_archive();
    plist_dict_set_item(plist_dict_get_item(p, "$top"), "root", plist_new_uid(0)); /* $null */
    expect_archive_error(p, "$top.root");

    p = sample_archive();
    plist_dict_set_item(p, "$objects", plist_new_dict());
    expect_archive_error(p, "$objects");

    p = sample_archive();
    plist_dict_set_item(p, "$archiver", plist_new_string("NSArchiver"));
    expect_archive_error(p, "$archiver");
}

static void test_wrong_types(void **state)
{
    (void)state;
    plist_t p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_uint(5), 2); /* RelativePath -> integer */
    expect_archive_error(p, "RelativePath");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "RelativePath", plist_new_uid(0)); /* nil */
    expect_archive_error(p, "RelativePath");

    p = sample_archive();
    plist_dict_remove_item(root_of(p), "RelativePath");
    expect_archive_error(p, "RelativePath");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "Mode", plist_new_string("33188"));
    expect_archive_error(p, "Mode");

    p = sample_archive();
    plist_dict_remove_item(root_of(p), "Mode");
    expect_archive_error(p, "Mode");

    p = sample_archive();
    plist_dict_remove_item(root_of(p), "Size");
    expect_archive_error(p, "Size");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "Size", plist_new_uint((uint64_t)-5));
    expect_archive_error(p, "Size");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "UserID", plist_new_uint(1ULL << 40));
    expect_archive_error(p, "UserID");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "Flags", plist_new_bool(1));
    expect_archive_error(p, "Flags");

    p = sample_archive();
    plist_dict_set_item(root_of(p), "ProtectionClass", plist_new_real(3.0));
    expect_archive_error(p, "ProtectionClass");

    p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_string("not data"), 3);
    expect_archive_error(p, "Digest");

    p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_data("short", 5), 3);
    expect_archive_error(p, "Digest");

    p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_string("xattrs"), 6);
    expect_archive_error(p, "ExtendedAttributes");

    p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_array(), 7);
    expect_archive_error(p, "$class");

    p = sample_archive();
    plist_dict_remove_item(plist_array_get_item(objects_of(p), 4), "NS.data");
    expect_archive_error(p, "EncryptionKey");
}

static void test_encryption_key_of_43_bytes(void **state)
{
    (void)state;
    uint8_t key[FERRY_PREFIXED_KEY_LEN + 1] = {0};
    fill_key(key, 3);
    plist_t p = sample_archive();
    plist_dict_set_item(plist_array_get_item(objects_of(p), 4), "NS.data",
                        plist_new_data((const char *)key, FERRY_PREFIXED_KEY_LEN - 1));
    expect_archive_error(p, "EncryptionKey");

    p = sample_archive();
    plist_dict_set_item(plist_array_get_item(objects_of(p), 4), "NS.data",
                        plist_new_data((const char *)key, 0));
    expect_archive_error(p, "EncryptionKey");

    p = sample_archive();
    plist_array_set_item(objects_of(p), plist_new_data((const char *)key, FERRY_PREFIXED_KEY_LEN + 1), 4);
    expect_archive_error(p, "EncryptionKey");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_record_fields),
        cmocka_unit_test(test_every_mvt_row_decodes),
        cmocka_unit_test(test_round_trip_file),
        cmocka_unit_test(test_round_trip_directory),
        cmocka_unit_test(test_round_trip_symlink_negative_gid_large_inode),
        cmocka_unit_test(test_encoded_graph_is_apples),
        cmocka_unit_test(test_encode_refuses_bad_input),
        cmocka_unit_test(test_encryption_key_as_raw_data),
        cmocka_unit_test(test_nested_ns_data_uid_and_root_not_at_1),
        cmocka_unit_test(test_xml_archive),
        cmocka_unit_test(test_not_a_plist),
        cmocka_unit_test(test_every_truncation_of_the_real_record),
        cmocka_unit_test(test_byte_mutations_of_the_real_record),
        cmocka_unit_test(test_uid_out_of_range),
        cmocka_unit_test(test_top_missing_or_root_not_a_dict),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_encryption_key_of_43_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
