/*
 * s3_client.c: S3 requests over libcurl. curl signs each request with SigV4 (CURLOPT_AWS_SIGV4
 * "aws:amz:REGION:s3", credentials through CURLOPT_USERNAME/PASSWORD); what curl 7.88 leaves to the
 * caller is done here: the x-amz-content-sha256 header (the body's SHA-256, or UNSIGNED-PAYLOAD for
 * requests without one), query strings built sorted and percent-encoded, path-style URLs. One curl
 * handle per client keeps the connection alive between requests. A request is retried with
 * exponential backoff (with jitter) on transport errors, 5xx and 429; bodies are in memory or re-read
 * from their offset, so every attempt sends the same bytes, and a streamed GET that breaks resumes
 * after the last byte its sink received. Keys are restricted by the backend to [A-Za-z0-9/._-].
 */
#include "s3_client.h"
#include "s3_config.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERROR_BODY_MAX (64 * 1024)
#define LIST_BODY_MAX (16 * 1024 * 1024)
#define MIN_PART (5u * 1024 * 1024)
#define DEFAULT_PART (16u * 1024 * 1024)
#define MAX_PARTS 10000

struct ferry_s3 {
    ferry_s3_config_t cfg;
    char *bucket;
    char sigv4[96];
    CURL *curl;
    size_t part_size;
    int attempts;
};

/* ---- buffers and encoding ----------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n, cap, max;
    int over;
} buf_t;

static int buf_add(buf_t *b, const void *d, size_t n)
{
    if (n > b->max - b->n) {
        b->over = 1;
        return -1;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* Percent-encodes s; keep_slash leaves '/' as it is (object keys in paths). */
static char *pct(const char *s, int keep_slash)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *q = o;
    if (!o)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            *q++ = (char)*p;
        else
            q += sprintf(q, "%%%02X", *p);
    }
    *q = '\0';
    return o;
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned len = 0;
    EVP_Digest(d, n, md, &len, EVP_sha256(), NULL);
    ferry_hex_encode(md, 32, out);
}

/* ---- open / close ------------------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int check_bucket_name(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return ferry_error_set(FERRY_EINVAL, "S3 bucket '%s': 3 to 63 characters", b);
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' || b[i] == '.'))
            return ferry_error_set(FERRY_EINVAL, "S3 bucket '%s': lower-case letters, digits, '-' and '.' only", b);
    return 0;
}

int ferry_s3_open(const char *bucket, ferry_s3_t **out)
{
    *out = NULL;
    int rc = check_bucket_name(bucket);
    if (rc)
        return rc;
    pthread_once(&curl_once, curl_init_once);
    ferry_s3_t *s3 = calloc(1, sizeof *s3);
    if (!s3)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if ((rc = ferry_s3_config_load(&s3->cfg)) != 0) {
        free(s3);
        return rc;
    }
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:s3", s3->cfg.region);
    s3->bucket = strdup(bucket);
    s3->curl = curl_easy_init();
    s3->part_size = DEFAULT_PART;
    const char *ps = getenv("FERRY_S3_PART_SIZE");
    if (ps && *ps) {
        char *end;
        unsigned long long v = strtoull(ps, &end, 10);
        if (*end || v < MIN_PART || v > (1ull << 32)) {
            ferry_s3_close(s3);
            return ferry_error_set(FERRY_EINVAL, "FERRY_S3_PART_SIZE=%s: a byte count from 5 MiB to 4 GiB", ps);
        }
        s3->part_size = (size_t)v;
    }
    s3->attempts = 6;
    if (!s3->bucket || !s3->curl) {
        ferry_s3_close(s3);
        return ferry_error_set(FERRY_ENOMEM, "out of memory (curl)");
    }
    *out = s3;
    return 0;
}

void ferry_s3_close(ferry_s3_t *s3)
{
    if (!s3)
        return;
    if (s3->curl)
        curl_easy_cleanup(s3->curl);
    ferry_s3_config_clear(&s3->cfg);
    free(s3->bucket);
    free(s3);
}

const char *ferry_s3_bucket(const ferry_s3_t *s3) { return s3->bucket; }

/* ---- one request ------------------------------------------------------------------------------- */

