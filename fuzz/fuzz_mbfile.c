/*
 * fuzz_mbfile.c: libFuzzer target for the MBFile record decoder (backup-format.md §5, §15.2): any
 * bytes go to ferry_mbfile_decode. On success every decoded buffer is touched (so ASan checks the
 * lengths the decoder claims), and a record the encoder accepts must survive an encode/decode round trip
 * with the same fields: an encoder that writes something else than it was given loses data (the
 * encoder refuses what it cannot write, such as paths that are not UTF-8; the reader accepts them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void check_round_trip(const ferry_mbfile_t *a)
{
    uint8_t *enc = NULL;
    size_t len = 0;
    if (ferry_mbfile_encode(a, &enc, &len) != 0)
        return; /* the encoder refuses some accepted input (paths that are not UTF-8): not a loss */
    ferry_mbfile_t b;
    if (ferry_mbfile_decode(enc, len, &b) != 0)
        fuzz_fail("an encoded MBFile record does not decode");
    free(enc);
    const char *diff = strcmp(a->relative_path, b.relative_path) ? "RelativePath"
                       : !a->target != !b.target || (a->target && strcmp(a->target, b.target)) ? "Target"
                       : a->mode != b.mode ? "Mode"
                       : a->size != b.size ? "Size"
                       : a->inode != b.inode ? "InodeNumber"
                       : a->uid != b.uid || a->gid != b.gid ? "UserID/GroupID"
                       : a->mtime != b.mtime || a->ctime != b.ctime || a->birth != b.birth ? "a time"
                       : a->bsd_flags != b.bsd_flags ? "Flags"
                       : a->has_protection_class != b.has_protection_class ||
                               a->protection_class != b.protection_class ? "ProtectionClass"
                       : a->has_digest != b.has_digest || memcmp(a->digest, b.digest, sizeof a->digest) ? "Digest"
                       : a->has_encryption_key != b.has_encryption_key ||
                               memcmp(a->encryption_key, b.encryption_key, sizeof a->encryption_key) ? "EncryptionKey"
                       : a->xattrs_len != b.xattrs_len || !a->xattrs != !b.xattrs ||
                               (a->xattrs_len && memcmp(a->xattrs, b.xattrs, a->xattrs_len)) ? "ExtendedAttributes"
                       : NULL;
    if (diff) {
        fprintf(stderr, "fuzz: MBFile key %s differs after the round trip\n", diff);
        fuzz_fail("an MBFile record changed in an encode/decode round trip");
    }
    ferry_mbfile_clear(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ferry_mbfile_t mb;
    if (ferry_mbfile_decode(data, size, &mb) == 0) {
        fuzz_touch(mb.relative_path, strlen(mb.relative_path));
        if (mb.target)
            fuzz_touch(mb.target, strlen(mb.target));
        if (mb.xattrs)
            fuzz_touch(mb.xattrs, mb.xattrs_len);
        check_round_trip(&mb);
        ferry_mbfile_clear(&mb);
    } else if (mb.relative_path || mb.target || mb.xattrs) {
        fuzz_fail("ferry_mbfile_decode failed but left memory in the record");
    }
    ferry_error_clear();
    return 0;
}
