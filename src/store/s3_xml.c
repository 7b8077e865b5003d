/*
 * s3_xml.c: reads the handful of elements S3 answers carry (Key, Size, LastModified, IsTruncated,
 * NextContinuationToken, UploadId, Code, Message) from an answer body. Not a general XML parser: it
 * looks for literal <tag> and </tag> pairs of elements that S3 never nests or gives attributes, and
 * unescapes the five predefined entities and numeric references to ASCII. Every read is bounded by the
 * body's length and a caller's maximum; anything else (CDATA, unknown entities) is rejected as
 * FERRY_EFORMAT rather than guessed at.
 */
#include "s3_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *find(const char *hay, size_t hlen, size_t from, const char *needle)
{
    size_t nlen = strlen(needle);
    if (from > hlen || nlen > hlen - from)
        return NULL;
    for (size_t i = from; i + nlen <= hlen; i++)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, nlen))
            return hay + i;
    return NULL;
}

static int unescape(const char *s, size_t n, size_t max, char **out)
{
    if (n > max)
        return ferry_error_set(FERRY_ELIMIT, "S3 answer: an element of %zu bytes (at most %zu)", n, max);
    char *o = malloc(n + 1);
    if (!o)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&') {
            o[j++] = s[i];
            continue;
        }
        static const struct { const char *name; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        size_t k;
        for (k = 0; k < 5; k++) {
            size_t el = strlen(ents[k].name);
            if (n - i >= el && !memcmp(s + i, ents[k].name, el)) {
                o[j++] = ents[k].c;
                i += el - 1;
                break;
            }
        }
        if (k < 5)
            continue;
        /* &#NN; or &#xHH; of an ASCII character */
        unsigned v = 0;
        size_t e = i + 2;
        int hex = e < n && s[e] == 'x';
        e += hex;
        size_t digits = 0;
        for (; e < n && s[e] != ';' && digits < 4; e++, digits++) {
            char c = s[e];
            int d = c >= '0' && c <= '9' ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                break;
            v = v * (hex ? 16 : 10) + (unsigned)d;
        }
        if (i + 1 >= n || s[i + 1] != '#' || e >= n || s[e] != ';' || !digits || v == 0 || v > 127) {
            free(o);
            return ferry_error_set(FERRY_EFORMAT, "S3 answer: an entity ferry does not read");
        }
        o[j++] = (char)v;
        i = e;
    }
    o[j] = '\0';
    *out = o;
    return 0;
}

int ferry_s3_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, size_t max, char **out)
{
    char open[64], close[64];
    *out = NULL;
    if ((size_t)snprintf(open, sizeof open, "<%s>", tag) >= sizeof open ||
        (size_t)snprintf(close, sizeof close, "</%s>", tag) >= sizeof close)
        return ferry_error_set(FERRY_EINVAL, "S3 answer: tag name too long");
    const char *a = find(xml, len, *pos, open);
    if (!a)
        return 0;
    size_t start = (size_t)(a - xml) + strlen(open);
    const char *b = find(xml, len, start, close);
    if (!b)
        return ferry_error_set(FERRY_EFORMAT, "S3 answer: <%s> is not closed", tag);
    size_t n = (size_t)(b - xml) - start;
    if (memchr(xml + start, '<', n))
        return ferry_error_set(FERRY_EFORMAT, "S3 answer: <%s> holds markup", tag);
    int rc = unescape(xml + start, n, max, out);
    if (rc)
        return rc;
    *pos = (size_t)(b - xml) + strlen(close);
    return 1;
}

char *ferry_s3_xml_first(const char *xml, size_t len, const char *tag)
{
    size_t pos = 0;
    char *v = NULL;
    if (ferry_s3_xml_next(xml, len, &pos, tag, 4096, &v) != 1)
        return NULL;
    return v;
}

char *ferry_s3_xml_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *o = malloc(n + 1), *q = o;
    if (!o)
        return NULL;
    for (const char *p = s; *p; p++) {
        const char *r = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (r) {
            memcpy(q, r, strlen(r));
            q += strlen(r);
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    return o;
}

int ferry_s3_xml_block(const char *xml, size_t len, size_t *pos, const char *tag, size_t *start, size_t *end)
{
    char open[64], close[64];
    if ((size_t)snprintf(open, sizeof open, "<%s>", tag) >= sizeof open ||
        (size_t)snprintf(close, sizeof close, "</%s>", tag) >= sizeof close)
        return ferry_error_set(FERRY_EINVAL, "S3 answer: tag name too long");
    const char *a = find(xml, len, *pos, open);
    if (!a)
        return 0;
    *start = (size_t)(a - xml) + strlen(open);
    const char *b = find(xml, len, *start, close);
    if (!b)
        return ferry_error_set(FERRY_EFORMAT, "S3 answer: <%s> is not closed", tag);
    *end = (size_t)(b - xml);
    *pos = *end + strlen(close);
    return 1;
}