typedef struct {
    const char *method;          /* GET PUT HEAD DELETE POST */
    const char *key;             /* NULL: the bucket itself */
    const char *query;           /* sorted and encoded, or NULL */
    const uint8_t *body;
    size_t body_len;
    int has_range;
    uint64_t range_off, range_len; /* range_len 0: to the end */
    ferry_s3_sink_fn sink;       /* 2xx body goes here when set, else into resp.body */
    void *sink_ctx;
    size_t body_max;             /* for resp.body on 2xx */
} req_t;

typedef struct {
    long status;
    buf_t body;
    uint64_t delivered;          /* bytes given to the sink */
    int sink_rc;
    char etag[128];
    uint64_t content_length;
    int have_length;
    CURL *curl;
    size_t upload_pos;
    const req_t *req;
    int expect_partial;          /* a Range was sent: a 200 would restart from byte 0 */
} resp_t;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    resp_t *r = ud;
    size_t n = size * nmemb;
    if (!r->status)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status >= 200 && r->status < 300 && r->req->sink) {
        if (r->expect_partial && r->status != 206) {
            r->sink_rc = ferry_error_set(FERRY_EIO, "S3 GET %s: the server ignored the byte range", r->req->key);
            return 0;
        }
        int rc = r->req->sink(r->req->sink_ctx, (const uint8_t *)data, n);
        if (rc) {
            r->sink_rc = rc;
            return 0;
        }
        r->delivered += n;
        return n;
    }
    if (buf_add(&r->body, data, n) != 0) {
        /* Error bodies are only for messages: keep what fits. */
        return r->status >= 300 ? n : 0;
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    resp_t *r = ud;
    size_t n = size * nmemb;
    if (n > 5 && !strncasecmp(data, "ETag:", 5)) {
        size_t i = 5, j = 0;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        while (i < n && data[i] != '\r' && data[i] != '\n' && j + 1 < sizeof r->etag)
            r->etag[j++] = data[i++];
        r->etag[j] = '\0';
    } else if (n > 15 && !strncasecmp(data, "Content-Length:", 15)) {
        char tmp[32];
        size_t m = n - 15 < sizeof tmp - 1 ? n - 15 : sizeof tmp - 1;
        memcpy(tmp, data + 15, m);
        tmp[m] = '\0';
        char *end;
        unsigned long long v = strtoull(tmp, &end, 10);
        if (end != tmp) {
            r->content_length = v;
            r->have_length = 1;
        }
    } else if (n > 5 && !strncmp(data, "HTTP/", 5)) {
        /* A new response (after 100 Continue, or a retry): forget the previous one's headers. */
        r->have_length = 0;
        r->etag[0] = '\0';
    }
    return n;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    resp_t *r = ud;
    size_t n = size * nmemb, left = r->req->body_len - r->upload_pos;
    if (n > left)
        n = left;
    memcpy(dst, r->req->body + r->upload_pos, n);
    r->upload_pos += n;
    return n;
}

static char *make_url(ferry_s3_t *s3, const char *key, const char *query)
{
    char *ek = key ? pct(key, 1) : NULL;
    if (key && !ek)
        return NULL;
    size_t n = strlen(s3->cfg.endpoint) + strlen(s3->bucket) + (ek ? strlen(ek) : 0) + (query ? strlen(query) : 0) + 8;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s/%s%s%s%s%s", s3->cfg.endpoint, s3->bucket, ek ? "/" : "", ek ? ek : "", query ? "?" : "",
                 query ? query : "");
    free(ek);
    return u;
}

/* One attempt. Returns 0 with r->status set, or a curl error code (> 0) for transport failures, or a
 * negative FERRY code (the sink refused, out of memory). */
