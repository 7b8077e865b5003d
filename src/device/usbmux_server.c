/*
 * usbmux_server.c: the usbmuxd side of the emulator (§4): the plist protocol, version 1, that
 * libusbmuxd 2.0.2 speaks. Each request arrives on a new connection; replies are XML plists with the
 * 16-byte little-endian header, sent with one write together with their header (§4.3). After a
 * successful Connect the same socket becomes the byte stream of the device service on that port, so
 * this file hands the connection to the service and returns when the service is done. Anything that
 * is not a well-formed version-1 plist message closes the connection; the server itself carries on.
 */
#include "serve_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USBMUX_MAX_PACKET (1u << 20)
#define USBMUX_MSG_PLIST 8

enum { RESULT_OK = 0, RESULT_BADCOMMAND = 1, RESULT_BADDEV = 2, RESULT_CONNREFUSED = 3 };

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

int emu_usbmux_parse_header(const uint8_t b[16], emu_usbmux_hdr_t *h)
{
    h->length = le32(b);
    h->version = le32(b + 4);
    h->message = le32(b + 8);
    h->tag = le32(b + 12);
    if (h->length < 16 || h->length > USBMUX_MAX_PACKET)
        return ferry_error_set(FERRY_EFORMAT, "usbmuxd: packet length %u refused (16..%u)", h->length,
                               USBMUX_MAX_PACKET);
    if (h->version != 1 || h->message != USBMUX_MSG_PLIST)
        return ferry_error_set(FERRY_EFORMAT, "usbmuxd: version %u message %u: only the plist protocol "
                               "(version 1, message 8) is served", h->version, h->message);
    return 0;
}

uint16_t emu_usbmux_port(uint64_t n)
{
    return (uint16_t)(((n & 0xFF) << 8) | ((n >> 8) & 0xFF));
}

static int send_reply(emu_conn_t *c, uint32_t tag, plist_t p)
{
    char *xml = NULL;
    uint32_t xlen = 0;
    plist_to_xml(p, &xml, &xlen);
    if (!xml)
        return ferry_error_set(FERRY_EFORMAT, "usbmuxd: cannot serialise a reply");
    uint8_t *buf = malloc((size_t)xlen + 16);
    if (!buf) {
        free(xml);
        return ferry_error_set(FERRY_ENOMEM, "usbmuxd: out of memory");
    }
    put_le32(buf, xlen + 16);
    put_le32(buf + 4, 1);
    put_le32(buf + 8, USBMUX_MSG_PLIST);
    put_le32(buf + 12, tag);
    memcpy(buf + 16, xml, xlen);
    free(xml);
    int rc = emu_write(c, buf, (size_t)xlen + 16);
    free(buf);
    return rc;
}

static int send_result(emu_conn_t *c, uint32_t tag, int number)
{
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "MessageType", plist_new_string("Result"));
    plist_dict_set_item(p, "Number", plist_new_uint((uint64_t)number));
    int rc = send_reply(c, tag, p);
    plist_free(p);
    return rc;
}

static plist_t device_entry(const emu_device_t *d)
{
    plist_t props = plist_new_dict();
    plist_dict_set_item(props, "ConnectionSpeed", plist_new_uint(480000000));
    plist_dict_set_item(props, "ConnectionType", plist_new_string("USB"));
    plist_dict_set_item(props, "DeviceID", plist_new_uint((uint64_t)d->id));
    plist_dict_set_item(props, "LocationID", plist_new_uint(0));
    plist_dict_set_item(props, "ProductID", plist_new_uint(4776));
    plist_dict_set_item(props, "SerialNumber", plist_new_string(d->udid));
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "DeviceID", plist_new_uint((uint64_t)d->id));
    plist_dict_set_item(e, "MessageType", plist_new_string("Attached"));
    plist_dict_set_item(e, "Properties", props);
    return e;
}

