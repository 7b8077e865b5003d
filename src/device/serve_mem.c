/*
 * serve_mem.c: runs one service of the emulated device on a buffer of host bytes instead of a socket
 * (emu_serve_bytes): the `handle(bytes) -> reply` that the fuzz targets of fuzz/ and the unit tests
 * drive the usbmuxd, lockdownd, AFC, notification_proxy, installation_proxy and mobilebackup2 parsers
 * with. The service code is the one the socket server runs, unchanged; only emu_read/emu_write (which
 * see the in-memory connection) and the session TLS (a no-op in memory) differ. Invariants: nothing is
 * read past the input, an exhausted input ends the service as a closed socket does, and the replies
 * kept are bounded by out_max.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

#define MEM_OUT_MAX (64u * 1024 * 1024)

static const struct {
    const char *name;
    void (*serve)(emu_conn_t *);
    int needs_device;
} services[] = {
    {"usbmuxd", emu_usbmux_serve, 0},
    {"lockdownd", emu_lockdown_serve, 1},
    {"notification_proxy", emu_np_serve, 1},
    {"afc", emu_afc_serve, 1},
    {"mobilebackup2", emu_mb2_serve, 1},
    {"installation_proxy", emu_instproxy_serve, 1},
};

int emu_serve_bytes(emu_server_t *s, const char *service, const uint8_t *in, size_t len, size_t out_max,
                    uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t i = 0;
    while (i < sizeof services / sizeof services[0] && strcmp(services[i].name, service))
        i++;
    if (i == sizeof services / sizeof services[0])
        return ferry_error_set(FERRY_EINVAL, "no emulated service is called %s", service);
    if (services[i].needs_device && s->ndevs == 0)
        return ferry_error_set(FERRY_EINVAL, "%s needs a served device", service);
    emu_mem_t m = {.in = in, .in_len = len, .out_max = out_max ? out_max : MEM_OUT_MAX};
    emu_conn_t c = {.fd = -1, .mem = &m, .srv = s, .what = services[i].name};
    if (services[i].needs_device)
        c.dev = s->devs[0];
    services[i].serve(&c);
    emu_tls_close(&c);
    *out = m.out;
    *out_len = m.out_len;
    return 0;
}
