/*
 * mbfile.c: the MBFile record, the NSKeyedArchiver archive stored in Manifest.db's `file` column
 * (backup-format.md §5). The decoder treats every record as hostile: it accepts binary or XML
 * archives, finds the root through $top.root (never assuming index 1), checks every UID it follows
 * against the $objects count, follows at most two UIDs per key (so a cyclic graph cannot loop), checks
 * the type of every value, and on any problem returns FERRY_EFORMAT naming the key, with nothing
 * allocated in *out. The encoder writes exactly Apple's object graph of §5.2 as a binary plist, with
 * integers stored the way libplist 2.2 writes Apple's signed values (two's complement, 8 bytes).
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>

#define ARCHIVER_NAME "NSKeyedArchiver"
#define ARCHIVER_VERSION 100000

/* The parts of an archive the decoder walks. */
typedef struct {
    plist_t objects;   /* $objects, borrowed from the parsed archive */
    uint32_t count;
} archive_t;

/* A UID reference: a PLIST_UID in binary archives; libplist 2.2 leaves XML's {CF$UID: n} a dict. */
static int uid_value(plist_t n, uint64_t *v)
{
    plist_type t = plist_get_node_type(n);
    if (t == PLIST_UID) {
        plist_get_uid_val(n, v);
        return 1;
    }
    if (t == PLIST_DICT && plist_dict_get_size(n) == 1) {
        plist_t u = plist_dict_get_item(n, "CF$UID");
        if (u && plist_get_node_type(u) == PLIST_UINT) {
            plist_get_uint_val(u, v);
            return 1;
        }
    }
    return 0;
}

/* Follows one UID (a non-UID value is taken as stored inline). *out is NULL for UID 0, "$null", the
 * archive's nil. */
static int resolve(const archive_t *a, plist_t n, const char *key, plist_t *out)
{
    uint64_t idx;
    *out = NULL;
    if (!uid_value(n, &idx)) {
        *out = n;
        return 0;
    }
    if (idx >= a->count)
        return ferry_error_set(FERRY_EFORMAT,
                               "MBFile key '%s' refers to object %llu but the archive has only %u objects", key,
                               (unsigned long long)idx, a->count);
    if (idx > 0)
        *out = plist_array_get_item(a->objects, (uint32_t)idx);
    return 0;
}

/* The resolved value of a root key; NULL when absent or nil. */
static int member(const archive_t *a, plist_t root, const char *key, plist_t *out)
{
    plist_t n = plist_dict_get_item(root, key);
    *out = NULL;
    return n ? resolve(a, n, key, out) : 0;
}

static int missing(const char *key)
{
    return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' is missing", key);
}

static int wrong_type(const char *key, const char *want)
{
    return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' is not %s", key, want);
}

/* A string object; *out stays NULL when the key is absent and not required. libplist 2.2 already
 * cuts a string at an embedded NUL; the length check refuses one should a later libplist keep it. */
static int get_string(const archive_t *a, plist_t root, const char *key, int required, char **out)
{
    plist_t n;
    int rc = member(a, root, key, &n);
    if (rc)
        return rc;
    if (!n)
        return required ? missing(key) : 0;
    if (plist_get_node_type(n) != PLIST_STRING)
        return wrong_type(key, "a string");
    uint64_t len = 0;
    const char *s = plist_get_string_ptr(n, &len);
    if (!s || strlen(s) != len)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' holds a string with a NUL byte", key);
    *out = strndup(s, (size_t)len);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory decoding MBFile key '%s'", key);
}

/* A data object of exactly want bytes (want 0: any length, copied to *copy). */
static int data_bytes(plist_t n, const char *key, size_t want, uint8_t *fixed, uint8_t **copy, size_t *copy_len)
{
    if (!n || plist_get_node_type(n) != PLIST_DATA)
        return wrong_type(key, "data");
    uint64_t len = 0;
    const char *p = plist_get_data_ptr(n, &len);
    if (fixed) {
        if (len != want)
            return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' is %llu bytes, expected %zu", key,
                                   (unsigned long long)len, want);
        memcpy(fixed, p, want);
        return 0;
    }
    *copy = malloc(len ? (size_t)len : 1);
    if (!*copy)
        return ferry_error_set(FERRY_ENOMEM, "out of memory decoding MBFile key '%s'", key);
    if (len)
        memcpy(*copy, p, (size_t)len);
    *copy_len = (size_t)len;
    return 0;
}