static int list_devices(emu_conn_t *c, uint32_t tag)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < c->srv->ndevs; i++)
        if (!atomic_load(&c->srv->devs[i]->rebooting))
            plist_array_append_item(arr, device_entry(c->srv->devs[i]));
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "DeviceList", arr);
    int rc = send_reply(c, tag, p);
    plist_free(p);
    return rc;
}

/* Listen subscribers: events are written under this lock, so that an event never interleaves with
 * another on the same socket. */
#define MAX_LISTENERS 64
static pthread_mutex_t listeners_lock = PTHREAD_MUTEX_INITIALIZER;
static emu_conn_t *listeners[MAX_LISTENERS];
static size_t nlisteners;

void emu_usbmux_notify(emu_device_t *d, int attached)
{
    plist_t e;
    if (attached) {
        e = device_entry(d);
    } else {
        e = plist_new_dict();
        plist_dict_set_item(e, "DeviceID", plist_new_uint((uint64_t)d->id));
        plist_dict_set_item(e, "MessageType", plist_new_string("Detached"));
    }
    pthread_mutex_lock(&listeners_lock);
    for (size_t i = 0; i < nlisteners; i++)
        if (listeners[i]->srv == d->srv && send_reply(listeners[i], 0, e))
            ferry_error_clear(); /* that subscriber is gone; its thread removes it */
    pthread_mutex_unlock(&listeners_lock);
    plist_free(e);
}

/* Listen: Result 0, one Attached event per device, then the subscriber keeps the socket and gets the
 * Detached/Attached events of devices that reboot (emu_usbmux_notify) until it closes. */
static void listen_events(emu_conn_t *c, uint32_t tag)
{
    pthread_mutex_lock(&listeners_lock);
    int rc = send_result(c, tag, RESULT_OK);
    for (size_t i = 0; !rc && i < c->srv->ndevs; i++) {
        if (atomic_load(&c->srv->devs[i]->rebooting))
            continue;
        plist_t e = device_entry(c->srv->devs[i]);
        rc = send_reply(c, 0, e);
        plist_free(e);
    }
    int listed = !rc && nlisteners < MAX_LISTENERS;
    if (listed)
        listeners[nlisteners++] = c;
    pthread_mutex_unlock(&listeners_lock);
    if (rc)
        return;
    uint8_t sink[256];
    while (recv(c->fd, sink, sizeof sink, 0) > 0)
        ;
    pthread_mutex_lock(&listeners_lock);
    for (size_t i = 0; listed && i < nlisteners; i++)
        if (listeners[i] == c) {
            listeners[i] = listeners[--nlisteners];
            break;
        }
    pthread_mutex_unlock(&listeners_lock);
}

static int get_int(plist_t dict, const char *key, int64_t *v)
{
    return ferry_plist_get_int(dict, key, v);
}

/* Connect: on success the socket is handed to the service, which runs until the host closes it. */
static void connect_port(emu_conn_t *c, uint32_t tag, plist_t req)
{
    int64_t id = 0, pn = 0;
    if (get_int(req, "DeviceID", &id) || get_int(req, "PortNumber", &pn) || pn < 0 || pn > 0xFFFF) {
        send_result(c, tag, RESULT_BADCOMMAND);
        return;
    }
    emu_device_t *d = emu_find_device(c->srv, id);
    if (!d || atomic_load(&d->rebooting)) { /* a rebooting device is not attached */
        send_result(c, tag, RESULT_BADDEV);
        return;
    }
    void (*serve)(emu_conn_t *) = NULL;
    const char *what = NULL;
    switch (emu_usbmux_port((uint64_t)pn)) {
    case EMU_PORT_LOCKDOWN: serve = emu_lockdown_serve; what = "lockdownd"; break;
    case EMU_PORT_NOTIFICATION: serve = emu_np_serve; what = "notification_proxy"; break;
    case EMU_PORT_AFC: serve = emu_afc_serve; what = "afc"; break;
    case EMU_PORT_MOBILEBACKUP2: serve = emu_mb2_serve; what = "mobilebackup2"; break;
    case EMU_PORT_INSTPROXY: serve = emu_instproxy_serve; what = "installation_proxy"; break;
    case EMU_PORT_MCINSTALL: serve = emu_mcinstall_serve; what = "MCInstall"; break;
    default: break;
    }
    if (!serve) {
        send_result(c, tag, RESULT_CONNREFUSED);
        return;
    }
    if (send_result(c, tag, RESULT_OK))
        return;
    c->dev = d;
    c->what = what;
    emu_conn_bind(c->fd, d);
    serve(c);
}

