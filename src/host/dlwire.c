/*
 * dlwire.c: DeviceLink on the mobilebackup2 service connection, with a deadline on every wait
 * (spec/device-protocol.md §10.1-§10.4): u32BE-length-framed binary plists (libplist writes and parses
 * them), the raw bytes of file transfers in between, the DeviceLink version exchange, mobilebackup2's
 * Hello, requests, status responses and the closing DLMessageDisconnect. It speaks the same bytes as
 * libimobiledevice's mobilebackup2_* functions, over libimobiledevice's service layer, because those
 * functions wait 30 s per receive (and longer in practice) whatever the caller's deadline: here each
 * receive waits in slices of at most one second, so the deadline (opts->timeout_ms without a byte from
 * the device), Ctrl-C and a cancel on the device are all noticed within a second, and a closed
 * connection at once. Invariants: a message is at most HOST_WIRE_MAX_MSG bytes; nothing from the
 * device is used before libplist has parsed it and its type is checked.
 */
#include "host_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOST_WIRE_MAX_MSG (32u << 20)
#define SLICE_MS 1000
#define EMPTY "___EmptyParameterString___"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int check_stop(host_wire_t *w, const char *step)
{
    if (w->device_cancel && *w->device_cancel)
        return ferry_error_set(FERRY_ECANCELED, "device %s: the sync was canceled on the device while %s", w->udid,
                               step);
    return host_check_cancel(w->opts, w->udid, step);
}

int host_wire_recv(host_wire_t *w, void *buf, size_t len, const char *step)
{
    if (!w->svc)
        return ferry_error_set(FERRY_EIO, "device %s: not connected while %s", w->udid, step);
    size_t got = 0;
    uint64_t tmo = (uint64_t)host_timeout_ms(w->opts), idle_since = now_ms();
    if (w->rpos < w->rlen) {
        size_t k = w->rlen - w->rpos < len ? w->rlen - w->rpos : len;
        memcpy(buf, w->rbuf + w->rpos, k);
        w->rpos += (uint32_t)k;
        got = k;
    }
    while (got < len) {
        int rc = check_stop(w, step);
        if (rc)
            return rc;
        uint64_t waited = now_ms() - idle_since;
        if (waited >= tmo) {
            w->dead = 1;
            return ferry_error_set(FERRY_ETIMEOUT, "device %s: no answer for %llu s while %s: check that the device is "
                                   "connected and unlocked, then run again (or raise --timeout)", w->udid,
                                   (unsigned long long)(tmo / 1000), step);
        }
        unsigned slice = (unsigned)(tmo - waited < SLICE_MS ? tmo - waited : SLICE_MS);
        size_t want = len - got > (1u << 20) ? (1u << 20) : len - got;
        /* a short read goes through the buffer and takes whatever else has arrived with it */
        int buffered = want < sizeof w->rbuf;
        char *dst = buffered ? (char *)w->rbuf : (char *)buf + got;
        uint32_t r = 0;
        service_error_t e = service_receive_with_timeout(w->svc, dst, buffered ? (uint32_t)sizeof w->rbuf : (uint32_t)want,
                                                         &r, slice);
        if (r > 0 && buffered) {
            size_t k = r < want ? r : want;
            memcpy((char *)buf + got, w->rbuf, k);
            w->rpos = (uint32_t)k;
            w->rlen = r;
            got += k;
            idle_since = now_ms();
        } else if (r > 0) {
            got += r;
            idle_since = now_ms();
        } else if (e != SERVICE_E_TIMEOUT && e != SERVICE_E_SUCCESS) {
            w->dead = 1;
            return ferry_error_set(FERRY_EIO, "device %s: the connection closed while %s: the device was "
                                   "disconnected, locked or restarted; reconnect it and run again", w->udid, step);
        }
    }
    return 0;
}

int host_wire_send(host_wire_t *w, const void *buf, size_t len, const char *step)
{
    size_t sent = 0;
    while (w->svc && sent < len) {
        uint32_t r = 0;
        size_t want = len - sent > (1u << 20) ? (1u << 20) : len - sent;
        service_error_t e = service_send(w->svc, (const char *)buf + sent, (uint32_t)want, &r);
        if (e != SERVICE_E_SUCCESS || r == 0)
            break;
        sent += r;
    }
    if (sent < len) {
        w->dead = 1;
        return ferry_error_set(FERRY_EIO, "device %s: the connection failed while %s: the device was disconnected",
                               w->udid, step);
    }
    return 0;
}

