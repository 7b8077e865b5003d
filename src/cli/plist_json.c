/*
 * plist_json.c: writing a property list as JSON for `--json` output, so that commands build one plist
 * (with Apple's key names) and print it either way. Strings are escaped per RFC 8259: quotes,
 * backslashes and control characters, and any byte sequence that is not valid UTF-8 becomes U+FFFD, so
 * the output always parses. Dates are ISO 8601 UTC strings, data is base64, reals that JSON cannot
 * hold (NaN, infinities) are null.
 */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <plist/plist.h>

/* Length of the valid UTF-8 sequence at s (of at most n bytes), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0; /* overlong forms and surrogates are not UTF-8 */
    return len;
}

void cli_json_string(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            case '\b': fputs("\\b", out); break;
            case '\f': fputs("\\f", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, l, out);
                i += l;
            }
        }
    }
    fputc('"', out);
}

static void base64(FILE *out, const unsigned char *d, uint64_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (uint64_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        fputc(t[(v >> 18) & 63], out);
        fputc(t[(v >> 12) & 63], out);
        fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', out);
        fputc(i + 2 < n ? t[v & 63] : '=', out);
    }
    fputc('"', out);
}

static void indent(FILE *out, int pretty, int depth)
{
    if (!pretty)
        return;
    fputc('\n', out);
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

static void write_node(FILE *out, plist_t n, int pretty, int depth)
{
    switch (plist_get_node_type(n)) {
    case PLIST_DICT: {
        plist_dict_iter it = NULL;
        int first = 1;
        fputc('{', out);
        plist_dict_new_iter(n, &it);
        for (;;) {
            char *k = NULL;
            plist_t v = NULL;
            plist_dict_next_item(n, it, &k, &v);
            if (!k)
                break;
            if (!first)
                fputc(',', out);
            first = 0;
            indent(out, pretty, depth + 1);
            cli_json_string(out, k, strlen(k));
            fputs(pretty ? ": " : ":", out);
            write_node(out, v, pretty, depth + 1);
            free(k);
        }
        free(it);
        if (!first)
            indent(out, pretty, depth);
        fputc('}', out);
        break;
    }
    case PLIST_ARRAY: {
        uint32_t cnt = plist_array_get_size(n);
        fputc('[', out);
        for (uint32_t i = 0; i < cnt; i++) {
            if (i)
                fputc(',', out);
            indent(out, pretty, depth + 1);
            write_node(out, plist_array_get_item(n, i), pretty, depth + 1);
        }
        if (cnt)
            indent(out, pretty, depth);
        fputc(']', out);
        break;
    }
    case PLIST_STRING:
    case PLIST_KEY: {
        uint64_t len = 0;
        const char *s = plist_get_string_ptr(n, &len);
        cli_json_string(out, s ? s : "", s ? (size_t)len : 0);
        break;
    }
    case PLIST_BOOLEAN: fputs(plist_bool_val_is_true(n) ? "true" : "false", out); break;
    case PLIST_UINT: {
        uint64_t v = 0;
        plist_get_uint_val(n, &v);
        fprintf(out, "%llu", (unsigned long long)v);
        break;
    }
    case PLIST_UID: {
        uint64_t v = 0;
        plist_get_uid_val(n, &v);
        fprintf(out, "%llu", (unsigned long long)v);
        break;
    }
    case PLIST_REAL: {
        double v = 0;
        plist_get_real_val(n, &v);
        if (isfinite(v))
            fprintf(out, "%.17g", v);
        else
            fputs("null", out);
        break;
    }
    case PLIST_DATE: {
        int32_t sec = 0, usec = 0;
        plist_get_date_val(n, &sec, &usec);
        time_t t = (time_t)sec + 978307200;
        struct tm tm;
        char buf[40];
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cli_json_string(out, buf, strlen(buf));
        break;
    }
    case PLIST_DATA: {
        uint64_t len = 0;
        const char *d = plist_get_data_ptr(n, &len);
        base64(out, (const unsigned char *)d, d ? len : 0);
        break;
    }
    default: fputs("null", out);
    }
}

void cli_json_write_plist(FILE *out, plist_t p, int pretty)
{
    write_node(out, p, pretty, 0);
    fputc('\n', out);
}