static void pair_record(emu_conn_t *c, uint32_t tag, const char *type, plist_t req)
{
    char *id = emu_dict_string(req, "PairRecordID");
    if (!id || ferry_path_check_domain(id, strlen(id))) {
        free(id);
        send_result(c, tag, RESULT_BADCOMMAND);
        return;
    }
    if (!strcmp(type, "ReadPairRecord")) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (emu_pair_record_read(c->srv, id, &data, &len)) {
            send_result(c, tag, RESULT_BADDEV);
        } else {
            plist_t p = plist_new_dict();
            plist_dict_set_item(p, "PairRecordData", plist_new_data((const char *)data, len));
            send_reply(c, tag, p);
            plist_free(p);
            free(data);
        }
    } else if (!strcmp(type, "SavePairRecord")) {
        plist_t n = plist_dict_get_item(req, "PairRecordData");
        char *data = NULL;
        uint64_t len = 0;
        if (n && plist_get_node_type(n) == PLIST_DATA)
            plist_get_data_val(n, &data, &len);
        int rc = data ? emu_pair_record_save(c->srv, id, (uint8_t *)data, len) : FERRY_EFORMAT;
        free(data);
        send_result(c, tag, rc ? RESULT_BADCOMMAND : RESULT_OK);
    } else {
        emu_pair_record_delete(c->srv, id);
        send_result(c, tag, RESULT_OK);
    }
    free(id);
}

/* Reads one request: 1 = *req set, 0 = clean end or a malformed packet (the connection is dropped). */
static int read_request(emu_conn_t *c, emu_usbmux_hdr_t *h, plist_t *req)
{
    uint8_t hb[16];
    *req = NULL;
    if (emu_read(c, hb, sizeof hb) || emu_usbmux_parse_header(hb, h))
        return 0;
    size_t n = h->length - 16;
    uint8_t *body = malloc(n ? n : 1);
    if (!body)
        return 0;
    int ok = !emu_read(c, body, n) && !ferry_plist_parse(body, n, req, "usbmuxd request") &&
             plist_get_node_type(*req) == PLIST_DICT;
    free(body);
    if (!ok) {
        plist_free(*req);
        *req = NULL;
    }
    return ok;
}

void emu_usbmux_serve(emu_conn_t *c)
{
    emu_usbmux_hdr_t h;
    plist_t req;
    while (read_request(c, &h, &req)) {
        char *type = emu_dict_string(req, "MessageType");
        int rc = 0, done = 0;
        if (c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "usbmuxd: %s", type ? type : "(no MessageType)");
        if (!type) {
            rc = send_result(c, h.tag, RESULT_BADCOMMAND);
        } else if (!strcmp(type, "ListDevices")) {
            rc = list_devices(c, h.tag);
        } else if (!strcmp(type, "Listen")) {
            listen_events(c, h.tag);
            done = 1;
        } else if (!strcmp(type, "Connect")) {
            connect_port(c, h.tag, req);
            done = 1;
        } else if (!strcmp(type, "ReadBUID")) {
            plist_t p = plist_new_dict();
            plist_dict_set_item(p, "BUID", plist_new_string(c->srv->buid));
            rc = send_reply(c, h.tag, p);
            plist_free(p);
        } else if (!strcmp(type, "ReadPairRecord") || !strcmp(type, "SavePairRecord") ||
                   !strcmp(type, "DeletePairRecord")) {
            pair_record(c, h.tag, type, req);
        } else {
            rc = send_result(c, h.tag, RESULT_BADCOMMAND);
        }
        free(type);
        plist_free(req);
        if (rc || done)
            return;
    }
}
