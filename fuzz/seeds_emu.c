/*
 * seeds_emu.c: the seeds of the emulator targets (usbmux, lockdown, afc, devicelink): the byte
 * streams a libimobiledevice host writes, built message by message in the formats of
 * spec/device-protocol.md: usbmuxd's 16-byte little-endian headers with XML bodies, lockdownd's and
 * DeviceLink's u32BE-framed plists, AFC's 40-byte CFA6LPAA packets. Lockdown sessions use the HostID
 * the fuzzed device trusts (fuzz_emu.h) and mobilebackup2 requests its UDID, so that the seeds reach
 * past the checks into the handlers. Also the byte-buffer helpers of seeds.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_emu.h"
#include "seeds.h"
#include "ferry/device.h"

/* ---- seeds.h buffers ------------------------------------------------------------------------------ */

void sb_add(sbuf_t *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + len)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

void sb_u8(sbuf_t *b, uint8_t v) { sb_add(b, &v, 1); }

void sb_u16le(sbuf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    sb_add(b, x, 2);
}

void sb_u32be(sbuf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    sb_add(b, x, 4);
}

void sb_u32le(sbuf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sb_add(b, x, 4);
}

void sb_u64le(sbuf_t *b, uint64_t v)
{
    sb_u32le(b, (uint32_t)v);
    sb_u32le(b, (uint32_t)(v >> 32));
}

void sb_framed(sbuf_t *b, plist_t p, int xml)
{
    char *body = NULL;
    uint32_t n = 0;
    if (xml)
        plist_to_xml(p, &body, &n);
    else
        plist_to_bin(p, &body, &n);
    sb_u32be(b, n);
    sb_add(b, body, n);
    free(body);
    plist_free(p);
}

void sb_put(sbuf_t *b, const char *name)
{
    seed_put(name, b->p, b->len);
    b->len = 0;
}

/* ---- plists ---------------------------------------------------------------------------------------- */

/* A dict of string values: key, value, ..., NULL. */
static plist_t sdict(const char *k, ...)
{
    plist_t d = plist_new_dict();
    va_list ap;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *))
        plist_dict_set_item(d, k, plist_new_string(va_arg(ap, const char *)));
    va_end(ap);
    return d;
}

static char *fuzz_udid(void)
{
    char *dir = fuzz_path("seed-device");
    ferry_device_t *dev = NULL;
    char *udid = NULL;
    if (fuzz_emu_make_device(dir) == 0 && ferry_device_load(dir, &dev) == 0)
        udid = strdup(dev->UniqueDeviceID);
    ferry_device_free(dev);
    free(dir);
    return udid ? udid : strdup("00008030-000000000000001E");
}

/* ---- lockdownd ----------------------------------------------------------------------------------- */

static void lockdown_session(sbuf_t *b, const char *service)
{
    plist_t s = sdict("Request", "StartSession", "HostID", FUZZ_HOST_ID, "SystemBUID", "FUZZ-BUID", NULL);
    plist_dict_set_item(s, "Label", plist_new_string("idevicebackup2"));
    sb_framed(b, s, 1);
    sb_framed(b, sdict("Request", "StartService", "Service", service, "Label", "fuzz", NULL), 1);
}

static void lockdown_stream(sbuf_t *b, int variant)
{
    switch (variant) {
    case 0:
        sb_framed(b, sdict("Request", "QueryType", "Label", "fuzz", NULL), 1);
        sb_framed(b, sdict("Request", "GetValue", NULL), 1);
        sb_framed(b, sdict("Request", "GetValue", "Domain", "com.apple.mobile.backup", "Key", "WillEncrypt", NULL), 1);
        sb_framed(b, sdict("Request", "GetValue", "Key", "ProductVersion", NULL), 1);
        sb_framed(b, sdict("Request", "GetValue", "Domain", "com.apple.disk_usage", NULL), 0);
        sb_framed(b, sdict("Request", "GetValue", "Domain", "no.such.domain", NULL), 1);
        sb_framed(b, sdict("Request", "Goodbye", NULL), 1);
        break;
    case 1:
        lockdown_session(b, "com.apple.mobilebackup2");
        sb_framed(b, sdict("Request", "StartService", "Service", "com.apple.afc", NULL), 1);
        sb_framed(b, sdict("Request", "StartService", "Service", "com.apple.nothing", NULL), 1);
        sb_framed(b, sdict("Request", "SetValue", "Domain", "com.apple.mobile.backup", "Key", "X", NULL), 1);
        sb_framed(b, sdict("Request", "StopSession", "SessionID", "x", NULL), 1);
        sb_framed(b, sdict("Request", "StopSession", NULL), 1);
        break;
    case 2: {
        plist_t rec = sdict("HostID", FUZZ_HOST_ID, "SystemBUID", "FUZZ-BUID", NULL);
        plist_dict_set_item(rec, "DeviceCertificate", plist_new_data("-----BEGIN CERTIFICATE-----\n", 28));
        plist_t pr = sdict("Request", "Pair", NULL);
        plist_dict_set_item(pr, "PairRecord", rec);
        sb_framed(b, pr, 1);
        plist_t vp = sdict("Request", "ValidatePair", NULL);
        plist_dict_set_item(vp, "PairRecord", sdict("HostID", FUZZ_HOST_ID, NULL));
        sb_framed(b, vp, 1);
        plist_t up = sdict("Request", "Unpair", NULL);
        plist_dict_set_item(up, "PairRecord", sdict("HostID", "OTHER-HOST", NULL));
        sb_framed(b, up, 0);
        sb_framed(b, sdict("Request", "StartSession", "HostID", "UNKNOWN", NULL), 1);
        sb_framed(b, sdict("Request", "NoSuchRequest", NULL), 1);
        sb_framed(b, sdict("NoRequest", "x", NULL), 1);
        break;
    }
    }
}

