/*
 * devicelink.c: the device side of DeviceLink (§10.1, §10.2, §10.5, §10.6), the layer under
 * mobilebackup2: binary-plist messages that are arrays whose first item names the message, the
 * version exchange, status responses from the host, and the raw file-transfer blocks that travel
 * between plists (u32BE length | code byte | payload). Invariants: every message from the host is
 * checked for shape (array, "DL..." name, item types) before it is used; every raw length is bounded
 * before anything is allocated from it; a block is written with one call.
 */
#include "devicelink.h"

#include <stdlib.h>
#include <string.h>

int emu_dl_send(emu_conn_t *c, plist_t msg)
{
    return emu_plist_send(c, msg, 0);
}

int emu_dl_parse(plist_t msg, char **name)
{
    *name = NULL;
    if (!msg || plist_get_node_type(msg) != PLIST_ARRAY || plist_array_get_size(msg) < 1)
        return ferry_error_set(FERRY_EFORMAT, "DeviceLink: a message is not a non-empty array");
    plist_t n = plist_array_get_item(msg, 0);
    char *s = NULL;
    if (plist_get_node_type(n) == PLIST_STRING)
        s = ferry_plist_string_dup(n);
    if (!s || strncmp(s, "DL", 2) || strlen(s) < 9) {
        free(s);
        return ferry_error_set(FERRY_EFORMAT, "DeviceLink: a message does not start with a DL... name");
    }
    *name = s;
    return 0;
}

int emu_dl_recv(emu_conn_t *c, plist_t *msg, char **name)
{
    *name = NULL;
    int rc = emu_plist_recv(c, msg);
    if (!rc && (rc = emu_dl_parse(*msg, name))) {
        plist_free(*msg);
        *msg = NULL;
    }
    return rc;
}

int emu_dl_version_exchange(emu_conn_t *c)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageVersionExchange"));
    plist_array_append_item(m, plist_new_uint(300));
    plist_array_append_item(m, plist_new_uint(0));
    int rc = emu_dl_send(c, m);
    plist_free(m);
    if (rc)
        return rc;
    char *name;
    if ((rc = emu_dl_recv(c, &m, &name)))
        return rc;
    char *ok = NULL;
    plist_t n = plist_array_get_size(m) >= 3 ? plist_array_get_item(m, 1) : NULL;
    if (n && plist_get_node_type(n) == PLIST_STRING)
        ok = ferry_plist_string_dup(n);
    if (strcmp(name, "DLMessageVersionExchange") || !ok || strcmp(ok, "DLVersionsOk"))
        rc = ferry_error_set(FERRY_EFORMAT, "DeviceLink: the host did not accept version 300");
    free(ok);
    free(name);
    plist_free(m);
    if (rc)
        return rc;
    m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageDeviceReady"));
    rc = emu_dl_send(c, m);
    plist_free(m);
    return rc;
}

int emu_dl_process_message(emu_conn_t *c, plist_t dict)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageProcessMessage"));
    plist_array_append_item(m, dict);
    int rc = emu_dl_send(c, m);
    plist_free(m);
    return rc;
}

int emu_dl_finish(emu_conn_t *c, int64_t code, const char *desc, const char *content)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "ErrorCode", plist_new_uint((uint64_t)code));
    plist_dict_set_item(d, "ErrorDescription", plist_new_string(desc ? desc : ""));
    if (content)
        plist_dict_set_item(d, "Content", plist_new_string(content));
    return emu_dl_process_message(c, d);
}

int emu_dl_parse_status(plist_t msg, int64_t *code, plist_t *content)
{
    char *name = NULL;
    int rc = emu_dl_parse(msg, &name);
    if (rc)
        return rc;
    int ok = !strcmp(name, "DLMessageStatusResponse") && plist_array_get_size(msg) >= 2;
    free(name);
    plist_t n = ok ? plist_array_get_item(msg, 1) : NULL;
    if (!n || plist_get_node_type(n) != PLIST_UINT)
        return ferry_error_set(FERRY_EFORMAT, "DeviceLink: expected DLMessageStatusResponse with an integer code");
    uint64_t v = 0;
    plist_get_uint_val(n, &v);
    *code = (int64_t)v; /* negative codes arrive as 8-byte two's complement (§10.5) */
    if (content)
        *content = plist_array_get_size(msg) >= 4 ? plist_array_get_item(msg, 3) : NULL;
    return 0;
}

