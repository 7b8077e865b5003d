/*
 * test_device_file_keys.c: what lets an encrypted incremental backup re-send only changed files, and
 * the restore's keychain import. Content-derived file keys (file_keys.c) are the same for the same
 * keybag, path and content and differ otherwise; with them the writer (ferry_file_meta_t.file_key)
 * writes byte-identical blobs in two backups that share a keybag, and both decrypt; without them the
 * blobs differ. dev_restore_keychain (restore_keychain.c) imports a keychain export: ThisDeviceOnly
 * items only onto the same device (B3), hardware-bound and akpu items never (R6), and a malformed
 * export changes nothing.
 */
#include "device_tu.h"

#include <dirent.h>

#include "../../src/device/device_internal.h"

#define PW "file key pw"

static ferry_keybag_t *new_keybag(void)
{
    ferry_keybag_params_t kp = {.dpic = 1000, .iter = 10};
    ferry_keybag_t *kb = NULL;
    assert_int_equal(ferry_keybag_create(PW, strlen(PW), &kp, &kb, NULL), 0);
    return kb;
}

static void test_file_keys_follow_content_path_and_keybag(void **state)
{
    (void)state;
    ferry_keybag_t *kb = new_keybag(), *other = new_keybag();
    uint8_t a[FERRY_KEY_LEN], b[FERRY_KEY_LEN], c[FERRY_KEY_LEN], d[FERRY_KEY_LEN], e[FERRY_KEY_LEN];
    assert_int_equal(dev_file_key_mem(kb, 3, "HomeDomain", "a.txt", "hello", 5, a), 0);
    assert_int_equal(dev_file_key_mem(kb, 3, "HomeDomain", "a.txt", "hello", 5, b), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(dev_file_key_mem(kb, 3, "HomeDomain", "a.txt", "hellO", 5, c), 0);
    assert_memory_not_equal(a, c, sizeof a);
    assert_int_equal(dev_file_key_mem(kb, 3, "HomeDomain", "b.txt", "hello", 5, d), 0);
    assert_memory_not_equal(a, d, sizeof a);
    assert_int_equal(dev_file_key_mem(other, 3, "HomeDomain", "a.txt", "hello", 5, e), 0);
    assert_memory_not_equal(a, e, sizeof a);
    /* from a file: the same key as from memory */
    char *tmp = tu_mkdtemp(), *path = NULL;
    assert_true(asprintf(&path, "%s/f", tmp) > 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
    assert_int_equal(dev_file_key_path(kb, 3, "HomeDomain", "a.txt", path, b), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_not_equal(dev_file_key_path(kb, 3, "HomeDomain", "a.txt", "/nonexistent/x", b), 0);
    tu_rmtree(tmp);
    free(tmp);
    free(path);
    ferry_keybag_free(kb);
    ferry_keybag_free(other);
}

static void on_finding(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    (void)ctx;
    if (sev == FERRY_VERIFY_PROBLEM)
        print_message("verify: %s: %s\n", what, msg);
}

/* Writes one encrypted backup of one file into dir/<udid>; returns the SHA-256 of its only blob. */
static void write_one(const char *dir, const ferry_keybag_t *kb, const uint8_t *key, char blob_hash[65])
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = "00008030-00AABBCCDDEEFF00";
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00TESTSERIAL";
    o.ident.device_name = "Test iPhone";
    o.password = PW;
    o.password_len = strlen(PW);
    o.keybag = kb;
    o.date = 1710000000;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    ferry_file_meta_t m = {0};
    m.mtime = m.ctime = m.birth = 1710000000;
    m.file_key = key;
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "", &m), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "a.txt", &m, "hello, incremental", 18), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    /* the blob: <dir>/<xx>/<40 hex> */
    int found = 0;
    for (int k = 0; k < 256 && !found; k++) {
        char *bucket = NULL;
        assert_true(asprintf(&bucket, "%s/%02x", dir, k) > 0);
        DIR *dh = opendir(bucket);
        struct dirent *e;
        while (dh && (e = readdir(dh)))
            if (strlen(e->d_name) == 40) {
                char *p = NULL;
                assert_true(asprintf(&p, "%s/%s", bucket, e->d_name) > 0);
                tu_sha256_file(p, blob_hash);
                free(p);
                found = 1;
            }
        if (dh)
            closedir(dh);
        free(bucket);
    }
    assert_true(found);
    ferry_credentials_t cred = {.password = PW, .password_len = strlen(PW)};
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    ferry_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(ferry_backup_verify(dir, &cred, &vo, on_finding, NULL, &rep), 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.files, 1);
}

