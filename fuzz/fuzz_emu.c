/*
 * fuzz_emu.c: the in-memory emulated device of the usbmux, lockdown, afc and devicelink fuzz targets
 * (see fuzz_emu.h). It is made once per process: a small device directory from the fuzz template, a
 * state folder in the scratch folder, a trusted FUZZ_HOST_ID, and tiny KDF counts so that an
 * encrypted backup or a ChangePassword stays fast. Each run checks what any host may rely on: the
 * replies are bounded and, for the framed services, a sequence of well-framed messages.
 */
#include "fuzz_emu.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ferry/device.h"
#include "device/serve_internal.h"

#define OUT_MAX (8u * 1024 * 1024)

static emu_server_t srv;
static int ready;
static char *pair_dir;

int fuzz_emu_make_device(const char *dir)
{
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = FUZZ_EMU_TEMPLATE;
    o.seed = FUZZ_EMU_SEED;
    o.files = 2;
    o.size = 2048;
    return ferry_device_create(dir, &o);
}

static void setup(void)
{
    char *dev = fuzz_path("device"), *state = fuzz_path("state");
    if (fuzz_emu_make_device(dev) != 0) {
        fprintf(stderr, "fuzz: cannot create the device: %s\n", ferry_error_last());
        abort();
    }
    ferry_serve_opts_t o;
    memset(&o, 0, sizeof o);
    o.state_dir = state;
    o.kdf_dpic = 1;
    const char *dirs[] = {dev};
    if (emu_server_open(&srv, dirs, 1, &o) != 0 || emu_host_trust(srv.devs[0], FUZZ_HOST_ID, 1) != 0) {
        fprintf(stderr, "fuzz: cannot set up the emulated device: %s\n", ferry_error_last());
        abort();
    }
    pair_dir = ferry_path_join(state, "pair");
    free(dev);
    free(state);
    ready = 1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return ftw->level == 0 ? 0 : remove(path);
}

/* Empties dir, keeping it. */
static void empty_dir(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* u32BE-framed plists one after another (lockdownd, notification_proxy, installation_proxy,
 * mobilebackup2 messages): every length must be in range and every body must parse. */
static void check_framed(const uint8_t *out, size_t len, int raw_ok)
{
    size_t pos = 0;
    while (pos + 4 <= len) {
        uint32_t n = 0;
        if (emu_plist_length(out + pos, &n) != 0) {
            if (raw_ok)
                return; /* DeviceLink file blocks follow in the raw stream */
            fuzz_fail("the device framed a reply with a bad length");
        }
        if (n > len - pos - 4)
            fuzz_fail("the device framed a reply longer than what it wrote");
        plist_t p = NULL;
        if (ferry_plist_parse(out + pos + 4, n, &p, "reply") != 0) {
            if (raw_ok)
                return;
            fuzz_fail("the device sent a reply that does not parse");
        }
        plist_free(p);
        pos += 4 + n;
    }
    if (pos != len && !raw_ok)
        fuzz_fail("the device wrote a partial reply frame");
}

void fuzz_emu_run(const char *service, const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    uint8_t *out = NULL;
    size_t len = 0;
    if (emu_serve_bytes(&srv, service, data, size, OUT_MAX, &out, &len) != 0)
        fuzz_fail("emu_serve_bytes refused a known service");
    if (len > OUT_MAX)
        fuzz_fail("the device wrote more than the cap");
    fuzz_touch(out, len);
    if (!strcmp(service, "lockdownd"))
        check_framed(out, len, 0);
    else if (!strcmp(service, "mobilebackup2"))
        check_framed(out, len, 1);
    free(out);
    empty_dir(srv.devs[0]->afc_root);
    empty_dir(pair_dir);
    ferry_error_clear();
}
