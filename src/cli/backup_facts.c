/*
 * backup_facts.c: the rules engine's facts of a backup folder (ferry_backup_content_read, then
 * ferry_policy_backup_facts_from_content), shared by `ferry plan restore` and `ferry restore` so that
 * both predict from the same reading of a backup. The holder owns the open backup, its content and
 * the facts, and releases them together.
 */
#include "cli.h"

#include <string.h>

int cli_backup_facts_read(ferry_backup_t *b, cli_backup_facts_t *out)
{
    memset(out, 0, sizeof *out);
    out->backup = b;
    int rc = ferry_backup_content_read(b, &out->content);
    if (rc == 0)
        out->have_content = 1;
    if (rc == 0 && (rc = ferry_policy_backup_facts_from_content(&out->content, &out->facts)) == 0)
        out->have_facts = 1;
    return rc;
}

void cli_backup_facts_free(cli_backup_facts_t *h)
{
    if (h->have_facts)
        ferry_policy_backup_facts_free_content(&h->facts);
    if (h->have_content)
        ferry_backup_content_clear(&h->content);
    if (h->backup)
        ferry_backup_close(h->backup);
    memset(h, 0, sizeof *h);
}