static void test_same_keybag_and_file_key_give_the_same_blob(void **state)
{
    (void)state;
    ferry_keybag_t *kb = new_keybag();
    uint8_t key[FERRY_KEY_LEN];
    assert_int_equal(dev_file_key_mem(kb, 3, "HomeDomain", "a.txt", "hello, incremental", 18, key), 0);
    char *tmp = tu_mkdtemp(), *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
    assert_true(asprintf(&d1, "%s/one", tmp) > 0 && asprintf(&d2, "%s/two", tmp) > 0);
    assert_true(asprintf(&d3, "%s/three", tmp) > 0 && asprintf(&d4, "%s/four", tmp) > 0);
    char h1[65], h2[65], h3[65], h4[65];
    write_one(d1, kb, key, h1);
    write_one(d2, kb, key, h2);
    assert_string_equal(h1, h2);          /* an incremental backup need not send it again */
    write_one(d3, kb, NULL, h3);          /* random file keys: a different blob each time */
    write_one(d4, kb, NULL, h4);
    assert_string_not_equal(h3, h4);
    assert_string_not_equal(h1, h3);
    tu_rmtree(tmp);
    free(tmp);
    free(d1);
    free(d2);
    free(d3);
    free(d4);
    ferry_keybag_free(kb);
}

static plist_t item(const char *pdmn, const char *acct, int hw)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "pdmn", plist_new_string(pdmn));
    plist_dict_set_item(d, "agrp", plist_new_string("apple"));
    plist_dict_set_item(d, "svce", plist_new_string("test"));
    plist_dict_set_item(d, "acct", plist_new_string(acct));
    plist_dict_set_item(d, "v_Data", plist_new_data("secret", 6));
    if (hw)
        plist_dict_set_item(d, "HardwareBound", plist_new_bool(1));
    return d;
}

static plist_t export_plist(void)
{
    plist_t root = plist_new_dict(), genp = plist_new_array(), keys = plist_new_array();
    plist_array_append_item(genp, item("aku", "this-device-only", 0));
    plist_array_append_item(genp, item("ak", "migratable", 0));
    plist_array_append_item(genp, item("akpu", "never", 0));
    plist_array_append_item(keys, item("ck", "hardware-bound", 1));
    plist_dict_set_item(root, "genp", genp);
    plist_dict_set_item(root, "inet", plist_new_array());
    plist_dict_set_item(root, "cert", plist_new_array());
    plist_dict_set_item(root, "keys", keys);
    return root;
}

static int has_acct(const ferry_device_t *dev, const char *acct)
{
    for (size_t i = 0; i < dev->n_keychain; i++)
        if (dev->keychain[i].acct && !strcmp(dev->keychain[i].acct, acct))
            return 1;
    return 0;
}

static void test_B3_restored_keychain_this_device_only_items_only_on_the_same_device(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 5);
    plist_t exp = export_plist();
    ferry_device_t *dev = dt_load(d.dir);
    size_t in = 0, out = 0;
    assert_int_equal(dev_restore_keychain(dev, exp, 1, &in, &out), 0);
    assert_int_equal(in, 2);
    assert_int_equal(out, 2);
    ferry_device_free(dev);
    dev = dt_load(d.dir); /* saved in keychain.plist */
    assert_int_equal(dev->n_keychain, 2);
    assert_true(has_acct(dev, "this-device-only") && has_acct(dev, "migratable"));
    assert_int_equal(dev_restore_keychain(dev, exp, 0, &in, &out), 0);
    assert_int_equal(in, 1);
    assert_true(has_acct(dev, "migratable") && !has_acct(dev, "this-device-only"));
    assert_false(has_acct(dev, "never") || has_acct(dev, "hardware-bound"));
    /* a malformed export: refused, the keychain as it was */
    char before[65], after[65];
    dt_tree_hash(d.dir, before);
    plist_t bad = plist_new_array();
    assert_int_not_equal(dev_restore_keychain(dev, bad, 1, &in, &out), 0);
    plist_dict_set_item(exp, "genp", plist_new_string("not an array"));
    assert_int_not_equal(dev_restore_keychain(dev, exp, 1, &in, &out), 0);
    assert_int_equal(dev->n_keychain, 1);
    dt_tree_hash(d.dir, after);
    assert_string_equal(before, after);
    plist_free(bad);
    plist_free(exp);
    ferry_device_free(dev);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_keys_follow_content_path_and_keybag),
        cmocka_unit_test(test_same_keybag_and_file_key_give_the_same_blob),
        cmocka_unit_test(test_B3_restored_keychain_this_device_only_items_only_on_the_same_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
