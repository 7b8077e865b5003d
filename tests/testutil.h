/*
 * testutil.h: helpers shared by the cmocka tests: locating ../shared/fixtures (tests skip, saying so,
 * when it is absent), temporary directories, and reading files.
 */
#ifndef FERRY_TESTUTIL_H
#define FERRY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* malloc'd absolute path of a fixture, or NULL (after printing "SKIP: ...") when the fixtures folder
 * or that file is absent. */
char *tu_fixture(const char *rel);
/* Skips the current cmocka test when the fixture is absent; evaluates to the malloc'd path. */
#define TU_FIXTURE_OR_SKIP(var, rel)                                                                   \
    char *var = tu_fixture(rel);                                                                       \
    if (!var) {                                                                                        \
        skip();                                                                                        \
    }
/* A new private directory under $TMPDIR (or /tmp), malloc'd. */
char *tu_mkdtemp(void);
/* rm -rf; ignores errors. */
void tu_rmtree(const char *path);
/* Reads a whole file; fails the test on error. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* sha256 of a file as lower-case hex (65 bytes). Fails the test on error. */
void tu_sha256_file(const char *path, char out[65]);
void tu_sha256_mem(const void *data, size_t len, char out[65]);
/* Copies a directory tree (cp -a) so that fixtures are never touched; fails the test on error. */
void tu_copytree(const char *from, const char *to);

#endif