/* EncryptionKey: {NS.data: data} as Apple writes it, raw data, or an NS.data that is itself a UID
 * (pyiosbackup's synthetic backup). */
static int get_encryption_key(const archive_t *a, plist_t root, ferry_mbfile_t *out)
{
    static const char key[] = "EncryptionKey";
    plist_t n;
    int rc = member(a, root, key, &n);
    if (rc || !n)
        return rc;
    if (plist_get_node_type(n) == PLIST_DICT) {
        plist_t d = plist_dict_get_item(n, "NS.data");
        if (!d)
            return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' has no NS.data", key);
        rc = resolve(a, d, key, &n);
        if (rc)
            return rc;
    }
    rc = data_bytes(n, key, FERRY_PREFIXED_KEY_LEN, out->encryption_key, NULL, NULL);
    out->has_encryption_key = rc == 0;
    return rc;
}

/* An integer stored inline. *present tells an absent optional key from a zero. */
static int get_int(plist_t root, const char *key, int required, int64_t *out, int *present)
{
    plist_t n = plist_dict_get_item(root, key);
    *out = 0;
    if (present)
        *present = n != NULL;
    if (!n)
        return required ? missing(key) : 0;
    if (plist_get_node_type(n) != PLIST_UINT)
        return wrong_type(key, "an integer");
    uint64_t v = 0;
    plist_get_uint_val(n, &v);
    *out = (int64_t)v; /* libplist 2.2 keeps negative integers as their two's complement */
    return 0;
}

/* encodeInt32 values: signed, but a writer that stored them unsigned (0xFFFFFFFE for -2) is accepted. */
static int get_int32(plist_t root, const char *key, int required, int32_t *out, int *present)
{
    int64_t v;
    int rc = get_int(root, key, required, &v, present);
    if (rc)
        return rc;
    if (v < INT32_MIN || v > (int64_t)UINT32_MAX)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '%s' value %lld does not fit 32 bits", key, (long long)v);
    *out = (int32_t)(uint32_t)(uint64_t)v;
    return 0;
}

static int decode_integers(plist_t root, ferry_mbfile_t *out)
{
    int rc;
    if ((rc = get_int32(root, "Mode", 1, &out->mode, NULL)) || (rc = get_int(root, "Size", 1, &out->size, NULL)) ||
        (rc = get_int(root, "InodeNumber", 0, &out->inode, NULL)) ||
        (rc = get_int32(root, "UserID", 0, &out->uid, NULL)) ||
        (rc = get_int32(root, "GroupID", 0, &out->gid, NULL)) ||
        (rc = get_int(root, "LastModified", 0, &out->mtime, NULL)) ||
        (rc = get_int(root, "LastStatusChange", 0, &out->ctime, NULL)) ||
        (rc = get_int(root, "Birth", 0, &out->birth, NULL)) ||
        (rc = get_int32(root, "ProtectionClass", 0, &out->protection_class, &out->has_protection_class)) ||
        (rc = get_int32(root, "Flags", 0, &out->bsd_flags, NULL)))
        return rc;
    if (out->size < 0)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key 'Size' is negative (%lld)", (long long)out->size);
    return 0;
}

