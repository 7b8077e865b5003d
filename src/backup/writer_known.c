/*
 * writer_known.c: a regular file recorded in Manifest.db without its blob, for a producer that knows
 * the receiver already holds that very blob (the emulated device's incremental backups: the host keeps
 * the blob of an unchanged file from the last backup, so the device neither re-reads nor re-writes it).
 * The row is exactly the one ferry_writer_add_file_path would insert for the same content: the caller
 * vouches for the plaintext size and, in an encrypted backup, passes the file key that content would
 * get (m->file_key, wrapped here as usual). Invariant: no blob, temporary or final, is created, so the
 * staged folder lacks that blob by design; it is the caller's job never to hand such a folder out as a
 * complete backup.
 */
#include "writer_internal.h"

#include <string.h>

int ferry_writer_add_file_known(ferry_writer_t *w, const char *domain, const char *relpath,
                                const ferry_file_meta_t *m, int64_t size)
{
    char fileid[41];
    uint8_t idbin[20];
    int rc = writer_check_entry(w, domain, relpath, 1, fileid, idbin);
    if (rc)
        return rc;
    if (size < 0)
        return ferry_error_set(FERRY_EINVAL, "%s/%s: negative size", domain, relpath);
    int32_t pclass = m && m->protection_class ? m->protection_class : DEFAULT_FILE_CLASS;
    if (pclass < 0 || (w->encrypted && pclass > (int32_t)FERRY_KEYBAG_MAX_CLASSES))
        return ferry_error_set(FERRY_EINVAL, "%s/%s: protection class %d is not valid", domain, relpath, (int)pclass);
    if (w->encrypted && (!m || !m->file_key))
        return ferry_error_set(FERRY_EINVAL, "%s/%s: a known file of an encrypted backup needs its file key",
                               domain, relpath);
    ferry_file_meta_t meta = {0};
    if (m)
        meta = *m;
    meta.file_key = NULL;
    ferry_mbfile_t mb;
    writer_fill_mbfile(w, &mb, relpath, 0100000, 0644, DEFAULT_FILE_CLASS, &meta);
    mb.protection_class = pclass;
    mb.size = size;
    if (w->encrypted) {
        mb.has_encryption_key = 1;
        rc = ferry_keybag_wrap_prefixed(w->kb, (uint32_t)pclass, m->file_key, mb.encryption_key);
        if (rc)
            rc = ferry_error_wrap(rc, "cannot add %s/%s: protection class %d has no usable key in the keybag",
                                  domain, relpath, (int)pclass);
    }
    if (!rc)
        rc = writer_insert_row(w, fileid, idbin, domain, relpath, FERRY_FLAG_FILE, &mb);
    ferry_wipe(mb.encryption_key, sizeof mb.encryption_key);
    return rc;
}
