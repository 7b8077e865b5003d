/*
 * json.c: see json.h. Strings are written as UTF-8 with the escapes RFC 8259 requires; bytes that are
 * not valid UTF-8 (a hostile backup may hold any bytes in a path) are written as U+FFFD so that the
 * output is always valid JSON.
 */
#include "json.h"

#include <string.h>

void cli_json_init(cli_json_t *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

/* Writes the comma that separates this value from the previous one at the same depth. */
static void before_value(cli_json_t *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->count[j->depth]++ > 0)
        fputc(',', j->out);
}

static void open_container(cli_json_t *j, char c)
{
    before_value(j);
    fputc(c, j->out);
    if (j->depth < CLI_JSON_MAX_DEPTH - 1)
        j->depth++;
    j->count[j->depth] = 0;
}

static void close_container(cli_json_t *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    fputc(c, j->out);
}

void cli_json_object_begin(cli_json_t *j) { open_container(j, '{'); }
void cli_json_object_end(cli_json_t *j) { close_container(j, '}'); }
void cli_json_array_begin(cli_json_t *j) { open_container(j, '['); }
void cli_json_array_end(cli_json_t *j) { close_container(j, ']'); }

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    else if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void write_escaped(FILE *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\t': fputs("\\t", out); break;
            case '\r': fputs("\\r", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            i++;
        } else {
            size_t l = utf8_len(s + i, n - i);
            if (l == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(s + i, 1, l, out);
                i += l;
            }
        }
    }
    fputc('"', out);
}

void cli_json_key(cli_json_t *j, const char *key)
{
    before_value(j);
    write_escaped(j->out, key, strlen(key));
    fputc(':', j->out);
    j->after_key = 1;
}

void cli_json_string_n(cli_json_t *j, const char *s, size_t len)
{
    before_value(j);
    write_escaped(j->out, s, len);
}

void cli_json_string(cli_json_t *j, const char *s)
{
    if (!s) {
        cli_json_null(j);
        return;
    }
    cli_json_string_n(j, s, strlen(s));
}

void cli_json_int(cli_json_t *j, int64_t v)
{
    before_value(j);
    fprintf(j->out, "%lld", (long long)v);
}

void cli_json_bool(cli_json_t *j, int v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void cli_json_null(cli_json_t *j)
{
    before_value(j);
    fputs("null", j->out);
}

void cli_json_kv_string(cli_json_t *j, const char *key, const char *s)
{
    cli_json_key(j, key);
    cli_json_string(j, s);
}

void cli_json_kv_int(cli_json_t *j, const char *key, int64_t v)
{
    cli_json_key(j, key);
    cli_json_int(j, v);
}

void cli_json_kv_bool(cli_json_t *j, const char *key, int v)
{
    cli_json_key(j, key);
    cli_json_bool(j, v);
}

void cli_json_finish(cli_json_t *j)
{
    fputc('\n', j->out);
    fflush(j->out);
}
