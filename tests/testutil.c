/*
 * testutil.c: see testutil.h.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_fixture(const char *rel)
{
    const char *root = getenv("FERRY_FIXTURES");
    if (!root || !*root)
        root = FERRY_FIXTURES;
    char *p = NULL;
    if (asprintf(&p, "%s/%s", root, rel) < 0)
        return NULL;
    if (access(p, F_OK) != 0) {
        printf("SKIP: fixture %s is absent (the shared fixtures folder is not next to this checkout)\n", p);
        free(p);
        return NULL;
    }
    return p;
}

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char *p = NULL;
    if (asprintf(&p, "%s/ferry-test-XXXXXX", base) < 0)
        fail_msg("asprintf");
    if (!mkdtemp(p))
        fail_msg("mkdtemp: %s", strerror(errno));
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void tu_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static void hexify(const unsigned char *md, char out[65])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

void tu_sha256_mem(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int l;
    EVP_Digest(data, len, md, &l, EVP_sha256(), NULL);
    hexify(md, out);
}

void tu_sha256_file(const char *path, char out[65])
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static unsigned char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    close(fd);
    unsigned char md[32];
    unsigned int l;
    EVP_DigestFinal_ex(ctx, md, &l);
    EVP_MD_CTX_free(ctx);
    hexify(md, out);
}

void tu_copytree(const char *from, const char *to)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "cp -a '%s' '%s' && chmod -R u+w '%s'", from, to, to) < 0)
        fail_msg("asprintf");
    int rc = system(cmd);
    free(cmd);
    if (rc != 0)
        fail_msg("copying %s to %s failed", from, to);
}
