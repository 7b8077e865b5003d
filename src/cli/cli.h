/*
 * cli.h: what the command files of `ferry` share: the command table entries, option parsing helpers,
 * reading a backup password without argv, and JSON output. No format or protocol logic lives in
 * src/cli; it calls libferry.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdio.h>

/* Exit codes, documented in docs/cli.md. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_GENERIC = 1, /* the operation failed (see the message) */
    EXIT_USAGE = 2,           /* bad command line */
    EXIT_PASSWORD = 3,        /* wrong or missing password */
    EXIT_INTEGRITY = 4,       /* verify found problems, or some entries were refused */
    EXIT_REFUSED = 5,         /* the rules refuse: a plan's verdict is refused (RULES.md B4-B6, R3-R5) */
    EXIT_DEVICE = 6,          /* the device refused or reported an error (MBErrorDomain), or is not ready */
    EXIT_TIMEOUT = 7,         /* a device did not answer before its deadline */
    EXIT_CANCELED = 130,      /* stopped by Ctrl-C (SIGINT) */
};

typedef int (*cli_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} cli_command_t;

/* The commands (one cmd_*.c file each). */
int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_device_checkin(int argc, char **argv); /* `ferry device checkin`, cmd_device_checkin.c */
/* The same check-in from code (for the emulated device after a restore or when `ferry device serve`
 * starts): url, ca_file may be NULL, timeout 0 = 30 s; the report goes to out. Returns the exit code
 * `ferry device checkin` would. */
int cli_device_checkin_run(const char *dir, const char *url, int restored, const char *ca_file, long timeout,
                           int json, FILE *out);
int cmd_device_serve(int argc, char **argv); /* cmd_device_serve.c: ferry device serve */
int cmd_device_icloud_backup(int argc, char **argv);  /* cmd_device_icloud.c */
int cmd_device_icloud_restore(int argc, char **argv); /* cmd_device_icloud.c */
int cmd_mdm(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_review(int argc, char **argv);    /* cmd_review.c: X1 */
int cmd_snapshots(int argc, char **argv); /* cmd_repo.c, also `ferry snapshot` */
int cmd_prune(int argc, char **argv);     /* cmd_repo.c */
int cmd_export(int argc, char **argv);    /* cmd_export.c */
int cmd_devices(int argc, char **argv);   /* cmd_devices.c */
int cmd_backup(int argc, char **argv);    /* cmd_backup.c */
int cmd_password(int argc, char **argv);  /* cmd_password.c */

/* Maps a FERRY_E* code to an exit code, printing "ferry: <message>" on stderr. */
int cli_fail(int ferry_code);
/* The same mapping without printing. */
int cli_exit_code(int ferry_code);
/* Prints "ferry <cmd>: <message>" and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- opening a backup from the command line (backup_open.c) ------------------------------------ */

#include <getopt.h>
#include "ferry/backup.h"

/* Long-option IDs shared by the commands that read a backup. */
enum {
    OPT_PASSWORD_FILE = 1000,
    OPT_PASSWORD_FD,
    OPT_DERIVED_KEY_FILE,
    OPT_KDF_MAX,
    OPT_JSON,
    OPT_DOMAIN,
    OPT_LENIENT,
    OPT_QUICK,
    OPT_HELP,
    OPT_VERBOSE,
};

#define CLI_BACKUP_LONGOPTS                                                                            \
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},                                     \
    {"password-fd", required_argument, NULL, OPT_PASSWORD_FD},                                         \
    {"derived-key-file", required_argument, NULL, OPT_DERIVED_KEY_FILE},                               \
    {"kdf-max-iterations", required_argument, NULL, OPT_KDF_MAX},                                      \
    {"verbose", no_argument, NULL, OPT_VERBOSE},                                                       \
    {"help", no_argument, NULL, OPT_HELP}

#define CLI_BACKUP_OPTIONS_HELP                                                                        \
    "  --password-file FILE      read the backup password from FILE (first line)\n"                   \
    "  --password-fd N           read the backup password from file descriptor N\n"                   \
    "  --derived-key-file FILE   reuse the derived key in FILE, or save it there after a successful\n" \
    "                            unlock (FILE is as sensitive as the password itself; mode 0600)\n"   \
    "  --kdf-max-iterations N    accept keybags whose DPIC/ITER exceed the default caps, up to N\n"    \
    "  --verbose                 more messages on stderr\n"                                           \
    "The password may also come from FERRY_BACKUP_PASSWORD, or is asked for on a terminal. It is\n"   \
    "never taken from the command line.\n"

