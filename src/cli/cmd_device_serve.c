/*
 * cmd_device_serve.c: `ferry device serve DIR... --listen UNIX:PATH|HOST:PORT [--state DIR]
 * [--verbose] [--kdf-dpic N] [--checkin] [--mdm-url URL]`: argument parsing and the glue between the emulated
 * device (src/device: serve.c and its neighbours) and the MDM check-in (checkin_flow.c), which the
 * device module cannot call itself: each device that is enrolled or has a restore pending checks in
 * when serve starts, and each device checks in again after a completed restore (S2). A server that
 * cannot be reached is logged and serving goes on (S2: the device tries again at its next
 * opportunity). SIGINT and SIGTERM stop the server cleanly (the socket file is removed); SIGUSR1
 * relays a sync cancel to the hosts.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/device.h"

/* A served device's check-in must not hold a host waiting for long: an unreachable server is S2's
 * "try again later". */
#define SERVE_CHECKIN_TIMEOUT 15L

static void on_signal(int sig)
{
    (void)sig;
    ferry_device_serve_stop();
}

static void on_cancel(int sig)
{
    (void)sig;
    ferry_device_serve_cancel_sync();
}

static void on_ready(void *ctx)
{
    fprintf(stderr, "ferry device serve: listening on %s\n", (const char *)ctx);
    fflush(stderr);
}

/* One check-in, reported on stderr (stdout belongs to nobody while serving). Never fails serving. */
static int run_checkin(const char *dir, void *ctx)
{
    const char *url = ctx; /* --mdm-url, as `ferry device checkin --url`; NULL: the device's own */
    fprintf(stderr, "ferry device serve: %s checks in with its MDM server\n", dir);
    int ec = cli_device_checkin_run(dir, url, 0, NULL, SERVE_CHECKIN_TIMEOUT, 0, stderr);
    if (ec != EXIT_OK)
        fprintf(stderr, "ferry device serve: %s: the check-in did not complete (exit %d); serving goes on, "
                        "the device checks in again after its next restore or serve start\n", dir, ec);
    fflush(stderr);
    return 0;
}

/* When serve starts: devices that are enrolled, or that a restore left waiting for the S2 check-in. */
static void checkin_at_start(char *const *dirs, int n, const char *url)
{
    for (int i = 0; i < n; i++) {
        ferry_device_t *dev = NULL;
        if (ferry_device_load(dirs[i], &dev))
            continue; /* ferry_device_serve reports it */
        ferry_device_checkin_state_t st;
        ferry_device_checkin_state(dev, &st);
        int due = ferry_device_enrollment_profile(dev) != NULL || st.RestorePending;
        ferry_device_free(dev);
        if (due)
            run_checkin(dirs[i], (void *)url);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ferry device serve DIR... --listen UNIX:PATH|HOST:PORT [--state DIR] [--verbose]\n"
                 "                          [--kdf-dpic N] [--checkin] [--mdm-url URL]\n"
                 "                          [--restore-host finder|configurator] [--restore-skip CATS]\n\n"
                 "Serves each device directory as a USB-attached device through the usbmuxd protocol, so\n"
                 "that libimobiledevice tools run with USBMUXD_SOCKET_ADDRESS=<the --listen value> see\n"
                 "them. Pair records, device keys and AFC storage are kept under --state (default:\n"
                 "PATH.d next to a UNIX socket, ferry-serve-PORT.d for TCP). Stop with SIGINT/SIGTERM.\n"
                 "SIGUSR1 cancels the running syncs, as a user would on the device: the devices relay\n"
                 "com.apple.itunes-client.syncCancelRequest to the hosts that observe it.\n"
                 "--kdf-dpic N makes the keybags of encrypted backups cheaper to unlock than a real\n"
                 "device's (10 million iterations): for tests and demonstrations only.\n"
                 "With --checkin (or --mdm-url), each enrolled device (or one with a restore pending) checks\n"
                 "in with its MDM server when serve starts, and each device checks in after a completed\n"
                 "restore (S2), as `ferry device checkin` would. Check-ins are opt-in because the templates'\n"
                 "MDM URLs (mdm.example.com) name no real server. --mdm-url URL is the server (MDM and\n"
                 "device-assignment service) those check-ins use, as `ferry device checkin --url`; without\n"
                 "it each device uses the URLs of its enrollment or management configuration.\n"
                 "--restore-host and --restore-skip are what a restore uses when the host does not say:\n"
                 "the host type (S5, R4) and the categories left out (X1, e.g. passwords,wifi). ferry's hosts\n"
                 "send them in the Restore request (HostType, SkipCategories); idevicebackup2 cannot.\n");
}

int cmd_device_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"state", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"kdf-dpic", required_argument, NULL, 'k'},
        {"checkin", no_argument, NULL, 'c'},
        {"mdm-url", required_argument, NULL, 'm'},
        {"restore-host", required_argument, NULL, 'H'},
        {"restore-skip", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ferry_serve_opts_t o = {0};
    int opt, checkin = 0;
    const char *mdm_url = NULL;

    while ((opt = getopt_long(argc, argv, "l:s:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': o.listen = optarg; break;
        case 's': o.state_dir = optarg; break;
        case 'v': o.verbose = 1; break;
        case 'c': checkin = 1; break;
        case 'm': mdm_url = optarg; checkin = 1; break;
        case 'H':
            if (ferry_policy_host_parse(optarg, &o.restore_host))
                return cli_usage_error("device serve", "--restore-host is finder or configurator, not '%s'", optarg);
            break;
        case 'S':
            if (ferry_policy_category_list_parse(optarg, &o.restore_skip_categories))
                return cli_usage_error("device serve", "--restore-skip: %s", ferry_error_last());
            break;
        case 'k': {
            char *end = NULL;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > UINT32_MAX)
                return cli_usage_error("device serve", "--kdf-dpic needs a number from 1 to %u", UINT32_MAX);
            o.kdf_dpic = (uint32_t)v;
            break;
        }
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!o.listen)
        return cli_usage_error("device serve", "--listen UNIX:PATH or HOST:PORT is required");
    if (optind >= argc)
        return cli_usage_error("device serve", "at least one device directory is required");
    if (o.verbose)
        ferry_log_set_level(FERRY_LOG_INFO);
    if (checkin) {
        checkin_at_start(argv + optind, argc - optind, mdm_url);
        o.restored = run_checkin;
        o.restored_ctx = (void *)mdm_url;
    }
    o.ready = on_ready;
    o.ready_ctx = (void *)o.listen;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction sc = {.sa_handler = on_cancel};
    sigemptyset(&sc.sa_mask);
    sigaction(SIGUSR1, &sc, NULL);
    int rc = ferry_device_serve((const char *const *)argv + optind, (size_t)(argc - optind), &o);
    return rc ? cli_fail(rc) : EXIT_OK;
}
