/*
 * fuzz_backup.c: libFuzzer target for a whole backup read through its Manifest.db: a small fixed
 * unencrypted backup is written once per process with ferry's writer; every input replaces its
 * Manifest.db, and the backup is opened with ferry_backup_open, every record is iterated (so row
 * validation of record.c runs on hostile rows: fileID rule, safe paths, MBFile, flags against Mode),
 * looked up again by path, and every regular file is read to the end in strict and lenient mode by the
 * file reader (blob paths built from hostile records, size checks); then the same folder goes through
 * ferry_backup_verify with content checks (`ferry verify`). The seeds are that backup's own
 * Manifest.db (ferry_fuzz_seeds), whose fileIDs name the blobs that exist here.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static char *backup_dir, *db_path;

static void read_file(ferry_backup_t *b, const ferry_record_t *rec, int strict)
{
    ferry_file_reader_t *r = NULL;
    if (ferry_backup_file_open(b, rec, strict, &r) != 0)
        return;
    uint8_t buf[4096];
    ssize_t n;
    while ((n = ferry_file_reader_read(r, buf, sizeof buf)) > 0)
        fuzz_touch(buf, (size_t)n);
    if (n < 0 && ferry_file_reader_read(r, buf, sizeof buf) >= 0)
        fuzz_fail("a file reader error is not sticky");
    ferry_file_reader_close(r);
}

static void check_record(ferry_backup_t *b, const ferry_record_t *rec)
{
    if (ferry_fileid_check(rec->fileid, strlen(rec->fileid), rec->domain, rec->relative_path) != 0 ||
        ferry_path_check_domain(rec->domain, strlen(rec->domain)) != 0 ||
        ferry_path_check_relative(rec->relative_path, strlen(rec->relative_path)) != 0)
        fuzz_fail("the reader handed out a record that is not safe");
    char *blob = ferry_backup_blob_path(b, rec);
    if (!blob || strncmp(blob, backup_dir, strlen(backup_dir)) != 0 || strstr(blob, "/../"))
        fuzz_fail("a blob path leaves the backup folder");
    free(blob);
    ferry_record_t again;
    memset(&again, 0, sizeof again);
    if (ferry_backup_lookup(b, rec->domain, rec->relative_path, &again) == 0)
        ferry_record_clear(&again);
    if (rec->flags == FERRY_FLAG_FILE) {
        read_file(b, rec, 1);
        read_file(b, rec, 0);
    }
}

static void on_finding(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    fuzz_touch(what, strlen(what));
    fuzz_touch(msg, strlen(msg));
}

static void verify(void)
{
    ferry_verify_opts_t o = {1};
    ferry_verify_report_t report;
    ferry_backup_verify(backup_dir, NULL, &o, on_finding, NULL, &report);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    backup_dir = fuzz_path("backup");
    if (fuzz_make_backup(backup_dir, NULL) != 0)
        fuzz_fail("cannot write the fixed backup");
    db_path = ferry_path_join(backup_dir, "Manifest.db");
    if (!db_path)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(db_path, data, size);
    verify();
    ferry_backup_t *b = NULL;
    if (ferry_backup_open(backup_dir, NULL, &b) != 0) {
        ferry_error_clear();
        return 0;
    }
    ferry_backup_iter_t *it = NULL;
    if (ferry_backup_iter_new(b, NULL, &it) == 0) {
        const ferry_record_t *rec;
        int rc;
        unsigned refused = 0;
        while ((rc = ferry_backup_iter_next(it, &rec)) != 0 && refused < 100000) {
            if (rc < 0) {
                refused++;
                continue;
            }
            check_record(b, rec);
        }
        ferry_backup_iter_free(it);
    }
    ferry_backup_close(b);
    ferry_error_clear();
    return 0;
}