static int decode_objects(const archive_t *a, plist_t root, ferry_mbfile_t *out)
{
    plist_t n;
    int rc;
    if ((rc = member(a, root, "$class", &n)))
        return rc;
    if (n && plist_get_node_type(n) != PLIST_DICT)
        return wrong_type("$class", "a class dictionary");
    if ((rc = get_string(a, root, "RelativePath", 1, &out->relative_path)) ||
        (rc = get_string(a, root, "Target", 0, &out->target)))
        return rc;
    if ((rc = member(a, root, "Digest", &n)))
        return rc;
    if (n) {
        if ((rc = data_bytes(n, "Digest", sizeof out->digest, out->digest, NULL, NULL)))
            return rc;
        out->has_digest = 1;
    }
    if ((rc = get_encryption_key(a, root, out)))
        return rc;
    if ((rc = member(a, root, "ExtendedAttributes", &n)))
        return rc;
    if (n && (rc = data_bytes(n, "ExtendedAttributes", 0, NULL, &out->xattrs, &out->xattrs_len)))
        return rc;
    return 0;
}

/* Checks the archive envelope and finds the root object. */
static int open_archive(plist_t top, archive_t *a, plist_t *root)
{
    if (plist_get_node_type(top) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "MBFile archive is not a dictionary");
    plist_t archiver = plist_dict_get_item(top, "$archiver");
    if (!archiver || plist_get_node_type(archiver) != PLIST_STRING ||
        plist_string_val_compare(archiver, ARCHIVER_NAME) != 0)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '$archiver' is not \"" ARCHIVER_NAME "\"");
    a->objects = plist_dict_get_item(top, "$objects");
    if (!a->objects || plist_get_node_type(a->objects) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '$objects' is missing or not an array");
    a->count = plist_array_get_size(a->objects);
    plist_t t = plist_dict_get_item(top, "$top");
    if (!t || plist_get_node_type(t) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '$top' is missing or not a dictionary");
    plist_t r = plist_dict_get_item(t, "root");
    uint64_t idx;
    if (!r || !uid_value(r, &idx))
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '$top.root' is missing or not a UID");
    int rc = resolve(a, r, "$top.root", root);
    if (rc)
        return rc;
    if (!*root || plist_get_node_type(*root) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "MBFile key '$top.root' does not refer to a dictionary");
    return 0;
}

int ferry_mbfile_decode(const uint8_t *data, size_t len, ferry_mbfile_t *out)
{
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "ferry_mbfile_decode: no output record");
    memset(out, 0, sizeof *out);
    if (!data)
        return ferry_error_set(FERRY_EFORMAT, "MBFile record is empty");
    plist_t top = NULL;
    int rc = ferry_plist_parse(data, len, &top, "MBFile record");
    if (rc)
        return rc;
    archive_t a;
    plist_t root;
    rc = open_archive(top, &a, &root);
    if (!rc)
        rc = decode_objects(&a, root, out);
    if (!rc)
        rc = decode_integers(root, out);
    plist_free(top);
    if (rc)
        ferry_mbfile_clear(out);
    return rc;
}

void ferry_mbfile_clear(ferry_mbfile_t *f)
{
    if (!f)
        return;
    free(f->relative_path);
    free(f->target);
    free(f->xattrs);
    ferry_wipe(f, sizeof *f);
    memset(f, 0, sizeof *f);
}

/* ---- encoding --------------------------------------------------------------------------------- */

static plist_t new_int(int64_t v)
{
    return plist_new_uint((uint64_t)v); /* two's complement: libplist 2.2 writes 8-byte signed */
}

static plist_t new_class(const char *name, const char *const *classes, size_t n)
{
    plist_t d = plist_new_dict();
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < n; i++)
        plist_array_append_item(arr, plist_new_string(classes[i]));
    plist_dict_set_item(d, "$classname", plist_new_string(name));
    plist_dict_set_item(d, "$classes", arr);
    return d;
}

/* Appends obj to $objects and stores its UID under key in root. */
static void add_object(plist_t objects, plist_t root, const char *key, plist_t obj)
{
    plist_dict_set_item(root, key, plist_new_uid(plist_array_get_size(objects)));
    plist_array_append_item(objects, obj);
}

