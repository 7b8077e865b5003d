/*
 * json.h: a small streaming JSON writer for `--json` output (objects, arrays, escaped strings,
 * integers, booleans). Output only: ferry never parses JSON.
 */
#ifndef FERRY_CLI_JSON_H
#define FERRY_CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 32

typedef struct {
    FILE *out;
    int depth;
    int count[CLI_JSON_MAX_DEPTH]; /* values written at each depth, for commas */
    int after_key;
} cli_json_t;

void cli_json_init(cli_json_t *j, FILE *out);
void cli_json_object_begin(cli_json_t *j);
void cli_json_object_end(cli_json_t *j);
void cli_json_array_begin(cli_json_t *j);
void cli_json_array_end(cli_json_t *j);
void cli_json_key(cli_json_t *j, const char *key);
void cli_json_string(cli_json_t *j, const char *s); /* NULL writes null */
void cli_json_string_n(cli_json_t *j, const char *s, size_t len);
void cli_json_int(cli_json_t *j, int64_t v);
void cli_json_bool(cli_json_t *j, int v);
void cli_json_null(cli_json_t *j);
/* Convenience: key + value. */
void cli_json_kv_string(cli_json_t *j, const char *key, const char *s);
void cli_json_kv_int(cli_json_t *j, const char *key, int64_t v);
void cli_json_kv_bool(cli_json_t *j, const char *key, int v);
/* Ends the document with a newline. */
void cli_json_finish(cli_json_t *j);

#endif
