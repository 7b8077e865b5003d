/*
 * fuzz_afc.c: libFuzzer target for the emulator's AFC server (device-protocol.md §9): the input is
 * the byte stream a host writes on an AFC connection (40-byte CFA6LPAA headers, header data,
 * payload). Paths go to the device's media root, which is emptied after each run.
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
    fuzz_emu_run("afc", data, size);
    return 0;
}
