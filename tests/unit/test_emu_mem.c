/*
 * test_emu_mem.c: emu_serve_bytes (src/device/serve_mem.c), the in-memory `handle(bytes) -> reply`
 * of the emulated device that the fuzz targets drive: lockdownd answers QueryType and, for a trusted
 * HostID, opens a (plain, in memory) session and starts services; usbmuxd lists the device; the input
 * running out ends a service like a closed socket; the reply cap holds; unknown services are refused.
 */
#include "device_tu.h"

#include "../../src/device/serve_internal.h"

#define HOST "11111111-2222-4333-8444-555555555555"

typedef struct {
    dt_dev_t dev;
    char *state;
    emu_server_t srv;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dev = dt_create("ade-iphone", 5);
    assert_true(asprintf(&f->state, "%s/state", f->dev.tmp) > 0);
    ferry_serve_opts_t o;
    memset(&o, 0, sizeof o);
    o.state_dir = f->state;
    o.kdf_dpic = 1;
    const char *dirs[] = {f->dev.dir};
    if (emu_server_open(&f->srv, dirs, 1, &o))
        fail_msg("emu_server_open: %s", ferry_error_last());
    assert_int_equal(emu_host_trust(f->srv.devs[0], HOST, 1), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    emu_server_close(&f->srv);
    dt_done(&f->dev);
    free(f->state);
    free(f);
    return 0;
}

typedef struct {
    uint8_t *p;
    size_t len;
} buf_t;

static void add_framed(buf_t *b, plist_t p)
{
    uint8_t *fr;
    size_t n;
    assert_int_equal(emu_plist_frame(p, 1, &fr, &n), 0);
    plist_free(p);
    b->p = realloc(b->p, b->len + n);
    memcpy(b->p + b->len, fr, n);
    b->len += n;
    free(fr);
}

static plist_t req(const char *request, const char *k, const char *v)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "Request", plist_new_string(request));
    if (k)
        plist_dict_set_item(d, k, plist_new_string(v));
    return d;
}

/* The n-th u32BE-framed reply of out (a new plist), or NULL when there are fewer. */
static plist_t nth_reply(const uint8_t *out, size_t len, int n)
{
    size_t pos = 0;
    for (int i = 0; pos + 4 <= len; i++) {
        uint32_t k = 0;
        assert_int_equal(emu_plist_length(out + pos, &k), 0);
        assert_true(k <= len - pos - 4);
        if (i == n) {
            plist_t p = NULL;
            assert_int_equal(ferry_plist_parse(out + pos + 4, k, &p, "reply"), 0);
            return p;
        }
        pos += 4 + k;
    }
    return NULL;
}

static char *str(plist_t d, const char *key)
{
    char *s = NULL;
    ferry_plist_get_string(d, key, &s);
    return s;
}

static void test_lockdown_in_memory(void **state)
{
    fx_t *f = *state;
    buf_t in = {0};
    add_framed(&in, req("QueryType", NULL, NULL));
    add_framed(&in, req("StartSession", "HostID", HOST));
    add_framed(&in, req("StartService", "Service", "com.apple.afc"));
    add_framed(&in, req("StartSession", "HostID", HOST)); /* twice: refused */
    uint8_t *out;
    size_t len;
    assert_int_equal(emu_serve_bytes(&f->srv, "lockdownd", in.p, in.len, 0, &out, &len), 0);
    plist_t r0 = nth_reply(out, len, 0), r1 = nth_reply(out, len, 1), r2 = nth_reply(out, len, 2),
            r3 = nth_reply(out, len, 3);
    assert_non_null(r3);
    assert_null(nth_reply(out, len, 4)); /* the input ran out: the service ended */
    char *type = str(r0, "Type"), *sid = str(r1, "SessionID"), *err = str(r3, "Error");
    uint64_t port = 0;
    plist_t pn = plist_dict_get_item(r2, "Port");
    assert_non_null(pn);
    plist_get_uint_val(pn, &port);
    assert_string_equal(type, "com.apple.mobile.lockdown");
    assert_non_null(sid);
    assert_int_equal(port, EMU_PORT_AFC);
    assert_string_equal(err, "SessionActive");
    free(type);
    free(sid);
    free(err);
    plist_free(r0);
    plist_free(r1);
    plist_free(r2);
    plist_free(r3);
    free(out);
    free(in.p);
}

static void test_usbmux_in_memory(void **state)
{
    fx_t *f = *state;
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "MessageType", plist_new_string("ListDevices"));
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(p, &xml, &n);
    plist_free(p);
    uint8_t *in = malloc(n + 16);
    uint32_t hdr[4] = {n + 16, 1, 8, 42}; /* little-endian host: the wire order */
    memcpy(in, hdr, 16);
    memcpy(in + 16, xml, n);
    free(xml);
    uint8_t *out;
    size_t len;
    assert_int_equal(emu_serve_bytes(&f->srv, "usbmuxd", in, n + 16, 0, &out, &len), 0);
    emu_usbmux_hdr_t h;
    assert_true(len > 16);
    assert_int_equal(emu_usbmux_parse_header(out, &h), 0);
    assert_int_equal(h.tag, 42);
    assert_int_equal(h.length, len);
    assert_non_null(memmem(out, len, f->srv.devs[0]->udid, strlen(f->srv.devs[0]->udid)));
    free(out);
    free(in);
}

static void test_cap_and_unknown_service(void **state)
{
    fx_t *f = *state;
    buf_t in = {0};
    for (int i = 0; i < 20; i++)
        add_framed(&in, req("GetValue", NULL, NULL));
    uint8_t *out;
    size_t len;
    assert_int_equal(emu_serve_bytes(&f->srv, "lockdownd", in.p, in.len, 3000, &out, &len), 0);
    assert_true(len > 0 && len <= 3000);
    plist_t first = nth_reply(out, len, 0);
    assert_non_null(first);
    plist_free(first);
    free(out);
    assert_int_equal(emu_serve_bytes(&f->srv, "sshd", in.p, in.len, 0, &out, &len), FERRY_EINVAL);
    assert_null(out);
    assert_int_equal(emu_serve_bytes(&f->srv, "lockdownd", NULL, 0, 0, &out, &len), 0);
    assert_int_equal(len, 0);
    free(in.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lockdown_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usbmux_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_and_unknown_service, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
