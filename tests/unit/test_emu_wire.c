/*
 * test_emu_wire.c: the emulated device's wire parsers on good and malformed input: the usbmuxd
 * header, the Connect port encoding, u32BE plist framing (also through a socket, with garbage), the
 * DeviceLink message shape, status responses with negative codes, and the raw file stream of
 * DLMessageDownloadFiles with hostile lengths.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/device/devicelink.h"

static void put_le32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void mux_header(uint8_t b[16], uint32_t len, uint32_t ver, uint32_t msg, uint32_t tag)
{
    put_le32(b, len);
    put_le32(b + 4, ver);
    put_le32(b + 8, msg);
    put_le32(b + 12, tag);
}

static void test_usbmux_header(void **state)
{
    (void)state;
    uint8_t b[16];
    emu_usbmux_hdr_t h;
    mux_header(b, 300, 1, 8, 7);
    assert_int_equal(emu_usbmux_parse_header(b, &h), 0);
    assert_int_equal(h.length, 300);
    assert_int_equal(h.tag, 7);
    mux_header(b, 16, 1, 8, 0); /* empty body: accepted here, refused later as a plist */
    assert_int_equal(emu_usbmux_parse_header(b, &h), 0);
}

static void test_usbmux_header_malformed(void **state)
{
    (void)state;
    uint8_t b[16];
    emu_usbmux_hdr_t h;
    mux_header(b, 15, 1, 8, 0);
    assert_int_equal(emu_usbmux_parse_header(b, &h), FERRY_EFORMAT);
    mux_header(b, 0xFFFFFFFFu, 1, 8, 0);
    assert_int_equal(emu_usbmux_parse_header(b, &h), FERRY_EFORMAT);
    mux_header(b, 100, 0, 8, 0); /* binary protocol */
    assert_int_equal(emu_usbmux_parse_header(b, &h), FERRY_EFORMAT);
    mux_header(b, 100, 1, 3, 0); /* LISTEN of the binary protocol */
    assert_int_equal(emu_usbmux_parse_header(b, &h), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "usbmuxd"));
}

static void test_usbmux_port(void **state)
{
    (void)state;
    assert_int_equal(emu_usbmux_port(32498), 62078); /* §4.4: htons(62078) */
    assert_int_equal(emu_usbmux_port(14272), 49207);
    assert_int_equal(emu_usbmux_port(0), 0);
}

static void test_plist_length(void **state)
{
    (void)state;
    uint32_t n;
    assert_int_equal(emu_plist_length((const uint8_t[]){0, 0, 1, 0}, &n), 0);
    assert_int_equal(n, 256);
    assert_int_equal(emu_plist_length((const uint8_t[]){0, 0, 0, 0}, &n), FERRY_EFORMAT);
    assert_int_equal(emu_plist_length((const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF}, &n), FERRY_EFORMAT);
    assert_int_equal(emu_plist_length((const uint8_t[]){0x01, 0x00, 0x00, 0x01}, &n), FERRY_EFORMAT);
}

static void test_plist_frame_roundtrip(void **state)
{
    (void)state;
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "Request", plist_new_string("QueryType"));
    for (int xml = 0; xml < 2; xml++) {
        uint8_t *buf;
        size_t len;
        uint32_t n;
        assert_int_equal(emu_plist_frame(p, xml, &buf, &len), 0);
        assert_int_equal(emu_plist_length(buf, &n), 0);
        assert_int_equal((size_t)n + 4, len);
        plist_t q = NULL;
        assert_int_equal(ferry_plist_parse(buf + 4, n, &q, "frame"), 0);
        char *s = emu_dict_string(q, "Request");
        assert_string_equal(s, "QueryType");
        free(s);
        plist_free(q);
        free(buf);
    }
    plist_free(p);
}

/* A connection over a socketpair: what the test writes on fds[1], the parser reads from fds[0]. */
static void conn_pair(emu_conn_t *c, int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    memset(c, 0, sizeof *c);
    c->fd = fds[0];
    c->what = "test";
}

static void feed(int fd, const void *data, size_t len)
{
    assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void test_plist_recv_garbage(void **state)
{
    (void)state;
    emu_conn_t c;
    int fds[2];
    plist_t p;
    conn_pair(&c, fds);
    feed(fds[1], "\x00\x00\x00\x10not a plist!!!!!", 20);
    assert_int_equal(emu_plist_recv(&c, &p), FERRY_EFORMAT);
    assert_null(p);
    feed(fds[1], "\xff\xff\xff\xff", 4);
    assert_int_equal(emu_plist_recv(&c, &p), FERRY_EFORMAT);
    feed(fds[1], "\x00\x00\x00\x40short", 9); /* announced 64 bytes, then the stream ends */
    close(fds[1]);
    assert_int_equal(emu_plist_recv(&c, &p), FERRY_EIO);
    close(fds[0]);
}

static plist_t arr(const char *name)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string(name));
    return m;
}

