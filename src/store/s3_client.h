/*
 * s3_client.h: a small S3 client over libcurl (SigV4 signed by curl, path-style URLs), the transport of
 * the S3 repository backend (s3_backend.c). Only what the backend needs: PUT (multipart for large
 * files), GET (whole, or a byte range streamed to a sink), HEAD, DELETE, ListObjectsV2 and bucket
 * creation. Every request is retried with exponential backoff on 5xx, 429 and transport errors
 * (timeouts, refused or reset connections); 4xx answers are final. Endpoint and credentials come from
 * the environment or a config file (docs/fleet.md), never from argv.
 */
#ifndef FERRY_S3_CLIENT_H
#define FERRY_S3_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "ferry/common.h"

typedef struct ferry_s3 ferry_s3_t;

/* The settings: FERRY_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, FERRY_S3_REGION (default
 * us-east-1), each overriding the config file ($FERRY_S3_CONFIG, else ~/.config/ferry/s3.conf, lines
 * "key = value"; it must not be readable by group or others). */
int ferry_s3_open(const char *bucket, ferry_s3_t **out);
void ferry_s3_close(ferry_s3_t *s3);
const char *ferry_s3_bucket(const ferry_s3_t *s3);

/* Creates the bucket; an existing bucket owned by the same user is fine. */
int ferry_s3_create_bucket(ferry_s3_t *s3);
/* FERRY_ENOTFOUND when the bucket does not exist. */
int ferry_s3_check_bucket(ferry_s3_t *s3);

int ferry_s3_put(ferry_s3_t *s3, const char *key, const void *data, size_t len);
/* Uploads a local file: one PUT up to the part size (FERRY_S3_PART_SIZE, default 16 MiB, at least
 * 5 MiB), else a multipart upload that is aborted on failure. */
int ferry_s3_put_file(ferry_s3_t *s3, const char *key, const char *path);

/* *exists 0/1; size (may be NULL) gets Content-Length. */
int ferry_s3_head(ferry_s3_t *s3, const char *key, int *exists, uint64_t *size);
/* Whole object into memory, refusing more than max bytes (FERRY_ELIMIT); FERRY_ENOTFOUND on 404. */
int ferry_s3_get(ferry_s3_t *s3, const char *key, size_t max, uint8_t **out, size_t *len);

/* Streams len bytes from offset (len 0: the whole object) to sink, which returns 0 or a FERRY_E code.
 * A retry after some bytes were delivered resumes at the next byte, so the sink sees each byte once. */
typedef int (*ferry_s3_sink_fn)(void *ctx, const uint8_t *buf, size_t n);
int ferry_s3_get_range(ferry_s3_t *s3, const char *key, uint64_t offset, uint64_t len, ferry_s3_sink_fn sink,
                       void *ctx);

/* 404 is success (deletes are idempotent). */
int ferry_s3_delete(ferry_s3_t *s3, const char *key);

/* Every key under prefix, in key order, with continuation; the callback returns 0 to go on. */
typedef struct {
    const char *key;
    uint64_t size;
    int64_t mtime; /* LastModified, Unix seconds (0 when unparsable) */
} ferry_s3_object_t;
typedef int (*ferry_s3_list_fn)(void *ctx, const ferry_s3_object_t *obj);
int ferry_s3_list(ferry_s3_t *s3, const char *prefix, ferry_s3_list_fn fn, void *ctx);

/* ---- s3_xml.c: the few elements of S3's XML answers the client reads ------------------------- */

/* Finds the next <tag>...</tag> at or after *pos in xml[0..len) and returns its text unescaped
 * (malloc'd, at most max bytes), advancing *pos past it. 1 found, 0 none, negative on error. */
int ferry_s3_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, size_t max, char **out);
/* The text of the first <tag> element within xml[0..len), malloc'd, or NULL. */
char *ferry_s3_xml_first(const char *xml, size_t len, const char *tag);
/* The span [*start, *end) of the next <tag>...</tag> element (which may hold markup); 1, 0, negative. */
int ferry_s3_xml_block(const char *xml, size_t len, size_t *pos, const char *tag, size_t *start, size_t *end);
/* Escapes &, <, > for a request body; malloc'd. */
char *ferry_s3_xml_escape(const char *s);

#endif
