/*
 * fuzz_common.h: what the libFuzzer targets in fuzz/ share: a private scratch folder per process,
 * writing an input to a file in it, the small fixed backups some targets replace one file of, and an
 * abort for broken properties. Only the fuzz targets and the seed generator include it.
 */
#ifndef FERRY_FUZZ_COMMON_H
#define FERRY_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/backup.h"

/* The password of the fixed encrypted backup and of the generated keybag seeds; the keybag target
 * tries it on every keybag it parses. */
#define FUZZ_PASSWORD "fuzz"
/* KDF counts of the generated keybags, and the cap every target passes: far below anything that
 * would make a fuzz iteration spend time in PBKDF2. */
#define FUZZ_KDF_COUNT 2
#define FUZZ_KDF_CAP 16

/* The one file of the fixed encrypted backup whose blob the encrypted-file target replaces. */
#define FUZZ_ENC_DOMAIN "HomeDomain"
#define FUZZ_ENC_PATH "Library/secret.bin"
#define FUZZ_ENC_SIZE 20

/* A folder made once per process under $TMPDIR and removed at exit (best effort). */
const char *fuzz_scratch(void);
/* malloc'd scratch/name; aborts on ENOMEM (a harness failure, not a finding). */
char *fuzz_path(const char *name);
/* Replaces path with exactly data[0..len); aborts when the harness cannot write. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t len);
/* Writes the fixed small backup into udid_dir (created): unencrypted when password is NULL. Returns 0
 * or a FERRY_E* code. Paths, sizes and metadata are constant, so its Manifest.db rows (and fileIDs)
 * are the same in every process; keys are random. */
int fuzz_make_backup(const char *udid_dir, const char *password);
/* Quiets the library's warnings (the targets feed it hostile input all the time). */
void fuzz_quiet(void);
/* Reports a broken property of the code under test and aborts, so libFuzzer keeps the input. */
void fuzz_fail(const char *what) __attribute__((noreturn));
/* Touches every byte of p[0..len) so that ASan checks the claimed length. */
uint64_t fuzz_touch(const void *p, size_t len);

#endif
