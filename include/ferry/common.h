/*
 * ferry/common.h: the foundation every ferry module shares: error codes and the thread-local error
 * message (libgit2 style), logging, safe path checks, atomic file writes, property-list helpers over
 * libplist, hex and hashing helpers, and wiping secrets.
 *
 * Ownership: functions that return allocated memory say so; the caller frees it with free() unless a
 * dedicated _free is named.
 */
#ifndef FERRY_COMMON_H
#define FERRY_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <plist/plist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------------------------ */

/* Every fallible function returns 0 or one of these (negative) and sets a message. */
enum {
    FERRY_OK = 0,
    FERRY_EINVAL = -1,      /* bad argument or usage */
    FERRY_EIO = -2,         /* an operating-system call failed */
    FERRY_ENOMEM = -3,      /* out of memory */
    FERRY_EFORMAT = -4,     /* malformed input: a plist, database, record, keybag */
    FERRY_EPASSWORD = -5,   /* wrong password or derived key */
    FERRY_EUNSAFE = -6,     /* hostile input: path traversal, bad fileID, escaping symlink */
    FERRY_ENOTFOUND = -7,   /* a file, record or key that should be there is not */
    FERRY_ECRYPTO = -8,     /* a cryptographic operation failed (not a wrong password) */
    FERRY_ELIMIT = -9,      /* a documented limit was exceeded (KDF iterations, sizes) */
    FERRY_EINTEGRITY = -10, /* content does not match its record: size, padding, missing blob */
    FERRY_EEXIST = -11,     /* the destination exists and will not be overwritten */
    FERRY_ENOSPC = -12,     /* no space left on the destination */
    FERRY_EUNSUPPORTED = -13, /* a format version or feature ferry does not handle */
    FERRY_ETIMEOUT = -14,   /* a device or peer did not answer before its deadline */
    FERRY_EDEVICE = -15,    /* the device reported an error (MBErrorDomain code) or refused */
    FERRY_ECANCELED = -16,  /* stopped by the user (Ctrl-C) */
};

/* Sets the thread-local message (printf format) and returns code, so that callers can
 * `return ferry_error_set(FERRY_EFORMAT, "...")`. */
int ferry_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As ferry_error_set, appending ": strerror(errno)" and mapping ENOSPC/EDQUOT to FERRY_ENOSPC,
 * ENOMEM to FERRY_ENOMEM, everything else to FERRY_EIO. */
int ferry_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefixes the current message with more context ("while reading X: <old message>"). */
int ferry_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ferry_error_last(void); /* never NULL; "" when no error */
int ferry_error_code(void);
void ferry_error_clear(void);
const char *ferry_error_name(int code); /* "format", "password", ... */

/* ---- logging ----------------------------------------------------------------------------------- */

