/*
 * plist_json.c: see plist_json.h. Escaping and UTF-8 checks are json.c's; this file only maps
 * property-list types onto it, so the device commands print exactly what libferry described.
 */
#include "plist_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void base64(cli_json_t *j, const unsigned char *d, uint64_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((size_t)((n + 2) / 3 * 4 + 1));
    if (!out) {
        cli_json_null(j);
        return;
    }
    size_t k = 0;
    for (uint64_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        out[k++] = t[(v >> 18) & 63];
        out[k++] = t[(v >> 12) & 63];
        out[k++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? t[v & 63] : '=';
    }
    cli_json_string_n(j, out, k);
    free(out);
}

static void real(cli_json_t *j, double v)
{
    if (!isfinite(v)) {
        cli_json_null(j);
    } else if (v > -9.0e15 && v < 9.0e15 && v == (double)(int64_t)v) { /* integral, exact in int64 */
        cli_json_int(j, (int64_t)v);
    } else {
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", v);
        cli_json_string(j, buf);
    }
}

void cli_json_plist(cli_json_t *j, plist_t n)
{
    if (j->depth >= CLI_JSON_MAX_DEPTH - 2) { /* plists from devices and servers: keep the JSON valid */
        cli_json_string(j, "<nested too deeply>");
        return;
    }
    switch (plist_get_node_type(n)) {
    case PLIST_DICT: {
        plist_dict_iter it = NULL;
        cli_json_object_begin(j);
        plist_dict_new_iter(n, &it);
        for (;;) {
            char *k = NULL;
            plist_t v = NULL;
            plist_dict_next_item(n, it, &k, &v);
            if (!k)
                break;
            cli_json_key(j, k);
            cli_json_plist(j, v);
            free(k);
        }
        free(it);
        cli_json_object_end(j);
        break;
    }
    case PLIST_ARRAY:
        cli_json_array_begin(j);
        for (uint32_t i = 0; i < plist_array_get_size(n); i++)
            cli_json_plist(j, plist_array_get_item(n, i));
        cli_json_array_end(j);
        break;
    case PLIST_STRING:
    case PLIST_KEY: {
        uint64_t len = 0;
        const char *s = plist_get_string_ptr(n, &len);
        cli_json_string_n(j, s ? s : "", s ? (size_t)len : 0);
        break;
    }
    case PLIST_BOOLEAN: cli_json_bool(j, plist_bool_val_is_true(n)); break;
    case PLIST_UINT:
    case PLIST_UID: {
        uint64_t v = 0;
        if (plist_get_node_type(n) == PLIST_UINT)
            plist_get_uint_val(n, &v);
        else
            plist_get_uid_val(n, &v);
        cli_json_int(j, (int64_t)v); /* libplist keeps negative integers as two's complement */
        break;
    }
    case PLIST_REAL: {
        double v = 0;
        plist_get_real_val(n, &v);
        real(j, v);
        break;
    }
    case PLIST_DATE: {
        int32_t sec = 0, usec = 0;
        plist_get_date_val(n, &sec, &usec);
        time_t t = (time_t)sec + 978307200; /* libplist counts from 2001-01-01 */
        struct tm tm;
        char buf[40];
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cli_json_string(j, buf);
        break;
    }
    case PLIST_DATA: {
        uint64_t len = 0;
        const char *d = plist_get_data_ptr(n, &len);
        base64(j, (const unsigned char *)d, d ? len : 0);
        break;
    }
    default: cli_json_null(j);
    }
}
