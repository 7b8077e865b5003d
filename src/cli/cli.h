/*
 * cli.h: what the command files of `ferry` share: the command table entries, option parsing helpers,
 * reading a backup password without argv, and JSON output. No format or protocol logic lives in
 * src/cli; it calls libferry.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <plist/plist.h>

/* Exit codes, documented in docs/cli.md. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_GENERIC = 1, /* the operation failed (see the message) */
    EXIT_USAGE = 2,           /* bad command line */
    EXIT_PASSWORD = 3,        /* wrong or missing password */
    EXIT_INTEGRITY = 4,       /* verify found problems, or some entries were refused */
};

typedef int (*cli_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} cli_command_t;

/* JSON output (plist_json.c): a property list as JSON (dicts, arrays, strings escaped per RFC 8259,
 * dates as ISO 8601, data as base64), followed by a newline; and one escaped JSON string. */
void cli_json_write_plist(FILE *out, plist_t p, int pretty);
void cli_json_string(FILE *out, const char *s, size_t n);

/* Command groups. */
int cmd_device(int argc, char **argv); /* cmd_device.c: ferry device ... */

/* Maps a FERRY_E* code to an exit code, printing "ferry: <message>" on stderr. */
int cli_fail(int ferry_code);
/* Prints "ferry <cmd>: <message>" and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