typedef struct {
    const char *password_file;
    int password_fd;              /* -1 when unset */
    const char *derived_key_file;
    uint64_t kdf_max;             /* 0 = defaults */
} cli_backup_opts_t;

void cli_backup_opts_init(cli_backup_opts_t *o);
/* Handles one of the shared options; returns 1 when handled, 0 when not ours, EXIT_USAGE on a bad
 * value. */
int cli_backup_opt(cli_backup_opts_t *o, const char *cmd, int opt, const char *arg);
/* Opens a backup directory, getting a password only when the backup is encrypted. Accepts the UDID
 * directory itself or a folder holding exactly one backup. Returns 0 or a FERRY_E* code (message
 * set). */
int cli_backup_open(const char *dir, const cli_backup_opts_t *o, ferry_backup_t **out);
/* Gets credentials for an encrypted backup (used by verify, which opens the backup itself). The
 * caller wipes with cli_credentials_clear. */
int cli_credentials_get(const cli_backup_opts_t *o, ferry_credentials_t *cred, uint8_t kek_buf[32]);
void cli_credentials_clear(ferry_credentials_t *cred);
/* Resolves DIR to the backup's UDID directory (malloc'd). */
int cli_backup_resolve_dir(const char *dir, char **out);
/* The backup folder of a repository snapshot (cmd_repo.c): SNAPSHOT_ID, or with latest the newest of
 * udid; repo NULL = the default repository. */
int cli_repo_resolve(const char *repo, const char *id, const char *udid, int latest, char **dir);
/* Saves the KEK to the --derived-key-file when one was named and it did not exist yet. */
int cli_backup_save_kek(const cli_backup_opts_t *o, const uint8_t *kek);

/* ---- a backup's facts for the rules engine (backup_facts.c) ------------------------------------- */

#include "ferry/policy.h"

typedef struct {
    ferry_backup_t *backup;         /* owned */
    ferry_backup_content_t content;
    ferry_backup_facts_t facts;
    int have_content, have_facts;
} cli_backup_facts_t;

/* Reads the facts of the open backup b, which the holder takes over (also on failure): release
 * everything with cli_backup_facts_free. */
int cli_backup_facts_read(ferry_backup_t *b, cli_backup_facts_t *out);
void cli_backup_facts_free(cli_backup_facts_t *h);

/* `ferry restore` (cmd_restore.c). */
int cmd_restore(int argc, char **argv);

/* ---- secrets (secret.c) ----------------------------------------------------------------------- */

/* Reads one password from file (first line), else fd (>= 0), else the environment variable env, else
 * a prompt on the terminal (echo off). *pw is malloc'd; wipe it with ferry_wipe and free it. */
int cli_secret_read(const char *file, int fd, const char *env, const char *prompt, char **pw, size_t *len);

/* ---- progress (progress.c): shared by backup and restore ----------------------------------------
 * With json, every event is one JSON line on stdout: {"event":"progress","udid","stage","files",
 * "bytes","bytesTotal","percent"} (at most 10 per second and device, plus every stage change) and
 * {"event":NAME,"udid","message"} from cli_progress_event. Without json, a bar per device on stderr
 * when stderr is a terminal (stage, files, bytes, rate, ETA), nothing otherwise. Thread-safe: one
 * cli_progress_t serves every device of a command. The command prints its own final result object. */
#include "ferry/host.h"

typedef struct cli_progress cli_progress_t;

cli_progress_t *cli_progress_new(int json);
/* A ferry_host_progress_fn: pass cli_progress_host and the cli_progress_t as its ctx. */
void cli_progress_host(const ferry_host_progress_t *p, void *ctx);
/* A one-off event ("start", "done", "error", ...); message may be NULL. */
void cli_progress_event(cli_progress_t *pr, const char *event, const char *udid, const char *message);
/* Serialises other output with the progress lines (hold it while printing a result). */
void cli_progress_lock(cli_progress_t *pr);
void cli_progress_unlock(cli_progress_t *pr);
/* Ends the bars (a final newline on a terminal) and frees. NULL is fine. */
void cli_progress_free(cli_progress_t *pr);
/* "transfer", "commit", ... */
const char *cli_progress_stage_name(ferry_host_stage_t s);

/* ---- the assignment service (assignment.c) ------------------------------------------------------ */

/* Asks the device-assignment service at url about t's serial number: an ADE profile means the device
 * is registered and assigned (t->registered_in_abm, t->assignment); none means not assigned. With
 * only_if_registered, a target not known as registered is left unassigned without asking. */
int cli_target_assignment(const char *url, ferry_device_facts_t *t, int only_if_registered);

#endif