int host_wire_send_plist(host_wire_t *w, plist_t p, const char *step)
{
    char *bin = NULL;
    uint32_t n = 0;
    plist_to_bin(p, &bin, &n);
    if (!bin || n == 0) {
        free(bin);
        return ferry_error_set(FERRY_ENOMEM, "cannot encode a message for device %s", w->udid);
    }
    uint8_t *frame = malloc((size_t)n + 4);
    if (!frame) {
        free(bin);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    frame[0] = (uint8_t)(n >> 24);
    frame[1] = (uint8_t)(n >> 16);
    frame[2] = (uint8_t)(n >> 8);
    frame[3] = (uint8_t)n;
    memcpy(frame + 4, bin, n);
    ferry_wipe(bin, n); /* requests may carry a password */
    free(bin);
    int rc = host_wire_send(w, frame, (size_t)n + 4, step);
    ferry_wipe(frame, (size_t)n + 4);
    free(frame);
    return rc;
}

int host_wire_recv_dl(host_wire_t *w, plist_t *msg, char **name, const char *step)
{
    *msg = NULL;
    *name = NULL;
    uint8_t h[4];
    int rc = host_wire_recv(w, h, 4, step);
    if (rc)
        return rc;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n == 0 || n > HOST_WIRE_MAX_MSG)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a message of %u bytes (at most %u) while %s", w->udid, n,
                               HOST_WIRE_MAX_MSG, step);
    uint8_t *data = malloc(n);
    if (!data)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    rc = host_wire_recv(w, data, n, step);
    if (!rc)
        rc = ferry_plist_parse(data, n, msg, "a DeviceLink message");
    free(data);
    if (rc)
        return rc;
    char *s = plist_get_node_type(*msg) == PLIST_ARRAY && plist_array_get_size(*msg) >= 1
                  ? ferry_plist_string_dup(plist_array_get_item(*msg, 0)) : NULL;
    if (!s || strncmp(s, "DL", 2) != 0) {
        free(s);
        plist_free(*msg);
        *msg = NULL;
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a message that is not a DeviceLink message while %s",
                               w->udid, step);
    }
    *name = s;
    return 0;
}

/* Overwrites every string of a message before it is freed: requests may carry passwords. */
static void wipe_strings(plist_t node, int depth)
{
    if (!node || depth > 8)
        return;
    plist_type t = plist_get_node_type(node);
    if (t == PLIST_STRING) {
        uint64_t len = 0;
        const char *p = plist_get_string_ptr(node, &len);
        if (p)
            ferry_wipe((void *)p, (size_t)len);
    } else if (t == PLIST_ARRAY) {
        for (uint32_t i = 0; i < plist_array_get_size(node); i++)
            wipe_strings(plist_array_get_item(node, i), depth + 1);
    } else if (t == PLIST_DICT) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(node, &it);
        for (;;) {
            char *k = NULL;
            plist_t v = NULL;
            plist_dict_next_item(node, it, &k, &v);
            if (!k)
                break;
            free(k);
            wipe_strings(v, depth + 1);
        }
        free(it);
    }
}

static int send_array2(host_wire_t *w, const char *name, plist_t second, const char *step)
{
    plist_t a = plist_new_array();
    plist_array_append_item(a, plist_new_string(name));
    plist_array_append_item(a, second);
    int rc = host_wire_send_plist(w, a, step);
    wipe_strings(second, 0);
    plist_free(a);
    return rc;
}

int host_wire_process_message(host_wire_t *w, plist_t dict)
{
    return send_array2(w, "DLMessageProcessMessage", plist_copy(dict), "sending a request");
}

int host_wire_status(host_wire_t *w, int64_t code, const char *s1, plist_t s2)
{
    plist_t a = plist_new_array();
    plist_array_append_item(a, plist_new_string("DLMessageStatusResponse"));
    plist_array_append_item(a, plist_new_uint((uint64_t)code)); /* negative codes as two's complement */
    plist_array_append_item(a, plist_new_string(s1 ? s1 : EMPTY));
    plist_array_append_item(a, s2 ? plist_copy(s2) : plist_new_string(EMPTY));
    int rc = host_wire_send_plist(w, a, "sending a status response");
    plist_free(a);
    return rc;
}

int host_wire_request(host_wire_t *w, const char *request, const char *target, const char *source, plist_t options)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "MessageName", plist_new_string(request));
    plist_dict_set_item(d, "TargetIdentifier", plist_new_string(target));
    if (source)
        plist_dict_set_item(d, "SourceIdentifier", plist_new_string(source));
    if (options)
        plist_dict_set_item(d, "Options", plist_copy(options));
    int rc = send_array2(w, "DLMessageProcessMessage", d, "sending a request");
    return rc;
}

