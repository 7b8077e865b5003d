/*
 * s3_lease.c: the lease protocol that keeps prune's sweep from deleting objects a running upload is
 * about to reference (docs/fleet.md). An upload PUTs locks/upload-<ID> and then lists locks/prune-*;
 * a prune PUTs locks/prune-<rand> and then lists locks/upload-*. S3 (and radosgw) list what was written
 * before, so of two that overlap at least one sees the other: the upload backs off and retries (bounded
 * by FERRY_S3_LEASE_WAIT seconds, default 120), the prune skips its sweep. A lease holds
 * "host pid unix-time"; it is dead when it is older than FERRY_S3_LEASE_TTL seconds (default 6 h), or
 * when it names this host and a process that no longer exists (a kill -9), and dead leases are ignored.
 */
#include "s3_backend.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long env_seconds(const char *name, long def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 0 ? def : n;
}

static int lease_body(char *out, size_t cap)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(out, cap, "%s %ld %lld\n", host, (long)getpid(), (long long)time(NULL));
    return 0;
}

/* 1 when the lease in body is alive. */
static int lease_alive(const uint8_t *body, size_t len, int64_t mtime)
{
    char buf[400], host[256], me[256];
    long pid = 0;
    long long t = 0;
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, body, n);
    buf[n] = '\0';
    long ttl = env_seconds("FERRY_S3_LEASE_TTL", 6 * 3600);
    if (sscanf(buf, "%255s %ld %lld", host, &pid, &t) != 3)
        t = mtime; /* unreadable: judge by the object's date */
    if ((int64_t)time(NULL) - (int64_t)t > ttl)
        return 0;
    if (gethostname(me, sizeof me) == 0) {
        me[sizeof me - 1] = '\0';
        if (!strcmp(me, host) && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            return 0;
    }
    return 1;
}

typedef struct {
    s3repo_t *r;
    const char *own;
    int live;
    int rc;
} scan_t;

static int scan_one(void *ctx, const ferry_s3_object_t *o)
{
    scan_t *s = ctx;
    if (s->own && !strcmp(o->key, s->own))
        return 0;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = ferry_s3_get(s->r->s3, o->key, 4096, &body, &len);
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear();
        return 0; /* released meanwhile */
    }
    if (rc)
        return rc;
    if (lease_alive(body, len, o->mtime)) {
        s->live++;
    } else {
        ferry_log(FERRY_LOG_INFO, "S3 repository: ignoring the dead lease %s", o->key);
        ferry_s3_delete(s->r->s3, o->key);
    }
    free(body);
    return 0;
}

/* Counts the live leases whose keys start with kind ("upload-" or "prune-"), other than own. */
static int count_live(s3repo_t *r, const char *kind, const char *own, int *live)
{
    char *prefix = s3_key(r, "locks/%s", kind);
    if (!prefix)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    scan_t s = {.r = r, .own = own};
    int rc = ferry_s3_list(r->s3, prefix, scan_one, &s);
    free(prefix);
    *live = s.live;
    return rc;
}

static int put_lease(s3repo_t *r, const char *key)
{
    char body[400];
    lease_body(body, sizeof body);
    return ferry_s3_put(r->s3, key, body, strlen(body));
}

int s3_lease_take_upload(s3repo_t *r, const char *id, s3_lease_t *out)
{
    out->key = s3_key(r, "locks/upload-%s", id);
    if (!out->key)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    long wait = env_seconds("FERRY_S3_LEASE_WAIT", 120);
    time_t start = time(NULL);
    for (int i = 0;; i++) {
        int live = 0, rc = put_lease(r, out->key);
        if (rc == 0)
            rc = count_live(r, "prune-", NULL, &live);
        if (rc == 0 && live == 0)
            return 0;
        ferry_s3_delete(r->s3, out->key);
        if (rc || time(NULL) - start >= wait) {
            free(out->key);
            out->key = NULL;
            return rc ? rc : ferry_error_set(FERRY_EIO, "S3 repository: a prune has been running for %lds; try "
                                                       "again later (or raise FERRY_S3_LEASE_WAIT)", wait);
        }
        ferry_log(FERRY_LOG_INFO, "S3 repository: a prune is sweeping; waiting before uploading");
        struct timespec ts = {i < 4 ? 0 : 1, i < 4 ? 250000000L : 0};
        nanosleep(&ts, NULL);
    }
}

int s3_lease_take_prune(s3repo_t *r, s3_lease_t *out, int *uploads_running)
{
    uint8_t rnd[8];
    char hex[17];
    int rc = ferry_random_bytes(rnd, sizeof rnd);
    if (rc)
        return rc;
    ferry_hex_encode(rnd, sizeof rnd, hex);
    out->key = s3_key(r, "locks/prune-%s", hex);
    if (!out->key)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if ((rc = put_lease(r, out->key)) == 0)
        rc = count_live(r, "upload-", NULL, uploads_running);
    if (rc)
        s3_lease_release(r, out);
    return rc;
}

void s3_lease_release(s3repo_t *r, s3_lease_t *l)
{
    if (!l->key)
        return;
    ferry_s3_delete(r->s3, l->key);
    free(l->key);
    l->key = NULL;
}