void seeds_lockdown(void)
{
    sbuf_t b = {0};
    for (int v = 0; v < 3; v++) {
        lockdown_stream(&b, v);
        sb_put(&b, "lockdown");
    }
    sb_framed(&b, plist_new_array(), 1); /* not a dict: the connection ends */
    sb_put(&b, "lockdown-array");
    free(b.p);
}

/* ---- AFC ------------------------------------------------------------------------------------------- */

static uint64_t afc_num;

static void afc_packet(sbuf_t *b, uint64_t op, const void *hd, size_t hlen, const void *pl, size_t plen)
{
    sb_add(b, "CFA6LPAA", 8);
    sb_u64le(b, 40 + hlen + plen);
    sb_u64le(b, 40 + hlen);
    sb_u64le(b, afc_num++);
    sb_u64le(b, op);
    sb_add(b, hd, hlen);
    sb_add(b, pl, plen);
}

static void afc_path(sbuf_t *b, uint64_t op, const char *path)
{
    afc_packet(b, op, path, strlen(path) + 1, NULL, 0);
}

static void afc_u64s(sbuf_t *b, uint64_t op, uint64_t x, uint64_t y, int n, const void *pl, size_t plen)
{
    uint8_t hd[16];
    for (int i = 0; i < 8; i++) {
        hd[i] = (uint8_t)(x >> (8 * i));
        hd[8 + i] = (uint8_t)(y >> (8 * i));
    }
    afc_packet(b, op, hd, (size_t)n * 8, pl, plen);
}

static void afc_open(sbuf_t *b, uint64_t mode, const char *path)
{
    uint8_t hd[64] = {0};
    for (int i = 0; i < 8; i++)
        hd[i] = (uint8_t)(mode >> (8 * i));
    size_t n = strlen(path);
    memcpy(hd + 8, path, n);
    afc_packet(b, 0x0D, hd, 8 + n + 1, NULL, 0);
}

static void afc_stream(sbuf_t *b, int variant)
{
    afc_num = 0;
    if (variant == 0) {
        afc_packet(b, 0x0B, NULL, 0, NULL, 0);                 /* GET_DEVINFO */
        afc_path(b, 0x09, "Books");                            /* MAKE_DIR */
        afc_path(b, 0x09, "Books/Sync");
        afc_open(b, 3, "Books/Sync/com.apple.itunes.lock_sync"); /* rw, create */
        afc_u64s(b, 0x1B, 1, 2 | 4, 2, NULL, 0);                /* LOCK ex|nb */
        afc_u64s(b, 0x10, 1, 0, 1, "hello, device", 13);        /* FILE_WRITE */
        afc_u64s(b, 0x11, 1, 0, 2, NULL, 0);                    /* FILE_SEEK */
        afc_packet(b, 0x12, "\x01\0\0\0\0\0\0\0", 8, NULL, 0);  /* FILE_TELL */
        afc_u64s(b, 0x0F, 1, 64, 2, NULL, 0);                   /* FILE_READ */
        afc_u64s(b, 0x1B, 1, 8, 2, NULL, 0);                    /* LOCK unlock */
        afc_packet(b, 0x14, "\x01\0\0\0\0\0\0\0", 8, NULL, 0);  /* FILE_CLOSE */
        afc_path(b, 0x0A, "Books/Sync/com.apple.itunes.lock_sync"); /* GET_FILE_INFO */
        afc_path(b, 0x03, "Books/Sync");                       /* READ_DIR */
        afc_path(b, 0x08, "Books/Sync/com.apple.itunes.lock_sync"); /* REMOVE_PATH */
    } else if (variant == 1) {
        afc_path(b, 0x0A, "../../etc/passwd");
        afc_path(b, 0x03, "/");
        afc_open(b, 1, "missing");
        afc_u64s(b, 0x0F, 9, 16, 2, NULL, 0);
        afc_packet(b, 0x99, NULL, 0, NULL, 0);
    } else {
        afc_open(b, 5, "x"); /* wr|create|trunc */
        afc_u64s(b, 0x10, 1, 0, 1, "0123456789abcdef0123456789abcdef", 32);
        afc_u64s(b, 0x11, 1, 2, 2, NULL, 0);
        afc_packet(b, 0x14, "\x01\0\0\0\0\0\0\0", 8, NULL, 0);
        afc_open(b, 1, "x");
        afc_u64s(b, 0x0F, 1, 1u << 20, 2, NULL, 0);
    }
}

