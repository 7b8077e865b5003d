/*
 * error.c: the thread-local last-error message behind every ferry function's negative return code,
 * in the style of libgit2's giterr. Messages are kept per thread so that many devices can be served
 * or restored at once without their errors mixing.
 */
#include "ferry/common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FERRY_ERRMSG_MAX 1024

static _Thread_local char err_msg[FERRY_ERRMSG_MAX];
static _Thread_local int err_code;

static void set_v(int code, const char *fmt, va_list ap)
{
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    err_code = code;
}

int ferry_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(code, fmt, ap);
    va_end(ap);
    return code;
}

int ferry_error_errno(const char *fmt, ...)
{
    int saved = errno;
    int code = FERRY_EIO;
    if (saved == ENOSPC || saved == EDQUOT || saved == EFBIG)
        code = FERRY_ENOSPC;
    else if (saved == ENOMEM)
        code = FERRY_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    set_v(code, fmt, ap);
    va_end(ap);
    size_t used = strlen(err_msg);
    snprintf(err_msg + used, sizeof err_msg - used, ": %s", strerror(saved));
    errno = saved;
    return code;
}

int ferry_error_wrap(int code, const char *fmt, ...)
{
    char prefix[FERRY_ERRMSG_MAX];
    char old[FERRY_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err_msg, sizeof old);
    /* Built piecewise: a message longer than the buffer is cut, which is fine for a message. */
    size_t n = strlen(prefix);
    memcpy(err_msg, prefix, n + 1);
    if (old[0] && n + 2 < sizeof err_msg) {
        memcpy(err_msg + n, ": ", 3);
        size_t room = sizeof err_msg - n - 3;
        strncat(err_msg + n + 2, old, room);
    }
    err_code = code;
    return code;
}

const char *ferry_error_last(void) { return err_msg; }
int ferry_error_code(void) { return err_code; }

void ferry_error_clear(void)
{
    err_msg[0] = '\0';
    err_code = 0;
}

const char *ferry_error_name(int code)
{
    switch (code) {
    case FERRY_OK: return "ok";
    case FERRY_EINVAL: return "invalid";
    case FERRY_EIO: return "io";
    case FERRY_ENOMEM: return "nomem";
    case FERRY_EFORMAT: return "format";
    case FERRY_EPASSWORD: return "password";
    case FERRY_EUNSAFE: return "unsafe";
    case FERRY_ENOTFOUND: return "notfound";
    case FERRY_ECRYPTO: return "crypto";
    case FERRY_ELIMIT: return "limit";
    case FERRY_EINTEGRITY: return "integrity";
    case FERRY_EEXIST: return "exists";
    case FERRY_ENOSPC: return "nospace";
    case FERRY_EUNSUPPORTED: return "unsupported";
    case FERRY_ETIMEOUT: return "timeout";
    case FERRY_EDEVICE: return "device";
    case FERRY_ECANCELED: return "canceled";
    default: return "unknown";
    }
}