static int attempt(ferry_s3_t *s3, const req_t *q, resp_t *r, uint64_t resume)
{
    CURL *c = s3->curl;
    curl_easy_reset(c);
    free(r->body.p);
    size_t max = r->body.max;
    memset(&r->body, 0, sizeof r->body);
    r->body.max = max;
    r->status = 0;
    r->etag[0] = '\0';
    r->have_length = 0;
    r->upload_pos = 0;
    r->expect_partial = 0;
    r->curl = c;
    r->req = q;
    char *url = make_url(s3, q->key, q->query);
    if (!url)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    struct curl_slist *h = NULL;
    char hash[65], hdr[160], range[80];
    if (q->body) {
        sha256_hex(q->body, q->body_len, hash);
        snprintf(hdr, sizeof hdr, "x-amz-content-sha256: %s", hash);
    } else {
        snprintf(hdr, sizeof hdr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    }
    h = curl_slist_append(h, hdr);
    if (q->has_range || resume) {
        uint64_t off = q->range_off + resume;
        if (q->has_range && q->range_len)
            snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)off,
                     (unsigned long long)(q->range_off + q->range_len - 1));
        else
            snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)off);
        h = curl_slist_append(h, range);
        r->expect_partial = 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s3->sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, s3->cfg.access_key);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s3->cfg.secret_key);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* No "Expect:" override: curl would sign the empty header and radosgw reject the signature. */
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 50L);
    if (getenv("FERRY_S3_TRACE"))
        curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    /* A stalled transfer (a storage node lost mid-request) is abandoned and retried. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (!strcmp(q->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(q->method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, r);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
    } else if (!strcmp(q->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? (const char *)q->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    } else if (strcmp(q->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK || !r->status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    free(url);
    if (r->sink_rc)
        return r->sink_rc;
    if (cc == CURLE_OUT_OF_MEMORY)
        return ferry_error_set(FERRY_ENOMEM, "out of memory (curl)");
    if (cc == CURLE_WRITE_ERROR && r->body.over)
        return ferry_error_set(FERRY_ELIMIT, "S3 %s %s: the answer is larger than %zu bytes", q->method,
                               q->key ? q->key : s3->bucket, r->body.max);
    if (cc != CURLE_OK) {
        ferry_error_set(FERRY_EIO, "S3 %s %s at %s: %s", q->method, q->key ? q->key : s3->bucket, s3->cfg.endpoint,
                        curl_easy_strerror(cc));
        return (int)cc;
    }
    return 0;
}

static void backoff(int i)
{
    uint32_t jitter = 0;
    ferry_random_bytes(&jitter, sizeof jitter);
    long ms = 200L << (i < 5 ? i : 5);
    if (ms > 5000)
        ms = 5000;
    ms += jitter % 200;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs a request with retries. On return 0, r->status is the final HTTP status (any). */
static int request(ferry_s3_t *s3, const req_t *q, resp_t *r)
{
    memset(r, 0, sizeof *r);
    r->body.max = q->sink || !q->body_max ? ERROR_BODY_MAX : q->body_max;
    for (int i = 0;; i++) {
        int rc = attempt(s3, q, r, r->delivered);
        if (rc < 0)
            return rc;
        int retry = rc > 0 || r->status >= 500 || r->status == 429;
        if (!retry)
            return 0;
        if (i + 1 >= s3->attempts) {
            if (rc > 0)
                return FERRY_EIO; /* message set by attempt */
            return 0;
        }
        ferry_log(FERRY_LOG_INFO, "S3 %s %s: %s, retrying", q->method, q->key ? q->key : s3->bucket,
                  rc > 0 ? ferry_error_last() : "server error");
        backoff(i);
    }
}

static int status_error(ferry_s3_t *s3, const req_t *q, resp_t *r)
{
    char *code = r->body.p ? ferry_s3_xml_first((const char *)r->body.p, r->body.n, "Code") : NULL;
    char *msg = r->body.p ? ferry_s3_xml_first((const char *)r->body.p, r->body.n, "Message") : NULL;
    int fc = r->status == 404 ? FERRY_ENOTFOUND : r->status == 403 ? FERRY_EPASSWORD : FERRY_EIO;
    const char *hint = r->status == 403 ? " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)" : "";
    ferry_error_set(fc, "S3 %s %s/%s: HTTP %ld %s%s%s%s", q->method, s3->bucket, q->key ? q->key : "", r->status,
                    code ? code : "", msg ? ": " : "", msg ? msg : "", hint);
    free(code);
    free(msg);
    return fc;
}