/* The root dict and $objects in the encode order of §5.1/§5.2. */
static void build_graph(const ferry_mbfile_t *f, plist_t objects, plist_t root)
{
    static const char *const data_classes[] = {"NSMutableData", "NSData", "NSObject"};
    static const char *const mbfile_classes[] = {"MBFile", "NSObject"};

    plist_array_append_item(objects, plist_new_string("$null"));
    plist_array_append_item(objects, root);
    add_object(objects, root, "RelativePath", plist_new_string(f->relative_path));
    if (f->target)
        add_object(objects, root, "Target", plist_new_string(f->target));
    if (f->has_digest)
        add_object(objects, root, "Digest", plist_new_data((const char *)f->digest, sizeof f->digest));
    if (f->has_encryption_key) {
        plist_t key = plist_new_dict();
        plist_dict_set_item(key, "NS.data",
                            plist_new_data((const char *)f->encryption_key, sizeof f->encryption_key));
        add_object(objects, root, "EncryptionKey", key);
        add_object(objects, key, "$class", new_class("NSMutableData", data_classes, 3));
    }
    plist_dict_set_item(root, "Mode", new_int(f->mode));
    plist_dict_set_item(root, "InodeNumber", new_int(f->inode));
    plist_dict_set_item(root, "UserID", new_int(f->uid));
    plist_dict_set_item(root, "GroupID", new_int(f->gid));
    plist_dict_set_item(root, "LastModified", new_int(f->mtime));
    plist_dict_set_item(root, "LastStatusChange", new_int(f->ctime));
    plist_dict_set_item(root, "Birth", new_int(f->birth));
    plist_dict_set_item(root, "Size", new_int(f->size));
    if (f->has_protection_class)
        plist_dict_set_item(root, "ProtectionClass", new_int(f->protection_class));
    if (f->xattrs)
        add_object(objects, root, "ExtendedAttributes", plist_new_data((const char *)f->xattrs, f->xattrs_len));
    plist_dict_set_item(root, "Flags", new_int(f->bsd_flags));
    add_object(objects, root, "$class", new_class("MBFile", mbfile_classes, 2));
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). libplist writes a non-ASCII
 * string as UTF-16 converted from UTF-8 and silently changes bytes that are not UTF-8, so the record
 * would name another path than the one its fileID was computed from (found by fuzz/fuzz_mbfile.c). */
static int utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s, n;
        uint32_t cp;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

int ferry_mbfile_encode(const ferry_mbfile_t *f, uint8_t **out, size_t *len)
{
    if (!out || !len)
        return ferry_error_set(FERRY_EINVAL, "ferry_mbfile_encode: no output buffer");
    *out = NULL;
    *len = 0;
    if (!f || !f->relative_path)
        return ferry_error_set(FERRY_EINVAL, "cannot encode an MBFile record without a relative path");
    if (f->size < 0)
        return ferry_error_set(FERRY_EINVAL, "cannot encode an MBFile record with a negative size");
    if (!utf8_valid(f->relative_path) || (f->target && !utf8_valid(f->target)))
        return ferry_error_set(FERRY_EINVAL, "cannot encode the MBFile record of '%s': its %s is not valid UTF-8",
                               f->relative_path, utf8_valid(f->relative_path) ? "symlink target" : "path");
    if (!f->xattrs && f->xattrs_len)
        return ferry_error_set(FERRY_EINVAL, "MBFile extended attributes have a length but no bytes");

    plist_t archive = plist_new_dict();
    plist_t objects = plist_new_array();
    plist_t top = plist_new_dict();
    build_graph(f, objects, plist_new_dict());
    plist_dict_set_item(top, "root", plist_new_uid(1));
    plist_dict_set_item(archive, "$version", plist_new_uint(ARCHIVER_VERSION));
    plist_dict_set_item(archive, "$archiver", plist_new_string(ARCHIVER_NAME));
    plist_dict_set_item(archive, "$top", top);
    plist_dict_set_item(archive, "$objects", objects);

    char *bin = NULL;
    uint32_t blen = 0;
    plist_to_bin(archive, &bin, &blen);
    plist_free(archive);
    if (!bin)
        return ferry_error_set(FERRY_ENOMEM, "cannot serialise the MBFile record for '%s'", f->relative_path);
    *out = (uint8_t *)bin;
    *len = blen;
    return 0;
}
