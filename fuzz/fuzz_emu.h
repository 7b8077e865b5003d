/*
 * fuzz_emu.h: the emulated device the usbmux, lockdown, afc and devicelink fuzz targets talk to: one
 * device created from a template in the scratch folder, served in memory (emu_serve_bytes of
 * src/device/serve_mem.c), with a fixed HostID already trusted so that inputs can open a lockdownd
 * session. Only the fuzz targets and the seed generator include it.
 */
#ifndef FERRY_FUZZ_EMU_H
#define FERRY_FUZZ_EMU_H

#include <stddef.h>
#include <stdint.h>

/* The HostID the fuzzed device trusts (a lockdownd StartSession with it succeeds). */
#define FUZZ_HOST_ID "F0220000-FUZZ-4000-8000-000000000001"
/* The device's template and seed; its UDID is what the seeds put in TargetIdentifier. */
#define FUZZ_EMU_TEMPLATE "ade-iphone"
#define FUZZ_EMU_SEED 7

/* Serves data to service ("usbmuxd", "lockdownd", "afc", "mobilebackup2", ...) and checks the
 * replies; between runs the AFC root and the pair records are emptied, so runs do not pile up state. */
void fuzz_emu_run(const char *service, const uint8_t *data, size_t size);
/* Creates the device directory dir from the fuzz template (for the seed generator and fuzz_emu_run). */
int fuzz_emu_make_device(const char *dir);

#endif