static void resp_free(resp_t *r) { free(r->body.p); }

/* ---- operations -------------------------------------------------------------------------------- */

int ferry_s3_create_bucket(ferry_s3_t *s3)
{
    req_t q = {.method = "PUT", .body = (const uint8_t *)"", .body_len = 0};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300) && r.status != 409)
        rc = status_error(s3, &q, &r);
    resp_free(&r);
    return rc;
}

int ferry_s3_check_bucket(ferry_s3_t *s3)
{
    req_t q = {.method = "HEAD"};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && r.status == 404)
        rc = ferry_error_set(FERRY_ENOTFOUND, "S3 bucket %s does not exist at %s", s3->bucket, s3->cfg.endpoint);
    else if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    resp_free(&r);
    return rc;
}

int ferry_s3_put(ferry_s3_t *s3, const char *key, const void *data, size_t len)
{
    req_t q = {.method = "PUT", .key = key, .body = data ? data : (const uint8_t *)"", .body_len = len};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    resp_free(&r);
    return rc;
}

int ferry_s3_head(ferry_s3_t *s3, const char *key, int *exists, uint64_t *size)
{
    req_t q = {.method = "HEAD", .key = key};
    resp_t r;
    *exists = 0;
    int rc = request(s3, &q, &r);
    if (rc == 0 && r.status >= 200 && r.status < 300) {
        *exists = 1;
        if (size)
            *size = r.content_length;
    } else if (rc == 0 && r.status != 404) {
        rc = status_error(s3, &q, &r);
    }
    resp_free(&r);
    return rc;
}

int ferry_s3_get(ferry_s3_t *s3, const char *key, size_t max, uint8_t **out, size_t *len)
{
    req_t q = {.method = "GET", .key = key, .body_max = max};
    resp_t r;
    *out = NULL;
    *len = 0;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    if (rc == 0) {
        *out = r.body.p ? r.body.p : calloc(1, 1);
        *len = r.body.n;
        r.body.p = NULL;
        if (!*out)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    resp_free(&r);
    return rc;
}

int ferry_s3_get_range(ferry_s3_t *s3, const char *key, uint64_t offset, uint64_t len, ferry_s3_sink_fn sink,
                       void *ctx)
{
    req_t q = {.method = "GET", .key = key, .has_range = offset || len, .range_off = offset, .range_len = len,
               .sink = sink, .sink_ctx = ctx};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    if (rc == 0 && len && r.delivered != len)
        rc = ferry_error_set(FERRY_EINTEGRITY, "S3 GET %s: %llu bytes at %llu, got %llu", key, (unsigned long long)len,
                             (unsigned long long)offset, (unsigned long long)r.delivered);
    resp_free(&r);
    return rc;
}

int ferry_s3_delete(ferry_s3_t *s3, const char *key)
{
    req_t q = {.method = "DELETE", .key = key};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300) && r.status != 404)
        rc = status_error(s3, &q, &r);
    resp_free(&r);
    return rc;
}

/* ---- listing ----------------------------------------------------------------------------------- */

static int64_t parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, se;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

static int list_page(const char *xml, size_t len, ferry_s3_list_fn fn, void *ctx)
{
    size_t pos = 0, a, b;
    int found;
    while ((found = ferry_s3_xml_block(xml, len, &pos, "Contents", &a, &b)) == 1) {
        size_t p = 0;
        char *key = NULL, *size = NULL, *lm = NULL;
        int rc = ferry_s3_xml_next(xml + a, b - a, &p, "Key", 1024, &key);
        p = 0;
        if (rc == 1)
            rc = ferry_s3_xml_next(xml + a, b - a, &p, "Size", 32, &size);
        p = 0;
        if (rc == 1 && ferry_s3_xml_next(xml + a, b - a, &p, "LastModified", 64, &lm) < 0)
            rc = FERRY_EFORMAT;
        if (rc == 1) {
            char *end;
            ferry_s3_object_t o = {.key = key, .size = strtoull(size, &end, 10), .mtime = parse_time(lm)};
            rc = *end || !*size ? ferry_error_set(FERRY_EFORMAT, "S3 list: bad Size '%s'", size) : fn(ctx, &o);
        } else if (rc == 0) {
            rc = ferry_error_set(FERRY_EFORMAT, "S3 list: an entry without Key or Size");
        }
        free(key);
        free(size);
        free(lm);
        if (rc)
            return rc;
    }
    return found;
}