void seeds_afc(void)
{
    sbuf_t b = {0};
    for (int v = 0; v < 3; v++) {
        afc_stream(&b, v);
        sb_put(&b, "afc");
    }
    free(b.p);
}

/* ---- DeviceLink / mobilebackup2 -------------------------------------------------------------------- */

static plist_t dl(const char *name)
{
    plist_t a = plist_new_array();
    plist_array_append_item(a, plist_new_string(name));
    return a;
}

static void dl_versions_ok(sbuf_t *b)
{
    plist_t m = dl("DLMessageVersionExchange");
    plist_array_append_item(m, plist_new_string("DLVersionsOk"));
    plist_array_append_item(m, plist_new_uint(300));
    sb_framed(b, m, 0);
}

static void dl_process(sbuf_t *b, plist_t req)
{
    plist_t m = dl("DLMessageProcessMessage");
    plist_array_append_item(m, req);
    sb_framed(b, m, 0);
}

static void dl_status(sbuf_t *b, int64_t code)
{
    plist_t m = dl("DLMessageStatusResponse");
    plist_array_append_item(m, plist_new_uint((uint64_t)code));
    plist_array_append_item(m, plist_new_string(code ? "error" : "___EmptyParameterString___"));
    plist_array_append_item(m, plist_new_dict());
    sb_framed(b, m, 0);
}

static void dl_hello(sbuf_t *b)
{
    plist_t h = sdict("MessageName", "Hello", NULL);
    plist_t v = plist_new_array();
    plist_array_append_item(v, plist_new_real(2.0));
    plist_array_append_item(v, plist_new_real(2.1));
    plist_dict_set_item(h, "SupportedProtocolVersions", v);
    dl_process(b, h);
}

/* A host -> device file of the raw stream (§10.6.1): path, one data block, success. */
static void dl_file(sbuf_t *b, const char *path, const char *data)
{
    sb_u32be(b, (uint32_t)strlen(path));
    sb_add(b, path, strlen(path));
    sb_u32be(b, (uint32_t)strlen(data) + 1);
    sb_u8(b, 0x0C);
    sb_add(b, data, strlen(data));
    sb_u32be(b, 1);
    sb_u8(b, 0x00);
}

static void devicelink_stream(sbuf_t *b, int variant, const char *udid)
{
    dl_versions_ok(b);
    dl_hello(b);
    plist_t opts = plist_new_dict();
    switch (variant) {
    case 0:
        dl_process(b, sdict("MessageName", "Info", "TargetIdentifier", udid, NULL));
        dl_process(b, sdict("MessageName", "List", "TargetIdentifier", udid, NULL));
        dl_process(b, sdict("MessageName", "NoSuchRequest", NULL));
        dl_process(b, sdict("NoName", "x", NULL));
        sb_framed(b, dl("DLMessageDisconnect"), 0);
        break;
    case 1: {
        plist_t r = sdict("MessageName", "Backup", "TargetIdentifier", udid, "SourceIdentifier", udid, NULL);
        plist_dict_set_item(opts, "ForceFullBackup", plist_new_bool(1));
        plist_dict_set_item(r, "Options", plist_copy(opts));
        dl_process(b, r);
        sb_u32be(b, 0); /* no Status.plist on the host */
        for (int i = 0; i < 6; i++)
            dl_status(b, 0);
        break;
    }
    case 2: {
        plist_t r = sdict("MessageName", "Restore", "TargetIdentifier", udid, "SourceIdentifier", udid, NULL);
        plist_dict_set_item(opts, "RestoreSystemFiles", plist_new_bool(0));
        plist_dict_set_item(opts, "RestoreShouldReboot", plist_new_bool(0));
        plist_dict_set_item(r, "Options", plist_copy(opts));
        dl_process(b, r);
        dl_file(b, "Manifest.plist", "<plist><dict/></plist>");
        sb_u32be(b, 0);
        dl_status(b, 0);
        dl_status(b, -6);
        break;
    }
    case 3: {
        plist_t r = sdict("MessageName", "ChangePassword", "TargetIdentifier", udid, "NewPassword", "fuzz", NULL);
        dl_process(b, r);
        r = sdict("MessageName", "ChangePassword", "TargetIdentifier", udid, "OldPassword", "fuzz", NULL);
        dl_process(b, r);
        r = sdict("MessageName", "EnableCloudBackup", "TargetIdentifier", udid, NULL);
        plist_dict_set_item(r, "CloudBackupState", plist_new_bool(1));
        dl_process(b, r);
        dl_process(b, sdict("MessageName", "Info", "TargetIdentifier", "SOMEONE-ELSE", NULL));
        break;
    }
    }
    plist_free(opts);
}