static void test_dl_parse(void **state)
{
    (void)state;
    char *name;
    plist_t m = arr("DLMessageProcessMessage");
    assert_int_equal(emu_dl_parse(m, &name), 0);
    assert_string_equal(name, "DLMessageProcessMessage");
    free(name);
    plist_free(m);
    m = arr("DLshort"); /* fewer than 9 characters */
    assert_int_equal(emu_dl_parse(m, &name), FERRY_EFORMAT);
    assert_null(name);
    plist_free(m);
    m = arr("NotDeviceLink");
    assert_int_equal(emu_dl_parse(m, &name), FERRY_EFORMAT);
    plist_free(m);
    m = plist_new_array();
    assert_int_equal(emu_dl_parse(m, &name), FERRY_EFORMAT);
    plist_array_append_item(m, plist_new_uint(5));
    assert_int_equal(emu_dl_parse(m, &name), FERRY_EFORMAT);
    plist_free(m);
    m = plist_new_dict();
    assert_int_equal(emu_dl_parse(m, &name), FERRY_EFORMAT);
    plist_free(m);
    assert_int_equal(emu_dl_parse(NULL, &name), FERRY_EFORMAT);
}

static void test_dl_status(void **state)
{
    (void)state;
    int64_t code;
    plist_t content;
    plist_t m = arr("DLMessageStatusResponse");
    plist_array_append_item(m, plist_new_uint((uint64_t)-13)); /* libplist's 8-byte negative */
    plist_array_append_item(m, plist_new_string("Multi status"));
    plist_array_append_item(m, plist_new_dict());
    assert_int_equal(emu_dl_parse_status(m, &code, &content), 0);
    assert_int_equal(code, -13);
    assert_int_equal(plist_get_node_type(content), PLIST_DICT);
    plist_free(m);
    m = arr("DLMessageStatusResponse");
    plist_array_append_item(m, plist_new_string("0"));
    assert_int_equal(emu_dl_parse_status(m, &code, &content), FERRY_EFORMAT);
    plist_free(m);
    m = arr("DLMessageStatusResponse");
    assert_int_equal(emu_dl_parse_status(m, &code, &content), FERRY_EFORMAT);
    plist_free(m);
    m = arr("DLMessageProcessMessage");
    plist_array_append_item(m, plist_new_uint(0));
    assert_int_equal(emu_dl_parse_status(m, &code, NULL), FERRY_EFORMAT);
    plist_free(m);
}

typedef struct {
    int begins, oks, errors;
    size_t bytes;
} files_seen_t;

static int count_files(void *ctx, const char *path, int st, const uint8_t *data, size_t len)
{
    files_seen_t *s = ctx;
    (void)path, (void)data;
    s->begins += st == EMU_DL_FILE_BEGIN;
    s->oks += st == EMU_DL_FILE_OK;
    s->errors += st == EMU_DL_FILE_ERROR;
    if (st == EMU_DL_FILE_DATA)
        s->bytes += len;
    return 0;
}

static void test_dl_recv_files(void **state)
{
    (void)state;
    emu_conn_t c;
    int fds[2];
    files_seen_t s = {0};
    conn_pair(&c, fds);
    /* a.txt: 3 bytes + success; missing: local error; then the terminator */
    feed(fds[1], "\x00\x00\x00\x05" "a.txt" "\x00\x00\x00\x04\x0c" "abc" "\x00\x00\x00\x01\x00", 22);
    feed(fds[1], "\x00\x00\x00\x01" "b" "\x00\x00\x00\x04\x06" "err" "\x00\x00\x00\x00", 17);
    assert_int_equal(emu_dl_recv_files(&c, count_files, &s), 0);
    assert_int_equal(s.begins, 2);
    assert_int_equal(s.oks, 1);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.bytes, 3);
    close(fds[1]);
    close(fds[0]);
}

static void test_dl_recv_files_malformed(void **state)
{
    (void)state;
    emu_conn_t c;
    int fds[2];
    files_seen_t s = {0};
    conn_pair(&c, fds);
    feed(fds[1], "\x00\x10\x00\x00", 4); /* a 1 MiB path */
    assert_int_equal(emu_dl_recv_files(&c, count_files, &s), FERRY_EFORMAT);
    close(fds[1]);
    close(fds[0]);

    conn_pair(&c, fds);
    feed(fds[1], "\x00\x00\x00\x01" "a" "\xff\xff\xff\xff", 9); /* a 4 GiB block */
    assert_int_equal(emu_dl_recv_files(&c, count_files, &s), FERRY_EFORMAT);
    close(fds[1]);
    close(fds[0]);

    conn_pair(&c, fds);
    feed(fds[1], "\x00\x00\x00\x03" "a\0b", 7); /* NUL in a path */
    assert_int_equal(emu_dl_recv_files(&c, count_files, &s), FERRY_EFORMAT);
    close(fds[1]);
    close(fds[0]);

    conn_pair(&c, fds);
    feed(fds[1], "\x00\x00\x00\x01" "a" "\x00\x00\x00\x09\x0c" "abc", 12); /* truncated */
    close(fds[1]);
    assert_int_equal(emu_dl_recv_files(&c, count_files, &s), FERRY_EIO);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usbmux_header),
        cmocka_unit_test(test_usbmux_header_malformed),
        cmocka_unit_test(test_usbmux_port),
        cmocka_unit_test(test_plist_length),
        cmocka_unit_test(test_plist_frame_roundtrip),
        cmocka_unit_test(test_plist_recv_garbage),
        cmocka_unit_test(test_dl_parse),
        cmocka_unit_test(test_dl_status),
        cmocka_unit_test(test_dl_recv_files),
        cmocka_unit_test(test_dl_recv_files_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