int emu_dl_request(emu_conn_t *c, plist_t msg, int64_t *code, plist_t *content)
{
    int rc = emu_dl_send(c, msg);
    plist_free(msg);
    if (rc)
        return rc;
    plist_t reply = NULL;
    char *name = NULL;
    if ((rc = emu_dl_recv(c, &reply, &name)))
        return rc;
    free(name);
    plist_t inner = NULL;
    rc = emu_dl_parse_status(reply, code, &inner);
    if (content)
        *content = !rc && inner ? plist_copy(inner) : NULL;
    plist_free(reply);
    return rc;
}

int emu_dl_send_u32(emu_conn_t *c, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return emu_write(c, b, 4);
}

int emu_dl_recv_u32(emu_conn_t *c, uint32_t *v)
{
    uint8_t b[4];
    int rc = emu_read(c, b, 4);
    if (!rc)
        *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return rc;
}

int emu_dl_send_string(emu_conn_t *c, const char *s)
{
    size_t n = strlen(s);
    uint8_t *b = malloc(n + 4);
    if (!b)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    b[0] = (uint8_t)(n >> 24);
    b[1] = (uint8_t)(n >> 16);
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    memcpy(b + 4, s, n);
    int rc = emu_write(c, b, n + 4);
    free(b);
    return rc;
}

int emu_dl_send_block(emu_conn_t *c, uint8_t code, const void *data, size_t n)
{
    if (n > EMU_DL_MAX_BLOCK)
        return ferry_error_set(FERRY_EINVAL, "DeviceLink: block of %zu bytes too large", n);
    uint8_t *b = malloc(n + 5);
    if (!b)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    uint32_t len = (uint32_t)n + 1;
    b[0] = (uint8_t)(len >> 24);
    b[1] = (uint8_t)(len >> 16);
    b[2] = (uint8_t)(len >> 8);
    b[3] = (uint8_t)len;
    b[4] = code;
    if (n)
        memcpy(b + 5, data, n);
    int rc = emu_write(c, b, n + 5);
    free(b);
    return rc;
}

/* Host -> device files (§10.6.1): per file a path, blocks, and a success or error code. */
int emu_dl_recv_files(emu_conn_t *c, emu_dl_file_cb cb, void *ctx)
{
    uint8_t *buf = malloc(EMU_DL_MAX_BLOCK);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    for (;;) {
        uint32_t plen, blen;
        if ((rc = emu_dl_recv_u32(c, &plen)) || plen == 0)
            break;
        if (plen > EMU_DL_MAX_PATH) {
            rc = ferry_error_set(FERRY_EFORMAT, "DeviceLink: a path of %u bytes", plen);
            break;
        }
        char path[EMU_DL_MAX_PATH + 1];
        if ((rc = emu_read(c, path, plen)))
            break;
        path[plen] = '\0';
        if (memchr(path, '\0', plen)) {
            rc = ferry_error_set(FERRY_EFORMAT, "DeviceLink: a path with a NUL byte");
            break;
        }
        int state = EMU_DL_FILE_BEGIN;
        if ((rc = cb(ctx, path, state, NULL, 0)))
            break;
        for (;;) {
            uint8_t code;
            if ((rc = emu_dl_recv_u32(c, &blen)))
                break;
            if (blen == 0 || blen - 1 > EMU_DL_MAX_BLOCK) {
                rc = ferry_error_set(FERRY_EFORMAT, "DeviceLink: a block of %u bytes", blen);
                break;
            }
            if ((rc = emu_read(c, &code, 1)) || (rc = emu_read(c, buf, blen - 1)))
                break;
            if (code == 0x0C) {
                rc = cb(ctx, path, EMU_DL_FILE_DATA, buf, blen - 1);
            } else {
                rc = cb(ctx, path, code == 0x00 ? EMU_DL_FILE_OK : EMU_DL_FILE_ERROR, buf, blen - 1);
                break;
            }
            if (rc)
                break;
        }
        if (rc)
            break;
    }
    free(buf);
    return rc;
}
