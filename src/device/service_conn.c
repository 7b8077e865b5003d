/*
 * service_conn.c: byte and property-list I/O on one host connection of the emulated device, plain or
 * TLS. Invariants: every framed reply is assembled in one buffer and written with one call, because
 * the libimobiledevice client reads headers and plist lengths with a single recv() (§2 item 2); a
 * length read from the wire is checked before anything is allocated from it; SIGPIPE never fires
 * (MSG_NOSIGNAL), since hosts close without waiting for us (§6.6).
 */
#include "serve_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* In memory: the input runs out like a closed socket; the output is capped like a host that stopped
 * reading. */
static int mem_read(emu_conn_t *c, void *buf, size_t len)
{
    emu_mem_t *m = c->mem;
    if (len > m->in_len - m->in_pos) {
        m->in_pos = m->in_len;
        return ferry_error_set(FERRY_EIO, "%s: the host closed the connection or it failed", c->what);
    }
    memcpy(buf, m->in + m->in_pos, len);
    m->in_pos += len;
    return 0;
}

static int mem_write(emu_conn_t *c, const void *buf, size_t len)
{
    emu_mem_t *m = c->mem;
    if (len > m->out_max - m->out_len)
        return ferry_error_set(FERRY_EIO, "%s: cannot write to the host", c->what);
    if (m->out_len + len > m->out_cap) {
        size_t cap = m->out_cap ? m->out_cap : 4096;
        while (cap < m->out_len + len)
            cap *= 2;
        uint8_t *g = realloc(m->out, cap);
        if (!g)
            return ferry_error_set(FERRY_ENOMEM, "%s: out of memory", c->what);
        m->out = g;
        m->out_cap = cap;
    }
    if (len)
        memcpy(m->out + m->out_len, buf, len);
    m->out_len += len;
    return 0;
}

int emu_read(emu_conn_t *c, void *buf, size_t len)
{
    if (c->mem)
        return mem_read(c, buf, len);
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            int k = SSL_read(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
            n = k > 0 ? k : (SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
        } else {
            n = recv(c->fd, p, len, 0);
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0)
            return ferry_error_set(FERRY_EIO, "%s: the host closed the connection or it failed", c->what);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int emu_write(emu_conn_t *c, const void *buf, size_t len)
{
    if (c->mem)
        return mem_write(c, buf, len);
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            int k = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
            n = k > 0 ? k : -1;
        } else {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0)
            return ferry_error_set(FERRY_EIO, "%s: cannot write to the host", c->what);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int emu_plist_frame(plist_t p, int xml, uint8_t **out, size_t *len)
{
    char *body = NULL;
    uint32_t blen = 0;
    if (xml)
        plist_to_xml(p, &body, &blen);
    else
        plist_to_bin(p, &body, &blen);
    if (!body)
        return ferry_error_set(FERRY_EFORMAT, "cannot serialise a reply property list");
    uint8_t *buf = malloc((size_t)blen + 4);
    if (!buf) {
        free(body);
        return ferry_error_set(FERRY_ENOMEM, "out of memory framing a reply");
    }
    buf[0] = (uint8_t)(blen >> 24);
    buf[1] = (uint8_t)(blen >> 16);
    buf[2] = (uint8_t)(blen >> 8);
    buf[3] = (uint8_t)blen;
    memcpy(buf + 4, body, blen);
    free(body);
    *out = buf;
    *len = (size_t)blen + 4;
    return 0;
}

int emu_plist_send(emu_conn_t *c, plist_t p, int xml)
{
    uint8_t *buf;
    size_t len;
    int rc = emu_plist_frame(p, xml, &buf, &len);
    if (rc)
        return rc;
    rc = emu_write(c, buf, len);
    free(buf);
    return rc;
}

int emu_plist_length(const uint8_t hdr[4], uint32_t *len)
{
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (n == 0 || n > EMU_PLIST_MAX)
        return ferry_error_set(FERRY_EFORMAT, "framed property list of %u bytes refused (1..%u)", n,
                               EMU_PLIST_MAX);
    *len = n;
    return 0;
}

int emu_plist_recv(emu_conn_t *c, plist_t *out)
{
    uint8_t hdr[4];
    uint32_t n = 0;
    *out = NULL;
    int rc = emu_read(c, hdr, 4);
    if (rc)
        return rc;
    if ((rc = emu_plist_length(hdr, &n)))
        return rc;
    uint8_t *body = malloc(n);
    if (!body)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading a %u-byte message", n);
    rc = emu_read(c, body, n);
    if (!rc)
        rc = ferry_plist_parse(body, n, out, c->what);
    free(body);
    return rc;
}

char *emu_dict_string(plist_t dict, const char *key)
{
    if (!dict || plist_get_node_type(dict) != PLIST_DICT)
        return NULL;
    plist_t n = plist_dict_get_item(dict, key);
    if (!n || plist_get_node_type(n) != PLIST_STRING)
        return NULL;
    char *s = NULL;
    s = ferry_plist_string_dup(n);
    return s;
}
