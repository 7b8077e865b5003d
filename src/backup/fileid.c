/*
 * fileid.c: the fileID rule (backup-format.md §3): lower-case hex SHA-1 of "domain-relativePath".
 * A fileID read from a backup is used to build a blob path only after it has been checked here.
 */
#include "ferry/backup.h"

#include <string.h>

void ferry_fileid(const char *domain, const char *relpath, char out[41])
{
    ferry_sha1_pair_hex(domain, strlen(domain), relpath, strlen(relpath), out);
}

int ferry_fileid_check(const char *fileid, size_t fileid_len, const char *domain, const char *relpath)
{
    if (fileid_len != 40)
        return ferry_error_set(FERRY_EUNSAFE, "fileID '%.64s' is not 40 hexadecimal characters", fileid);
    for (size_t i = 0; i < 40; i++) {
        char c = fileid[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return ferry_error_set(FERRY_EUNSAFE, "fileID '%.40s' is not lower-case hexadecimal", fileid);
    }
    char want[41];
    ferry_fileid(domain, relpath, want);
    if (memcmp(want, fileid, 40) != 0)
        return ferry_error_set(FERRY_EUNSAFE,
                               "fileID %.40s does not match its domain and path (%s-%s hashes to %s)", fileid,
                               domain, relpath, want);
    return 0;
}
