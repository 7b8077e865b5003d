/*
 * reader_testlib.h: helpers shared by test_reader.c and test_reader_slow.c (static, included once per
 * test executable): locating a reference backup and its <UDID>.expected.json, reading that JSON with
 * plain string handling (it is written one key per line), reading a file through the backup reader,
 * and checking a whole backup's listing and contents against the expected entries.
 */
#ifndef FERRY_READER_TESTLIB_H
#define FERRY_READER_TESTLIB_H

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry/backup.h"

typedef struct {
    char *domain, *rel, *target;
    int flags;
    long long size;
    char sha[65];
    int seen;
} rt_entry_t;

#define RT_MAX_ENTRIES 64

/* The <UDID> subdirectory of a reference/<name>/ folder (malloc'd full path), its JSON in *json. */
static inline char *rt_reference_dir(const char *root, char **json)
{
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    char *udid_dir = NULL;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = ferry_path_join(root, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            udid_dir = p;
            if (asprintf(json, "%s.expected.json", p) < 0)
                fail_msg("asprintf");
            break;
        }
        free(p);
    }
    closedir(d);
    assert_non_null(udid_dir);
    return udid_dir;
}

/* A JSON string value starting at the opening quote; only the escapes the fixtures can hold. */
static inline char *rt_json_string(const char *p)
{
    assert_int_equal(*p, '"');
    p++;
    char *out = malloc(strlen(p) + 1), *o = out;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            if (*p == 'u')
                fail_msg("\\u escapes are not handled by this test's JSON reader");
            *o++ = *p == 'n' ? '\n' : *p;
        } else {
            *o++ = *p;
        }
    }
    assert_int_equal(*p, '"');
    *o = '\0';
    return out;
}

static inline size_t rt_load_expected(const char *json_path, rt_entry_t *ents)
{
    size_t len;
    char *text = (char *)tu_read_file(json_path, &len);
    size_t n = 0;
    rt_entry_t *cur = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ' || *line == '\t')
            line++;
        char *colon = strstr(line, "\": ");
        if (line[0] != '"' || !colon)
            continue;
        char *val = colon + 3;
        if (strncmp(line, "\"domain\"", 8) == 0) {
            assert_true(n < RT_MAX_ENTRIES);
            cur = &ents[n++];
            memset(cur, 0, sizeof *cur);
            cur->size = -1;
            cur->domain = rt_json_string(val);
        } else if (!cur) {
            continue;
        } else if (strncmp(line, "\"relativePath\"", 14) == 0) {
            cur->rel = rt_json_string(val);
        } else if (strncmp(line, "\"flags\"", 7) == 0) {
            cur->flags = atoi(val);
        } else if (strncmp(line, "\"size\"", 6) == 0) {
            cur->size = atoll(val);
        } else if (strncmp(line, "\"sha256\"", 8) == 0) {
            char *s = rt_json_string(val);
            assert_int_equal(strlen(s), 64);
            memcpy(cur->sha, s, 65);
            free(s);
        } else if (strncmp(line, "\"target\"", 8) == 0) {
            cur->target = rt_json_string(val);
        }
    }
    free(text);
    return n;
}

static inline void rt_free_expected(rt_entry_t *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ents[i].domain);
        free(ents[i].rel);
        free(ents[i].target);
    }
}

/* Reads a file through the reader in small pieces (to cross chunk boundaries); returns the reader's
 * code (0 on success) and the plaintext in *data. */
static inline int rt_read_file(ferry_backup_t *b, const ferry_record_t *rec, int strict, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    ferry_file_reader_t *r = NULL;
    int rc = ferry_backup_file_open(b, rec, strict, &r);
    if (rc != 0)
        return rc;
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (cap - used < 1000) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t n = ferry_file_reader_read(r, buf + used, 1000);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    ferry_file_reader_close(r);
    *data = buf;
    *len = used;
    return rc;
}

static inline ferry_backup_t *rt_open(const char *dir, const char *pw)
{
    ferry_credentials_t cred = {0};
    cred.password = pw;
    cred.password_len = pw ? strlen(pw) : 0;
    ferry_backup_t *b = NULL;
    int rc = ferry_backup_open(dir, pw ? &cred : NULL, &b);
    if (rc != 0)
        fail_msg("opening %s: %s", dir, ferry_error_last());
    return b;
}

/* Every entry of the backup equals <UDID>.expected.json: type, size and sha256 of each file, symlink
 * target, and nothing more or less. */
static inline void rt_check_listing(ferry_backup_t *b, const char *json)
{
    rt_entry_t ents[RT_MAX_ENTRIES];
    size_t n = rt_load_expected(json, ents);
    assert_int_equal(n, 18);
    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, NULL, &it), 0);
    const ferry_record_t *rec;
    int rc, count = 0;
    while ((rc = ferry_backup_iter_next(it, &rec)) != 0) {
        if (rc < 0)
            fail_msg("row refused: %s", ferry_error_last());
        count++;
        rt_entry_t *e = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(ents[i].domain, rec->domain) && !strcmp(ents[i].rel, rec->relative_path))
                e = &ents[i];
        if (!e)
            fail_msg("unexpected entry %s/%s", rec->domain, rec->relative_path);
        assert_int_equal(e->seen, 0);
        e->seen = 1;
        assert_int_equal(rec->flags, e->flags);
        if (rec->flags == FERRY_FLAG_FILE) {
            uint8_t *data;
            size_t len;
            if (rt_read_file(b, rec, 1, &data, &len) != 0)
                fail_msg("reading %s/%s: %s", rec->domain, rec->relative_path, ferry_error_last());
            assert_int_equal((long long)len, e->size);
            assert_int_equal(rec->mb.size, e->size);
            char sha[65];
            tu_sha256_mem(data, len, sha);
            assert_string_equal(sha, e->sha);
            free(data);
        } else if (rec->flags == FERRY_FLAG_SYMLINK) {
            assert_non_null(rec->mb.target);
            assert_non_null(e->target);
            assert_string_equal(rec->mb.target, e->target);
        }
    }
    ferry_backup_iter_free(it);
    assert_int_equal(count, 18);
    rt_free_expected(ents, n);
}

/* Opens reference/<name> with pw (NULL = none) and checks it against its expected.json. */
static inline void rt_check_reference(const char *name, const char *pw)
{
    char rel[256];
    snprintf(rel, sizeof rel, "reference/%s", name);
    TU_FIXTURE_OR_SKIP(root, rel);
    char *json = NULL;
    char *dir = rt_reference_dir(root, &json);
    ferry_backup_t *b = rt_open(dir, pw);
    assert_int_equal(ferry_backup_is_encrypted(b), pw != NULL);
    assert_non_null(ferry_backup_manifest(b));
    assert_non_null(ferry_backup_info_plist(b));
    assert_non_null(ferry_backup_status(b));
    rt_check_listing(b, json);
    ferry_backup_close(b);
    free(json);
    free(dir);
    free(root);
}

#endif