void seeds_devicelink(void)
{
    char *udid = fuzz_udid();
    sbuf_t b = {0};
    for (int v = 0; v < 4; v++) {
        devicelink_stream(&b, v, udid);
        sb_put(&b, "devicelink");
    }
    plist_t m = dl("DLMessageVersionExchange");
    plist_array_append_item(m, plist_new_string("DLVersionsRefused"));
    sb_framed(&b, m, 0);
    sb_put(&b, "devicelink-refused");
    free(b.p);
    free(udid);
}

/* ---- usbmuxd --------------------------------------------------------------------------------------- */

static void mux(sbuf_t *b, plist_t p, uint32_t tag)
{
    char *xml = NULL;
    uint32_t n = 0;
    plist_to_xml(p, &xml, &n);
    plist_free(p);
    sb_u32le(b, n + 16);
    sb_u32le(b, 1);
    sb_u32le(b, 8);
    sb_u32le(b, tag);
    sb_add(b, xml, n);
    free(xml);
}

static plist_t mux_msg(const char *type)
{
    return sdict("MessageType", type, "ClientVersionString", "fuzz", "ProgName", "fuzz", NULL);
}

static void mux_connect(sbuf_t *b, uint16_t port)
{
    plist_t p = mux_msg("Connect");
    plist_dict_set_item(p, "DeviceID", plist_new_uint(1));
    plist_dict_set_item(p, "PortNumber", plist_new_uint((uint64_t)((port & 0xFF) << 8 | port >> 8)));
    mux(b, p, 9);
}

void seeds_usbmux(void)
{
    sbuf_t b = {0};
    char *udid = fuzz_udid();
    mux(&b, mux_msg("ListDevices"), 1);
    mux(&b, mux_msg("ReadBUID"), 2);
    mux(&b, mux_msg("NoSuchMessage"), 3);
    sb_put(&b, "usbmux-list");
    plist_t s = mux_msg("SavePairRecord");
    plist_dict_set_item(s, "PairRecordID", plist_new_string(udid));
    plist_t rec = sdict("HostID", FUZZ_HOST_ID, "SystemBUID", "FUZZ-BUID", NULL);
    char *bin = NULL;
    uint32_t n = 0;
    plist_to_bin(rec, &bin, &n);
    plist_free(rec);
    plist_dict_set_item(s, "PairRecordData", plist_new_data(bin, n));
    free(bin);
    mux(&b, s, 4);
    plist_t r = mux_msg("ReadPairRecord");
    plist_dict_set_item(r, "PairRecordID", plist_new_string(udid));
    mux(&b, r, 5);
    r = mux_msg("DeletePairRecord");
    plist_dict_set_item(r, "PairRecordID", plist_new_string(udid));
    mux(&b, r, 6);
    sb_put(&b, "usbmux-pair");
    mux(&b, mux_msg("Listen"), 7);
    sb_put(&b, "usbmux-listen");
    mux_connect(&b, 62078);
    lockdown_stream(&b, 1);
    sb_put(&b, "usbmux-lockdown");
    mux_connect(&b, 49201);
    sb_framed(&b, sdict("Command", "ObserveNotification", "Name", "com.apple.itunes-client.syncCancelRequest", NULL), 1);
    sb_framed(&b, sdict("Command", "Shutdown", NULL), 1);
    sb_put(&b, "usbmux-np");
    mux_connect(&b, 49204);
    plist_t bq = sdict("Command", "Browse", NULL);
    plist_dict_set_item(bq, "ClientOptions", sdict("ApplicationType", "User", NULL));
    sb_framed(&b, bq, 1);
    sb_framed(&b, sdict("Command", "Uninstall", NULL), 1);
    sb_put(&b, "usbmux-instproxy");
    mux_connect(&b, 49202);
    afc_stream(&b, 0);
    sb_put(&b, "usbmux-afc");
    mux_connect(&b, 49203);
    devicelink_stream(&b, 0, udid);
    sb_put(&b, "usbmux-mb2");
    mux_connect(&b, 1234);
    sb_put(&b, "usbmux-refused");
    free(b.p);
    free(udid);
}
