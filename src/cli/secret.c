/*
 * secret.c: where a backup password comes from: --password-file, --password-fd, the environment
 * variable FERRY_BACKUP_PASSWORD, or a prompt on the controlling terminal with echo off. Never argv:
 * command lines are visible to every user through /proc. The password buffer is wiped by
 * cli_credentials_clear.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_MAX 4096

/* Reads one line (without its newline) from fd into a malloc'd buffer. */
static int read_secret_line(int fd, char **out, size_t *len, const char *what)
{
    char *buf = malloc(PASSWORD_MAX + 1);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = ferry_error_errno("cannot read the password from %s", what);
            ferry_wipe(buf, PASSWORD_MAX + 1);
            free(buf);
            return rc;
        }
        if (r == 0 || c == '\n')
            break;
        if (n == PASSWORD_MAX) {
            ferry_wipe(buf, PASSWORD_MAX + 1);
            free(buf);
            return ferry_error_set(FERRY_EINVAL, "the password from %s is longer than %d bytes", what, PASSWORD_MAX);
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int prompt_terminal(const char *prompt, const char *envname, char **out, size_t *len)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0 || !isatty(fd)) {
        if (fd >= 0)
            close(fd);
        return ferry_error_set(FERRY_EPASSWORD,
                               "a password is needed and none was given: use --password-file, --password-fd or "
                               "%s, or run on a terminal to be asked", envname ? envname : "FERRY_BACKUP_PASSWORD");
    }
    struct termios old, quiet;
    int have_termios = tcgetattr(fd, &old) == 0;
    if (have_termios) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!write(fd, prompt, strlen(prompt));
    int rc = read_secret_line(fd, out, len, "the terminal");
    (void)!write(fd, "\n", 1);
    if (have_termios)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    return rc;
}

int cli_secret_read(const char *file, int pfd, const char *envname, const char *prompt, char **pw, size_t *len)
{
    if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return ferry_error_errno("cannot open the password file %s", file);
        int rc = read_secret_line(fd, pw, len, file);
        close(fd);
        return rc;
    }
    if (pfd >= 0)
        return read_secret_line(pfd, pw, len, "the password file descriptor");
    const char *env = envname ? getenv(envname) : NULL;
    if (env) {
        *len = strlen(env);
        *pw = strdup(env);
        return *pw ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    return prompt_terminal(prompt, envname, pw, len);
}

static int read_password(const cli_backup_opts_t *o, char **pw, size_t *len)
{
    return cli_secret_read(o->password_file, o->password_fd, "FERRY_BACKUP_PASSWORD", "Backup password: ", pw, len);
}

/* A derived-key file holds the 32-byte KEK as 64 hex characters. */
static int read_kek_file(const char *path, uint8_t kek[32], int *found)
{
    uint8_t *buf;
    size_t len;
    *found = 0;
    int rc = ferry_file_read_all(path, 1024, &buf, &len);
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear();
        return 0;
    }
    if (rc)
        return rc;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    if (len != 64 || ferry_hex_decode((const char *)buf, kek, 32) != 0)
        rc = ferry_error_set(FERRY_EFORMAT, "%s does not hold a derived key (64 hexadecimal characters)", path);
    else
        *found = 1;
    ferry_wipe(buf, len);
    free(buf);
    return rc;
}

int cli_credentials_get(const cli_backup_opts_t *o, ferry_credentials_t *cred, uint8_t kek_buf[32])
{
    memset(cred, 0, sizeof *cred);
    cred->limits.max_dpic = o->kdf_max;
    cred->limits.max_iter = o->kdf_max;
    if (o->derived_key_file) {
        int found = 0;
        int rc = read_kek_file(o->derived_key_file, kek_buf, &found);
        if (rc)
            return rc;
        if (found) {
            cred->kek = kek_buf;
            return 0;
        }
    }
    char *pw = NULL;
    size_t len = 0;
    int rc = read_password(o, &pw, &len);
    if (rc)
        return rc;
    cred->password = pw;
    cred->password_len = len;
    return 0;
}

void cli_credentials_clear(ferry_credentials_t *cred)
{
    if (cred->password) {
        ferry_wipe((void *)cred->password, cred->password_len);
        free((void *)cred->password);
    }
    memset(cred, 0, sizeof *cred);
}

int cli_backup_save_kek(const cli_backup_opts_t *o, const uint8_t *kek)
{
    if (!o->derived_key_file || !kek || access(o->derived_key_file, F_OK) == 0)
        return 0;
    char hex[65];
    ferry_hex_encode(kek, 32, hex);
    hex[64] = '\n';
    int rc = ferry_file_write_atomic(o->derived_key_file, hex, 65, 0600);
    ferry_wipe(hex, sizeof hex);
    if (rc == 0)
        ferry_log(FERRY_LOG_INFO, "saved the derived key to %s: keep it as secret as the password", o->derived_key_file);
    return rc;
}
