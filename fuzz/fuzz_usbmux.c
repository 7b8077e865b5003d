/*
 * fuzz_usbmux.c: libFuzzer target for the emulator's usbmuxd (device-protocol.md §4): the input is
 * the byte stream a host writes on one usbmuxd connection (16-byte headers, plist bodies). After a
 * Connect the same bytes go on to the service of that port, so this target also reaches lockdownd,
 * notification_proxy, installation_proxy, AFC and mobilebackup2 behind their framing.
 */
#include "fuzz_common.h"
#include "fuzz_emu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_emu_run("usbmuxd", data, size);
    return 0;
}