int ferry_s3_list(ferry_s3_t *s3, const char *prefix, ferry_s3_list_fn fn, void *ctx)
{
    char *token = NULL;
    int rc = 0;
    for (int pages = 0;; pages++) {
        char *ep = pct(prefix, 0), *et = token ? pct(token, 0) : NULL;
        size_t n = strlen(ep) + (et ? strlen(et) : 0) + 64;
        char *query = malloc(n);
        if (!ep || (token && !et) || !query) {
            free(ep), free(et), free(query), free(token);
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        }
        /* Sorted by name: continuation-token < list-type < prefix. */
        snprintf(query, n, "%s%s%slist-type=2&prefix=%s", et ? "continuation-token=" : "", et ? et : "",
                 et ? "&" : "", ep);
        free(ep);
        free(et);
        req_t q = {.method = "GET", .query = query, .body_max = LIST_BODY_MAX};
        resp_t r;
        rc = request(s3, &q, &r);
        if (rc == 0 && !(r.status >= 200 && r.status < 300))
            rc = status_error(s3, &q, &r);
        free(query);
        free(token);
        token = NULL;
        const char *xml = r.body.p ? (const char *)r.body.p : "";
        if (rc == 0)
            rc = list_page(xml, r.body.n, fn, ctx);
        char *trunc = rc == 0 ? ferry_s3_xml_first(xml, r.body.n, "IsTruncated") : NULL;
        int more = trunc && !strcmp(trunc, "true");
        free(trunc);
        if (rc == 0 && more) {
            token = ferry_s3_xml_first(xml, r.body.n, "NextContinuationToken");
            if (!token)
                rc = ferry_error_set(FERRY_EFORMAT, "S3 list of %s: truncated without a continuation token", prefix);
        }
        resp_free(&r);
        if (rc || !more)
            return rc;
        if (pages > 1000000)
            return ferry_error_set(FERRY_ELIMIT, "S3 list of %s: more than a million pages", prefix);
    }
}

/* ---- multipart upload -------------------------------------------------------------------------- */

static int mp_begin(ferry_s3_t *s3, const char *key, char **upload_id)
{
    req_t q = {.method = "POST", .key = key, .query = "uploads=", .body_max = ERROR_BODY_MAX};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    if (rc == 0 && !(*upload_id = ferry_s3_xml_first((const char *)r.body.p, r.body.n, "UploadId")))
        rc = ferry_error_set(FERRY_EFORMAT, "S3 multipart upload of %s: no UploadId in the answer", key);
    resp_free(&r);
    return rc;
}

