/*
 * s3_config.c: where the S3 client's endpoint and credentials come from. The environment
 * (FERRY_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, FERRY_S3_REGION) overrides the config
 * file ($FERRY_S3_CONFIG, else $HOME/.config/ferry/s3.conf; "key = value" lines, '#' comments, keys
 * endpoint, access_key_id, secret_access_key, region). A config file holding a secret must not be
 * readable by group or others. Credentials never come from argv. The caller wipes the result with
 * ferry_s3_config_clear.
 */
#include "s3_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (64 * 1024)

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int set_field(char **field, const char *value)
{
    if (*field) {
        ferry_wipe(*field, strlen(*field));
        free(*field);
    }
    *field = strdup(value);
    return *field ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static int parse_file(const char *path, const uint8_t *buf, size_t len, ferry_s3_config_t *c)
{
    char *text = malloc(len + 1);
    if (!text)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(text, buf, len);
    text[len] = '\0';
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = ferry_error_set(FERRY_EFORMAT, "%s line %d: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1);
        char **field = !strcmp(k, "endpoint")            ? &c->endpoint
                       : !strcmp(k, "access_key_id")     ? &c->access_key
                       : !strcmp(k, "secret_access_key") ? &c->secret_key
                       : !strcmp(k, "region")            ? &c->region
                                                         : NULL;
        if (!field)
            rc = ferry_error_set(FERRY_EFORMAT, "%s line %d: unknown key '%s' (endpoint, access_key_id, "
                                                "secret_access_key, region)", path, lineno, k);
        else
            rc = set_field(field, v);
    }
    ferry_wipe(text, len);
    free(text);
    return rc;
}

static int read_file(const char *path, int must_exist, ferry_s3_config_t *c)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        return ferry_error_errno("cannot open the S3 config file %s", path);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ferry_error_set(FERRY_EINVAL, "S3 config file %s is not a regular file", path);
    }
    if (sb.st_mode & 077) {
        close(fd);
        return ferry_error_set(FERRY_EUNSAFE, "S3 config file %s is readable by others: chmod 600 it", path);
    }
    close(fd);
    uint8_t *buf;
    size_t len;
    int rc = ferry_file_read_all(path, CONFIG_MAX, &buf, &len);
    if (rc)
        return rc;
    rc = parse_file(path, buf, len, c);
    ferry_wipe(buf, len);
    free(buf);
    return rc;
}

int ferry_s3_config_load(ferry_s3_config_t *c)
{
    memset(c, 0, sizeof *c);
    const char *cf = getenv("FERRY_S3_CONFIG");
    int rc;
    if (cf && *cf) {
        rc = read_file(cf, 1, c);
    } else {
        const char *home = getenv("HOME");
        char *p = home && *home ? ferry_path_join(home, ".config/ferry/s3.conf") : NULL;
        rc = p ? read_file(p, 0, c) : 0;
        free(p);
    }
    static const struct { const char *env; size_t off; } envs[] = {
        {"FERRY_S3_ENDPOINT", offsetof(ferry_s3_config_t, endpoint)},
        {"AWS_ACCESS_KEY_ID", offsetof(ferry_s3_config_t, access_key)},
        {"AWS_SECRET_ACCESS_KEY", offsetof(ferry_s3_config_t, secret_key)},
        {"FERRY_S3_REGION", offsetof(ferry_s3_config_t, region)},
    };
    for (size_t i = 0; rc == 0 && i < sizeof envs / sizeof envs[0]; i++) {
        const char *v = getenv(envs[i].env);
        if (v && *v)
            rc = set_field((char **)((char *)c + envs[i].off), v);
    }
    if (rc == 0 && !c->region)
        rc = set_field(&c->region, "us-east-1");
    if (rc == 0 && (!c->endpoint || !c->access_key || !c->secret_key))
        rc = ferry_error_set(FERRY_EINVAL, "S3 repository: set FERRY_S3_ENDPOINT, AWS_ACCESS_KEY_ID and "
                                           "AWS_SECRET_ACCESS_KEY (or a config file, docs/fleet.md)");
    if (rc == 0 && strncmp(c->endpoint, "http://", 7) && strncmp(c->endpoint, "https://", 8))
        rc = ferry_error_set(FERRY_EINVAL, "S3 endpoint '%s' must start with http:// or https://", c->endpoint);
    if (rc == 0)
        for (const char *p = c->region; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                rc = ferry_error_set(FERRY_EINVAL, "S3 region '%s': letters, digits and '-' only", c->region);
    if (rc == 0) {
        size_t n = strlen(c->endpoint);
        while (n && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = '\0';
    }
    if (rc)
        ferry_s3_config_clear(c);
    return rc;
}

void ferry_s3_config_clear(ferry_s3_config_t *c)
{
    char **f[] = {&c->endpoint, &c->access_key, &c->secret_key, &c->region};
    for (size_t i = 0; i < 4; i++) {
        if (*f[i]) {
            ferry_wipe(*f[i], strlen(*f[i]));
            free(*f[i]);
            *f[i] = NULL;
        }
    }
}
