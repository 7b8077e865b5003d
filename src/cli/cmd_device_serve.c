/*
 * cmd_device_serve.c: `ferry device serve DIR... --listen UNIX:PATH|HOST:PORT [--state DIR]
 * [--verbose] [--kdf-dpic N]`: argument parsing only; the emulated device's protocols live in
 * src/device (serve.c and its neighbours). SIGINT and SIGTERM stop the server cleanly (the socket
 * file is removed); SIGUSR1 relays a sync cancel to the hosts.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/device.h"

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

static void usage(FILE *out)
{
    fprintf(out, "usage: ferry device serve DIR... --listen UNIX:PATH|HOST:PORT [--state DIR] [--verbose]\n"
                 "                          [--kdf-dpic N]\n\n"
                 "Serves each device directory as a USB-attached device through the usbmuxd protocol, so\n"
                 "that libimobiledevice tools run with USBMUXD_SOCKET_ADDRESS=<the --listen value> see\n"
                 "them. Pair records, device keys and AFC storage are kept under --state (default:\n"
                 "PATH.d next to a UNIX socket, ferry-serve-PORT.d for TCP). Stop with SIGINT/SIGTERM.\n"
                 "SIGUSR1 cancels the running syncs, as a user would on the device: the devices relay\n"
                 "com.apple.itunes-client.syncCancelRequest to the hosts that observe it.\n"
                 "--kdf-dpic N makes the keybags of encrypted backups cheaper to unlock than a real\n"
                 "device's (10 million iterations): for tests and demonstrations only.\n");
}

int cmd_device_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"state", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"kdf-dpic", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ferry_serve_opts_t o = {0};
    int opt;

    while ((opt = getopt_long(argc, argv, "l:s:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': o.listen = optarg; break;
        case 's': o.state_dir = optarg; break;
        case 'v': o.verbose = 1; break;
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
