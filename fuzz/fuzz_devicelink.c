/*
 * fuzz_devicelink.c: libFuzzer target for DeviceLink and mobilebackup2 on the emulator
 * (device-protocol.md §10): the input is what a host writes on a mobilebackup2 connection: the reply
 * to the version exchange, then DLMessageProcessMessage requests (Hello, Backup, Restore, Info, List,
 * ChangePassword, EnableCloudBackup), status responses and the raw file blocks of an upload.
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
    fuzz_emu_run("mobilebackup2", data, size);
    return 0;
}
