/*
 * sbuf.c: a small growable string for rendering plans as JSON or tables without I/O. Invariant: s is
 * NUL-terminated whenever it is not NULL; after an allocation failure the buffer stops growing and
 * sb_finish() returns NULL, so a renderer never returns a truncated document.
 */
#include "plan_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_reserve(sbuf_t *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sb_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one (overlong forms,
 * surrogates and code points above U+10FFFF included), so that names from outside never make the
 * JSON invalid. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

void sb_json_string(sbuf_t *b, const char *s)
{
    sb_printf(b, "\"");
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            sb_printf(b, "\\ufffd");
            p++;
        } else if (*p == '"' || *p == '\\') {
            sb_printf(b, "\\%c", *p++);
        } else if (*p == '\n') {
            sb_printf(b, "\\n");
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            sb_printf(b, "\\u%04x", *p++);
        } else {
            sb_printf(b, "%.*s", (int)n, (const char *)p);
            p += n;
        }
    }
    sb_printf(b, "\"");
}

char *sb_finish(sbuf_t *b)
{
    if (b->failed || sb_reserve(b, 0) != 0) {
        free(b->s);
        b->s = NULL;
        return NULL;
    }
    return b->s;
}
