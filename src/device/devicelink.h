/*
 * devicelink.h: the device side of DeviceLink (devicelink.c), used by mobilebackup2*.c. Internal.
 */
#ifndef FERRY_DEVICELINK_H
#define FERRY_DEVICELINK_H

#include "serve_internal.h"

#define EMU_DL_MAX_PATH 4096
#define EMU_DL_MAX_BLOCK (4u * 1024 * 1024)
#define EMU_DL_CHUNK 32768

/* Sends a DL message (binary plist); does not free msg. */
int emu_dl_send(emu_conn_t *c, plist_t msg);
/* Checks that msg is an array starting with a "DL..." string of at least 9 characters; *name is
 * malloc'd. FERRY_EFORMAT otherwise. */
int emu_dl_parse(plist_t msg, char **name);
int emu_dl_recv(emu_conn_t *c, plist_t *msg, char **name);
/* ["DLMessageVersionExchange", 300, 0] -> DLVersionsOk -> ["DLMessageDeviceReady"] (§10.2). */
int emu_dl_version_exchange(emu_conn_t *c);
/* ["DLMessageProcessMessage", dict]; takes ownership of dict. */
int emu_dl_process_message(emu_conn_t *c, plist_t dict);
/* The final ProcessMessage {ErrorCode, ErrorDescription[, Content]}. */
int emu_dl_finish(emu_conn_t *c, int64_t code, const char *desc, const char *content);
/* Checks a DLMessageStatusResponse; *code is signed; *content borrowed from msg (may be NULL). */
int emu_dl_parse_status(plist_t msg, int64_t *code, plist_t *content);
/* Sends msg (freed), reads the host's status response; *content is a copy (plist_free) or NULL. */
int emu_dl_request(emu_conn_t *c, plist_t msg, int64_t *code, plist_t *content);

/* Raw stream pieces (§10.6). */
int emu_dl_send_u32(emu_conn_t *c, uint32_t v);
int emu_dl_recv_u32(emu_conn_t *c, uint32_t *v);
int emu_dl_send_string(emu_conn_t *c, const char *s); /* u32BE length | bytes */
int emu_dl_send_block(emu_conn_t *c, uint8_t code, const void *data, size_t n);

enum { EMU_DL_FILE_BEGIN, EMU_DL_FILE_DATA, EMU_DL_FILE_OK, EMU_DL_FILE_ERROR };
/* Called with BEGIN once per path, DATA per block, then OK or ERROR (data = the error text). */
typedef int (*emu_dl_file_cb)(void *ctx, const char *path, int state, const uint8_t *data, size_t len);
/* Reads host -> device files until the u32BE 0 terminator (§10.6.1). */
int emu_dl_recv_files(emu_conn_t *c, emu_dl_file_cb cb, void *ctx);

#endif
