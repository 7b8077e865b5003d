/*
 * restore_source.h: the backup `ferry restore` restores from (restore_source.c). Not a public header.
 */
#ifndef FERRY_CLI_RESTORE_SOURCE_H
#define FERRY_CLI_RESTORE_SOURCE_H

#include "cli.h"
#include "ferry/store.h"

typedef struct {
    const char *snapshot;           /* a snapshot id (or unique prefix), or NULL */
    int latest;                     /* the newest snapshot of udid */
    const char *udid;
    const char *backup_dir;         /* --backup DIR instead of a repository */
    const char *repo;               /* NULL: the default repository */
    const cli_backup_opts_t *pw;    /* where the password comes from */
} restore_source_args_t;

typedef struct {
    char snapshot_id[FERRY_SNAPSHOT_ID_MAX]; /* "" for --backup */
    char *udid_dir;                 /* the <UDID> folder restored from */
    char *root;                     /* its parent (ferry_host_restore's backup_root) */
    char *source_udid;              /* its name */
    char *tmp_root;                 /* a private export of a remote snapshot, removed at free */
    ferry_credentials_t cred;       /* the password of an encrypted backup (wiped at free) */
    cli_backup_facts_t facts;       /* the backup's facts for the plans */
} restore_source_t;

/* Resolves, exports when needed, asks for the password and checks it, reads the facts. On failure
 * the caller still calls restore_source_free. */
int restore_source_open(const restore_source_args_t *a, restore_source_t *s);
void restore_source_free(restore_source_t *s);

#endif
