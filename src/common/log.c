/*
 * log.c: leveled messages to stderr for the command-line tool and the emulator. Library code logs
 * only warnings a caller cannot see through a return code (for example a lenient reader skipping a
 * row); everything else is reported through ferry_error_*.
 */
#include "ferry/common.h"

#include <stdatomic.h>
#include <stdio.h>

static atomic_int log_level = FERRY_LOG_WARN;
static atomic_ulong warnings;

void ferry_log_set_level(ferry_log_level_t level) { atomic_store(&log_level, (int)level); }
ferry_log_level_t ferry_log_get_level(void) { return (ferry_log_level_t)atomic_load(&log_level); }
unsigned long ferry_log_warning_count(void) { return atomic_load(&warnings); }

void ferry_log(ferry_log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level == FERRY_LOG_WARN)
        atomic_fetch_add(&warnings, 1);
    if ((int)level > atomic_load(&log_level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ferry: %s: %s\n", names[level], line);
}
