/*
 * fuzz_lockdown.c: libFuzzer target for the emulator's lockdownd (device-protocol.md §5, §6): the
 * input is the byte stream a host writes on a lockdownd connection (u32BE-framed XML or binary
 * plists). The device trusts FUZZ_HOST_ID, so an input can open a session (plain in memory) and reach
 * StartService and StopSession. Every reply must be a well-framed plist.
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
    fuzz_emu_run("lockdownd", data, size);
    return 0;
}