/* ["DLMessageVersionExchange", major, minor] -> DLVersionsOk -> ["DLMessageDeviceReady"] (§10.2). */
static int version_exchange(host_wire_t *w)
{
    plist_t m = NULL;
    char *name = NULL;
    int rc = host_wire_recv_dl(w, &m, &name, "waiting for the DeviceLink version exchange");
    uint64_t major = 0;
    if (!rc) {
        plist_t v = plist_array_get_size(m) >= 3 ? plist_array_get_item(m, 1) : NULL;
        if (strcmp(name, "DLMessageVersionExchange") || !v || plist_get_node_type(v) != PLIST_UINT)
            rc = ferry_error_set(FERRY_EFORMAT, "device %s did not start with a DeviceLink version exchange", w->udid);
        else
            plist_get_uint_val(v, &major);
    }
    plist_free(m);
    free(name);
    m = NULL;
    name = NULL;
    if (!rc && (major == 0 || major > 400))
        rc = ferry_error_set(FERRY_EUNSUPPORTED, "device %s speaks DeviceLink version %llu (ferry knows up to 400)",
                             w->udid, (unsigned long long)major);
    if (rc)
        return rc;
    plist_t a = plist_new_array();
    plist_array_append_item(a, plist_new_string("DLMessageVersionExchange"));
    plist_array_append_item(a, plist_new_string("DLVersionsOk"));
    plist_array_append_item(a, plist_new_uint(major));
    rc = host_wire_send_plist(w, a, "answering the version exchange");
    plist_free(a);
    if (!rc)
        rc = host_wire_recv_dl(w, &m, &name, "waiting for DLMessageDeviceReady");
    if (!rc && strcmp(name, "DLMessageDeviceReady"))
        rc = ferry_error_set(FERRY_EFORMAT, "device %s sent %.64s instead of DLMessageDeviceReady", w->udid, name);
    plist_free(m);
    free(name);
    return rc;
}

/* mobilebackup2's Hello with protocol versions 2.0 and 2.1 (§10.3). */
static int hello(host_wire_t *w)
{
    plist_t d = plist_new_dict(), v = plist_new_array();
    plist_array_append_item(v, plist_new_real(2.0));
    plist_array_append_item(v, plist_new_real(2.1));
    plist_dict_set_item(d, "MessageName", plist_new_string("Hello"));
    plist_dict_set_item(d, "SupportedProtocolVersions", v);
    int rc = send_array2(w, "DLMessageProcessMessage", d, "saying Hello");
    plist_t m = NULL;
    char *name = NULL;
    if (!rc)
        rc = host_wire_recv_dl(w, &m, &name, "waiting for the answer to Hello");
    plist_t r = !rc && plist_array_get_size(m) >= 2 ? plist_array_get_item(m, 1) : NULL;
    char *mn = r && plist_get_node_type(r) == PLIST_DICT ? ferry_plist_string_dup(plist_dict_get_item(r, "MessageName"))
                                                         : NULL;
    int64_t code = -1;
    if (!rc && (strcmp(name, "DLMessageProcessMessage") || !mn || strcmp(mn, "Response")))
        rc = ferry_error_set(FERRY_EFORMAT, "device %s did not answer Hello with a Response", w->udid);
    else if (!rc && ferry_plist_get_int(r, "ErrorCode", &code))
        rc = ferry_error_set(FERRY_EFORMAT, "device %s answered Hello without an ErrorCode", w->udid);
    else if (!rc && code == 1)
        rc = ferry_error_set(FERRY_EUNSUPPORTED, "device %s speaks no mobilebackup2 version ferry knows (2.0, 2.1)",
                             w->udid);
    else if (!rc && code != 0)
        rc = ferry_error_set(FERRY_EDEVICE, "device %s refused Hello (ErrorCode %lld)", w->udid, (long long)code);
    free(mn);
    free(name);
    plist_free(m);
    return rc;
}

int host_wire_open(host_wire_t *w, idevice_t dev, lockdownd_service_descriptor_t svc)
{
    w->rpos = w->rlen = 0;
    if (service_client_new(dev, svc, &w->svc) != SERVICE_E_SUCCESS) {
        w->svc = NULL;
        return ferry_error_set(FERRY_EIO, "device %s: cannot connect to its backup service: reconnect it", w->udid);
    }
    int rc = version_exchange(w);
    return rc ? rc : hello(w);
}

void host_wire_close(host_wire_t *w)
{
    if (!w->svc)
        return;
    plist_t a = plist_new_array();
    plist_array_append_item(a, plist_new_string("DLMessageDisconnect"));
    plist_array_append_item(a, plist_new_string(EMPTY));
    char *bin = NULL;
    uint32_t n = 0;
    plist_to_bin(a, &bin, &n);
    plist_free(a);
    if (bin && n) { /* best effort: the device may already be gone */
        uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        uint32_t s = 0;
        if (service_send(w->svc, (const char *)h, 4, &s) == SERVICE_E_SUCCESS && s == 4)
            service_send(w->svc, bin, n, &s);
    }
    free(bin);
    service_client_free(w->svc);
    w->svc = NULL;
    w->rpos = w->rlen = 0;
}
