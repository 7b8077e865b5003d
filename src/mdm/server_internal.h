/*
 * server_internal.h: what the MDM server's two halves share: server.c (the check-in, command and
 * device-assignment handlers, working on parsed requests) and server_http.c (libmicrohttpd: routing,
 * request bodies, signatures, start and stop). Private to src/mdm/server*.c.
 */
#ifndef FERRY_MDM_SERVER_INTERNAL_H
#define FERRY_MDM_SERVER_INTERNAL_H

#include "mdm_internal.h"

#include <microhttpd.h>
#include <pthread.h>

#define MAX_ID_LEN 128
#define MAX_DEPTH 32 /* Apple's messages nest a few levels; results such as Settings a few more */

struct ferry_mdm_server {
    struct MHD_Daemon *daemon;
    ferry_mdm_db_t *db;
    pthread_mutex_t lock;
    int unknown_decision;
    size_t max_body;
    uint16_t port;
    char *base_url;
    char *topic;
    char *tls_cert, *tls_key; /* PEM, kept alive for the daemon */
    char *admin_token;        /* NULL: admin API off */
};

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int too_big;
} req_t;

typedef struct {
    int status;
    const char *ctype; /* NULL: no Content-Type (zero-byte body) */
    char *body;        /* malloc'd */
    size_t len;
} reply_t;

typedef struct {
    const uint8_t *der; /* signer certificate DER, NULL when unsigned or not verifying */
    size_t len;
    const char *why;    /* why there is no valid signer */
} signer_t;

void mdm_reply_text(reply_t *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A PUT to /checkin or /mdm once its body is complete (below 413): verifies the Mdm-Signature header
 * (b64, or NULL when absent) and hands the body to the check-in or the command handler, by url and
 * Content-Type (ctype, may be NULL). No socket: server_http.c and the fuzz targets call it. */
void mdm_handle_put(ferry_mdm_server_t *s, const char *url, const char *ctype, const char *b64, const req_t *q,
                    reply_t *r);
void mdm_handle_checkin(ferry_mdm_server_t *s, const req_t *q, const signer_t *sg, reply_t *r);
void mdm_handle_command(ferry_mdm_server_t *s, const req_t *q, const signer_t *sg, reply_t *r);
void mdm_handle_ade_profile(ferry_mdm_server_t *s, struct MHD_Connection *c, reply_t *r);
void mdm_handle_ade_enroll(ferry_mdm_server_t *s, const req_t *q, reply_t *r);

#endif
