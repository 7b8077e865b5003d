/*
 * test_s3_format.c: the S3 backend's parsing of outside bytes, without a server: the bounded reader of
 * S3's XML answers (entities, unclosed or nested elements, limits), snapshot and pack indexes (round
 * trip, and refusal of unsafe paths, malformed hashes and out-of-range offsets), and the S3 config file
 * (a group- or world-readable file is refused, unknown keys are errors, the environment wins).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/store/s3_backend.h"
#include "../../src/store/s3_config.h"

static void test_xml_elements(void **state)
{
    (void)state;
    const char *x = "<R><Contents><Key>a&amp;b&#47;c</Key><Size>12</Size></Contents>"
                    "<Contents><Key>d</Key><Size>3</Size></Contents><IsTruncated>false</IsTruncated></R>";
    size_t pos = 0, a, b;
    char *v = NULL;
    assert_int_equal(ferry_s3_xml_block(x, strlen(x), &pos, "Contents", &a, &b), 1);
    size_t p = 0;
    assert_int_equal(ferry_s3_xml_next(x + a, b - a, &p, "Key", 100, &v), 1);
    assert_string_equal(v, "a&b/c");
    free(v);
    assert_int_equal(ferry_s3_xml_block(x, strlen(x), &pos, "Contents", &a, &b), 1);
    assert_int_equal(ferry_s3_xml_block(x, strlen(x), &pos, "Contents", &a, &b), 0);
    v = ferry_s3_xml_first(x, strlen(x), "IsTruncated");
    assert_string_equal(v, "false");
    free(v);
    assert_null(ferry_s3_xml_first(x, strlen(x), "NextContinuationToken"));
}

static void test_xml_hostile(void **state)
{
    (void)state;
    size_t pos = 0;
    char *v = NULL;
    const char *unclosed = "<Key>abc";
    assert_int_equal(ferry_s3_xml_next(unclosed, strlen(unclosed), &pos, "Key", 100, &v), FERRY_EFORMAT);
    pos = 0;
    const char *markup = "<Key>a<b/></Key>";
    assert_int_equal(ferry_s3_xml_next(markup, strlen(markup), &pos, "Key", 100, &v), FERRY_EFORMAT);
    pos = 0;
    const char *ent = "<Key>&unknown;</Key>";
    assert_int_equal(ferry_s3_xml_next(ent, strlen(ent), &pos, "Key", 100, &v), FERRY_EFORMAT);
    pos = 0;
    const char *nonascii = "<Key>&#233;</Key>";
    assert_int_equal(ferry_s3_xml_next(nonascii, strlen(nonascii), &pos, "Key", 100, &v), FERRY_EFORMAT);
    pos = 0;
    const char *big = "<Key>0123456789</Key>";
    assert_int_equal(ferry_s3_xml_next(big, strlen(big), &pos, "Key", 5, &v), FERRY_ELIMIT);
    /* A length that stops inside the element: never read past it. */
    pos = 0;
    assert_int_equal(ferry_s3_xml_next(big, 8, &pos, "Key", 100, &v), FERRY_EFORMAT);
    assert_null(v);
    char *e = ferry_s3_xml_escape("\"a\"<&>");
    assert_string_equal(e, "\"a\"&lt;&amp;&gt;");
    free(e);
}

static const char H1[] = "0000000000000000000000000000000000000000000000000000000000000001";
static const char H2[] = "00000000000000000000000000000000000000000000000000000000000000ff";

static void fill_index(s3_index_t *ix)
{
    memset(ix, 0, sizeof *ix);
    snprintf(ix->info.id, sizeof ix->info.id, "20261128T155047.123Z-1a2b3c4d");
    snprintf(ix->info.udid, sizeof ix->info.udid, "00008110-0011223344556677");
    ix->info.date = 1795000000;
    ix->info.files = 1;
    ix->info.bytes = 30;
    s3_entry_t d = {.path = "ab", .dir = 1};
    s3_entry_t f = {.path = "ab/abcdef", .size = 10, .off = 20};
    memcpy(f.hash, H1, 65);
    memcpy(f.pack, H2, 65);
    s3_entry_t g = {.path = "Manifest.db", .size = 20};
    memcpy(g.hash, H2, 65);
    assert_int_equal(s3_index_add(ix, &d), 0);
    assert_int_equal(s3_index_add(ix, &f), 0);
    assert_int_equal(s3_index_add(ix, &g), 0);
}

