/*
 * ferry/device.h: the emulated managed device.
 */
#ifndef FERRY_DEVICE_H
#define FERRY_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>

#include "ferry/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== the emulated device on the wire (ferry device serve) =======================================
 * src/device/serve.c and the protocol files next to it: usbmuxd, lockdownd with session TLS,
 * notification_proxy, installation_proxy, AFC and mobilebackup2 over DeviceLink, as the unmodified
 * libimobiledevice 1.3.0 tools expect them (spec/device-protocol.md). */

typedef struct {
    const char *listen;        /* "UNIX:/path/to/socket" or "HOST:PORT" */
    const char *state_dir;     /* pair records, device keys, AFC roots; NULL: "<socket path>.d" (UNIX)
                                  or "ferry-serve-<port>.d" (TCP) */
    int verbose;               /* log every request at FERRY_LOG_INFO */
    void (*ready)(void *ctx);  /* called once the socket listens, or NULL */
    void *ready_ctx;
} ferry_serve_opts_t;

/* Serves the device directories until ferry_device_serve_stop() is called (from a signal handler:
 * it only sets a flag), then closes every connection and returns 0. Errors (a directory that is not a
 * device, the same device twice, a socket that cannot be bound) are returned before serving starts. */
int ferry_device_serve(const char *const *dirs, size_t n, const ferry_serve_opts_t *opts);
void ferry_device_serve_stop(void);

#ifdef __cplusplus
}
#endif
#endif
