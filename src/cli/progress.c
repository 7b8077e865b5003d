/*
 * progress.c: what a running backup or restore shows (API in cli.h): one bar per device on stderr
 * when it is a terminal (stage, files, bytes, rate, ETA), or JSON-lines events on stdout with --json.
 * Devices run in threads, so every output goes through one mutex and whole lines are written at once;
 * redraws and progress events are limited to 10 per second per device (stage changes always show),
 * so a device that sends 20,000 small files does not spend its time printing.
 */
#include "cli.h"
#include "json.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BARS 64

typedef struct {
    char udid[FERRY_UDID_MAX];
    ferry_host_stage_t stage;
    uint64_t files, bytes, total;
    double percent;
    double start, last;          /* seconds: first report, last output */
} bar_t;

struct cli_progress {
    pthread_mutex_t mu;
    int json, tty;
    bar_t bars[MAX_BARS];
    int nbars, drawn;            /* lines drawn by the last redraw */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_progress_stage_name(ferry_host_stage_t s)
{
    switch (s) {
    case FERRY_HOST_STAGE_PREFLIGHT: return "preflight";
    case FERRY_HOST_STAGE_CONNECT: return "connect";
    case FERRY_HOST_STAGE_TRANSFER: return "transfer";
    case FERRY_HOST_STAGE_COMMIT: return "commit";
    case FERRY_HOST_STAGE_VERIFY: return "verify";
    case FERRY_HOST_STAGE_DONE: return "done";
    }
    return "unknown";
}

cli_progress_t *cli_progress_new(int json)
{
    cli_progress_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    p->json = json;
    p->tty = !json && isatty(STDERR_FILENO);
    return p;
}

void cli_progress_lock(cli_progress_t *pr)
{
    if (pr)
        pthread_mutex_lock(&pr->mu);
}

void cli_progress_unlock(cli_progress_t *pr)
{
    if (pr) {
        fflush(stdout);
        pthread_mutex_unlock(&pr->mu);
    }
}

static bar_t *bar_for(cli_progress_t *pr, const char *udid)
{
    for (int i = 0; i < pr->nbars; i++)
        if (!strcmp(pr->bars[i].udid, udid))
            return &pr->bars[i];
    if (pr->nbars == MAX_BARS)
        return NULL;
    bar_t *b = &pr->bars[pr->nbars++];
    memset(b, 0, sizeof *b);
    snprintf(b->udid, sizeof b->udid, "%s", udid);
    b->start = now_s();
    b->percent = -1;
    return b;
}

static void human(uint64_t v, char *out, size_t n)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    int i = 0;
    while (d >= 1024 && i < 4) {
        d /= 1024;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

/* Seconds left from bytes against the total, else from the device's percentage; -1 when unknown. */
static double eta(const bar_t *b, double rate)
{
    if (b->total > 0 && rate > 0 && b->bytes <= b->total)
        return (double)(b->total - b->bytes) / rate;
    double el = b->last - b->start;
    if (b->percent > 1 && b->percent < 100 && el > 0)
        return el * (100 - b->percent) / b->percent;
    return -1;
}

static void draw(cli_progress_t *pr)
{
    char line[512];
    if (pr->drawn > 0)
        fprintf(stderr, "\033[%dA", pr->drawn);
    for (int i = 0; i < pr->nbars; i++) {
        bar_t *b = &pr->bars[i];
        char bytes[32], rate_s[32], eta_s[32] = "--:--";
        double el = b->last - b->start;
        double rate = el > 0.5 ? (double)b->bytes / el : 0;
        human(b->bytes, bytes, sizeof bytes);
        human((uint64_t)rate, rate_s, sizeof rate_s);
        double e = eta(b, rate);
        if (e >= 0)
            snprintf(eta_s, sizeof eta_s, "%02d:%02d", (int)(e / 60) % 100, (int)e % 60);
        /* Real devices report their own percentage; the byte count against UploadFiles' total is finer. */
        double pct = b->stage == FERRY_HOST_STAGE_DONE ? 100
                     : b->total && b->bytes <= b->total ? 100.0 * (double)b->bytes / (double)b->total
                                                        : b->percent;
        char barbuf[24];
        int fill = pct >= 0 ? (int)(pct / 5) : 0;
        for (int k = 0; k < 20; k++)
            barbuf[k] = k < fill ? '#' : '-';
        barbuf[20] = '\0';
        snprintf(line, sizeof line, "%-25.25s %-9s [%s] %6llu files %10s %10s/s ETA %s", b->udid,
                 cli_progress_stage_name(b->stage), barbuf, (unsigned long long)b->files, bytes, rate_s, eta_s);
        fprintf(stderr, "\r%s\033[K\n", line);
    }
    pr->drawn = pr->nbars;
    fflush(stderr);
}

static void json_progress(const bar_t *b)
{
    cli_json_t j;
    cli_json_init(&j, stdout);
    cli_json_object_begin(&j);
    cli_json_kv_string(&j, "event", "progress");
    cli_json_kv_string(&j, "udid", b->udid);
    cli_json_kv_string(&j, "stage", cli_progress_stage_name(b->stage));
    cli_json_kv_int(&j, "files", (int64_t)b->files);
    cli_json_kv_int(&j, "bytes", (int64_t)b->bytes);
    cli_json_kv_int(&j, "bytesTotal", (int64_t)b->total);
    cli_json_key(&j, "percent");
    if (b->percent >= 0)
        cli_json_int(&j, (int64_t)b->percent);
    else
        cli_json_null(&j);
    cli_json_object_end(&j);
    cli_json_finish(&j);
    fflush(stdout);
}

void cli_progress_host(const ferry_host_progress_t *p, void *ctx)
{
    cli_progress_t *pr = ctx;
    if (!pr || !p->udid || (!pr->json && !pr->tty))
        return;
    pthread_mutex_lock(&pr->mu);
    bar_t *b = bar_for(pr, p->udid);
    if (b) {
        int changed = b->stage != p->stage;
        b->stage = p->stage;
        b->files = p->files_done;
        b->bytes = p->bytes_done;
        if (p->bytes_total)
            b->total = p->bytes_total;
        if (p->percent >= 0)
            b->percent = p->percent;
        double t = now_s();
        if (changed || t - b->last >= 0.1 || p->stage == FERRY_HOST_STAGE_DONE) {
            b->last = t;
            if (pr->json)
                json_progress(b);
            else
                draw(pr);
        }
    }
    pthread_mutex_unlock(&pr->mu);
}

void cli_progress_event(cli_progress_t *pr, const char *event, const char *udid, const char *message)
{
    if (!pr)
        return;
    pthread_mutex_lock(&pr->mu);
    if (pr->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "event", event);
        cli_json_kv_string(&j, "udid", udid);
        cli_json_kv_string(&j, "message", message);
        cli_json_object_end(&j);
        cli_json_finish(&j);
        fflush(stdout);
    } else if (pr->tty && message) {
        if (pr->drawn > 0)
            fprintf(stderr, "\033[%dA\033[J", pr->drawn);
        fprintf(stderr, "%s: %s\n", udid ? udid : "ferry", message);
        pr->drawn = 0;
        draw(pr);
    }
    pthread_mutex_unlock(&pr->mu);
}

void cli_progress_free(cli_progress_t *pr)
{
    if (!pr)
        return;
    pthread_mutex_destroy(&pr->mu);
    free(pr);
}