static void test_index_round_trip(void **state)
{
    (void)state;
    s3_index_t ix, back;
    fill_index(&ix);
    char *bin = NULL;
    uint32_t len = 0;
    assert_int_equal(s3_index_encode(&ix, &bin, &len), 0);
    assert_int_equal(s3_index_decode((const uint8_t *)bin, len, "test", &back), 0);
    assert_string_equal(back.info.id, ix.info.id);
    assert_string_equal(back.info.udid, ix.info.udid);
    assert_int_equal(back.info.date, 1795000000);
    assert_int_equal(back.n, 3);
    assert_true(back.v[0].dir);
    assert_string_equal(back.v[1].pack, H2);
    assert_int_equal(back.v[1].off, 20);
    assert_string_equal(back.v[2].pack, "");
    free(bin);
    s3_index_free(&back);
    /* Truncated: an error, never a partial index. */
    assert_int_equal(s3_index_encode(&ix, &bin, &len), 0);
    assert_int_not_equal(s3_index_decode((const uint8_t *)bin, len / 2, "test", &back), 0);
    free(bin);
    s3_index_free(&ix);
}

static void test_index_refuses_unsafe(void **state)
{
    (void)state;
    static const char *bad_paths[] = {"../evil", "/abs", "ab/../../x", ""};
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        s3_index_t ix, back;
        fill_index(&ix);
        free(ix.v[2].path);
        ix.v[2].path = strdup(bad_paths[i]);
        char *bin = NULL;
        uint32_t len = 0;
        assert_int_equal(s3_index_encode(&ix, &bin, &len), 0);
        assert_int_equal(s3_index_decode((const uint8_t *)bin, len, "test", &back), FERRY_EFORMAT);
        free(bin);
        s3_index_free(&ix);
    }
    s3_index_t ix, back;
    fill_index(&ix);
    ix.v[1].hash[3] = 'G'; /* not hex */
    char *bin = NULL;
    uint32_t len = 0;
    assert_int_equal(s3_index_encode(&ix, &bin, &len), 0);
    assert_int_equal(s3_index_decode((const uint8_t *)bin, len, "test", &back), FERRY_EFORMAT);
    free(bin);
    ix.v[1].hash[3] = '0';
    ix.v[1].off = S3_PACK_MAX; /* beyond any pack */
    assert_int_equal(s3_index_encode(&ix, &bin, &len), 0);
    assert_int_equal(s3_index_decode((const uint8_t *)bin, len, "test", &back), FERRY_EFORMAT);
    free(bin);
    s3_index_free(&ix);
}

static void test_packidx(void **state)
{
    (void)state;
    s3_entry_t v[2] = {{.size = 5, .off = 0}, {.size = 7, .off = 5}};
    memcpy(v[0].hash, H1, 65);
    memcpy(v[1].hash, H2, 65);
    char *bin = NULL;
    uint32_t len = 0;
    assert_int_equal(s3_packidx_encode(v, 2, &bin, &len), 0);
    s3_entry_t *back = NULL;
    size_t n = 0;
    assert_int_equal(s3_packidx_decode((const uint8_t *)bin, len, "t", &back, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(back[1].off, 5);
    assert_string_equal(back[1].hash, H2);
    free(back);
    free(bin);
    v[1].size = S3_PACK_MAX;
    assert_int_equal(s3_packidx_encode(v, 2, &bin, &len), 0);
    assert_int_equal(s3_packidx_decode((const uint8_t *)bin, len, "t", &back, &n), FERRY_EFORMAT);
    free(bin);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_config_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/s3.conf", dir);
    unsetenv("FERRY_S3_ENDPOINT");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("FERRY_S3_REGION");
    setenv("FERRY_S3_CONFIG", path, 1);
    ferry_s3_config_t c;
    write_file(path, "# test\nendpoint = http://127.0.0.1:9/\naccess_key_id = K\nsecret_access_key = a:b=c\n", 0600);
    assert_int_equal(ferry_s3_config_load(&c), 0);
    assert_string_equal(c.endpoint, "http://127.0.0.1:9");
    assert_string_equal(c.secret_key, "a:b=c");
    assert_string_equal(c.region, "us-east-1");
    ferry_s3_config_clear(&c);
    setenv("AWS_ACCESS_KEY_ID", "FROMENV", 1);
    assert_int_equal(ferry_s3_config_load(&c), 0);
    assert_string_equal(c.access_key, "FROMENV");
    ferry_s3_config_clear(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    chmod(path, 0644);
    assert_int_equal(ferry_s3_config_load(&c), FERRY_EUNSAFE);
    write_file(path, "endpoint = http://x\nsecret = y\n", 0600);
    assert_int_equal(ferry_s3_config_load(&c), FERRY_EFORMAT);
    write_file(path, "endpoint = ftp://x\naccess_key_id = K\nsecret_access_key = S\n", 0600);
    assert_int_equal(ferry_s3_config_load(&c), FERRY_EINVAL);
    write_file(path, "endpoint = http://x\n", 0600);
    assert_int_equal(ferry_s3_config_load(&c), FERRY_EINVAL); /* no credentials */
    unsetenv("FERRY_S3_CONFIG");
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_elements),       cmocka_unit_test(test_xml_hostile),
        cmocka_unit_test(test_index_round_trip),   cmocka_unit_test(test_index_refuses_unsafe),
        cmocka_unit_test(test_packidx),            cmocka_unit_test(test_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