typedef enum { FERRY_LOG_ERROR = 0, FERRY_LOG_WARN = 1, FERRY_LOG_INFO = 2, FERRY_LOG_DEBUG = 3 } ferry_log_level_t;
void ferry_log_set_level(ferry_log_level_t level);
ferry_log_level_t ferry_log_get_level(void);
/* Warnings count so that a command can report "done with N warnings". */
void ferry_log(ferry_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned long ferry_log_warning_count(void);

/* ---- safe paths -------------------------------------------------------------------------------- */

/* A relativePath from a backup is safe when it is relative, has no "." or ".." component, no empty
 * component other than the whole path being "" (the domain root), and no NUL byte (len is the byte
 * length from the database, so an embedded NUL is detected). */
int ferry_path_check_relative(const char *rel, size_t len);
/* A domain is safe when non-empty, has no '/', no NUL, and is not "." or "..". */
int ferry_path_check_domain(const char *domain, size_t len);
/* malloc'd "a/b" (b may be "", giving "a"). NULL on ENOMEM. */
char *ferry_path_join(const char *a, const char *b);
/* mkdir -p with the given mode for the created directories. */
int ferry_mkdir_p(const char *path, mode_t mode);

/* ---- files ------------------------------------------------------------------------------------- */

/* Writes data to path atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. mode is the final mode (ferry uses 0600). */
int ferry_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same with durable=0: temporary file and rename (readers see the old or the new bytes), no
 * fsync; for files that are scratch (a private staging folder) or cheap to lose. */
int ferry_file_write_replace(const char *path, const void *data, size_t len, mode_t mode, int durable);
/* Reads a whole file of at most max_len bytes into a malloc'd buffer (NUL-terminated for
 * convenience, the NUL not counted in *len). */
int ferry_file_read_all(const char *path, size_t max_len, uint8_t **out, size_t *len);
/* write(2) until done, retrying EINTR; sets the error (ENOSPC named) on failure. */
int ferry_write_full(int fd, const void *buf, size_t len, const char *what);
/* read(2) up to len bytes, retrying EINTR; returns bytes read (< len only at EOF) or negative. */
ssize_t ferry_read_full(int fd, void *buf, size_t len, const char *what);
/* fsync the directory that contains path (or path itself when it is a directory). */
int ferry_fsync_dir(const char *dir);

/* ---- property lists ---------------------------------------------------------------------------- */

/* Reads an XML or binary plist file of at most max_len bytes (0 = 64 MiB). Caller plist_free()s. */
int ferry_plist_read_file(const char *path, size_t max_len, plist_t *out);
/* Parses XML or binary plist bytes; refuses (FERRY_EFORMAT) what ferry_plist_check_tree refuses. */
int ferry_plist_parse(const void *data, size_t len, plist_t *out, const char *what);
/* FERRY_EFORMAT when a parsed tree has a dictionary key with a NUL byte (libplist 2.2 aborts when such
 * a key is read) or nests dicts and arrays deeper than FERRY_PLIST_MAX_DEPTH. Every tree parsed from
 * outside bytes must pass it before its dictionaries are iterated. */
#define FERRY_PLIST_MAX_DEPTH 128
int ferry_plist_check_tree(plist_t p, const char *what);
/* Writes a plist atomically, binary (xml=0) or XML (xml=1), mode 0600. */
int ferry_plist_write_file(const char *path, plist_t p, int xml);
/* The same, durable=0: no fsync (ferry_file_write_replace). */
int ferry_plist_write_file_ex(const char *path, plist_t p, int xml, int durable);
/* Typed getters on a dict: return 0 and fill *out, FERRY_ENOTFOUND when absent, FERRY_EFORMAT when
 * of another type. Strings are malloc'd copies; data is a malloc'd copy. */
int ferry_plist_get_string(plist_t dict, const char *key, char **out);
/* A malloc'd copy of a string node, or NULL when the node is not a string, holds a NUL byte (libplist
 * 2.2's plist_get_string_val aborts on those: never call it on outside input) or memory runs out. */
char *ferry_plist_string_dup(plist_t node);
int ferry_plist_get_bool(plist_t dict, const char *key, int *out);
int ferry_plist_get_int(plist_t dict, const char *key, int64_t *out);   /* signed view of integers */
int ferry_plist_get_data(plist_t dict, const char *key, uint8_t **out, size_t *len);
int ferry_plist_get_date(plist_t dict, const char *key, int64_t *unix_seconds);
/* Date helpers: libplist stores dates relative to 2001-01-01. */
plist_t ferry_plist_new_date_unix(int64_t unix_seconds);

/* ---- hex, hashes, randomness, secrets ---------------------------------------------------------- */

/* out must hold 2*len+1 bytes; lower-case. */
void ferry_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly 2*len hex characters into out; FERRY_EFORMAT on any non-hex character. */
int ferry_hex_decode(const char *hex, uint8_t *out, size_t len);
/* SHA-1 of a || "-" || b as 40 lower-case hex characters + NUL (the backup fileID rule). */
void ferry_sha1_pair_hex(const char *a, size_t alen, const char *b, size_t blen, char out[41]);
/* Cryptographically random bytes (OpenSSL RAND_bytes). */
int ferry_random_bytes(void *buf, size_t len);
/* Wipes memory that held a secret, in a way the compiler does not remove. */
void ferry_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