static int mp_part(ferry_s3_t *s3, const char *key, const char *eid, int num, const uint8_t *d, size_t n,
                   char **etag)
{
    char query[1024];
    if ((size_t)snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", num, eid) >= sizeof query)
        return ferry_error_set(FERRY_ELIMIT, "S3 multipart upload of %s: UploadId too long", key);
    req_t q = {.method = "PUT", .key = key, .query = query, .body = d, .body_len = n};
    resp_t r;
    int rc = request(s3, &q, &r);
    if (rc == 0 && !(r.status >= 200 && r.status < 300))
        rc = status_error(s3, &q, &r);
    if (rc == 0 && !r.etag[0])
        rc = ferry_error_set(FERRY_EFORMAT, "S3 multipart upload of %s: part %d has no ETag", key, num);
    if (rc == 0 && !(*etag = strdup(r.etag)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    resp_free(&r);
    return rc;
}

static int mp_complete(ferry_s3_t *s3, const char *key, const char *eid, char **etags, int nparts)
{
    buf_t b = {.max = (size_t)nparts * 256 + 256};
    int rc = buf_add(&b, "<CompleteMultipartUpload>", 25);
    for (int i = 0; rc == 0 && i < nparts; i++) {
        char *e = ferry_s3_xml_escape(etags[i]);
        char part[256];
        int n = e ? snprintf(part, sizeof part, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1, e) : -1;
        rc = n > 0 && (size_t)n < sizeof part ? buf_add(&b, part, (size_t)n) : -1;
        free(e);
    }
    if (rc == 0)
        rc = buf_add(&b, "</CompleteMultipartUpload>", 26);
    if (rc) {
        free(b.p);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    char query[1024];
    snprintf(query, sizeof query, "uploadId=%s", eid);
    req_t q = {.method = "POST", .key = key, .query = query, .body = b.p, .body_len = b.n, .body_max = ERROR_BODY_MAX};
    resp_t r;
    rc = request(s3, &q, &r);
    /* S3 may answer 200 with an <Error> body when completing fails late. */
    if (rc == 0 && (!(r.status >= 200 && r.status < 300) ||
                    (r.body.p && strstr((const char *)r.body.p, "<Error>"))))
        rc = status_error(s3, &q, &r);
    resp_free(&r);
    free(b.p);
    return rc;
}

static void mp_abort(ferry_s3_t *s3, const char *key, const char *eid)
{
    char query[1024];
    snprintf(query, sizeof query, "uploadId=%s", eid);
    req_t q = {.method = "DELETE", .key = key, .query = query};
    resp_t r;
    request(s3, &q, &r);
    resp_free(&r);
}

static int read_at(int fd, uint8_t *buf, size_t n, off_t off, const char *path)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return ferry_error_errno("cannot read %s", path);
        if (k == 0)
            return ferry_error_set(FERRY_EINTEGRITY, "%s shrank while it was uploaded", path);
        got += (size_t)k;
    }
    return 0;
}

static int put_multipart(ferry_s3_t *s3, const char *key, int fd, uint64_t size, const char *path)
{
    uint64_t nparts64 = (size + s3->part_size - 1) / s3->part_size;
    if (nparts64 > MAX_PARTS)
        return ferry_error_set(FERRY_ELIMIT, "%s: %llu bytes need more than %d parts; raise FERRY_S3_PART_SIZE", path,
                               (unsigned long long)size, MAX_PARTS);
    int nparts = (int)nparts64;
    char *id = NULL;
    int rc = mp_begin(s3, key, &id);
    if (rc)
        return rc;
    char *eid = pct(id, 0);
    char **etags = calloc((size_t)nparts, sizeof *etags);
    uint8_t *buf = malloc(s3->part_size);
    if (!eid || !etags || !buf)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < nparts; i++) {
        uint64_t off = (uint64_t)i * s3->part_size;
        size_t n = (size_t)(size - off < s3->part_size ? size - off : s3->part_size);
        rc = read_at(fd, buf, n, (off_t)off, path);
        if (rc == 0)
            rc = mp_part(s3, key, eid, i + 1, buf, n, &etags[i]);
    }
    if (rc == 0)
        rc = mp_complete(s3, key, eid, etags, nparts);
    if (rc && eid)
        mp_abort(s3, key, eid);
    for (int i = 0; etags && i < nparts; i++)
        free(etags[i]);
    free(etags);
    free(buf);
    free(eid);
    free(id);
    return rc;
}

int ferry_s3_put_file(ferry_s3_t *s3, const char *key, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ferry_error_set(FERRY_EINVAL, "%s is not a regular file", path);
    }
    uint64_t size = (uint64_t)sb.st_size;
    int rc;
    if (size > s3->part_size) {
        rc = put_multipart(s3, key, fd, size, path);
    } else {
        uint8_t *buf = malloc(size ? size : 1);
        rc = buf ? read_at(fd, buf, (size_t)size, 0, path) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        if (rc == 0)
            rc = ferry_s3_put(s3, key, buf, (size_t)size);
        free(buf);
    }
    close(fd);
    return rc;
}
