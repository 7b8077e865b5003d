/*
 * mberror.c: plain messages for the MBErrorDomain codes a device puts in DLMessageProcessMessage, so
 * that an administrator reads what happened and what to do instead of a number. The codes are those
 * seen from real devices and documented in spec/device-protocol.md; unknown codes get a generic text.
 */
#include "ferry/host.h"

const char *ferry_host_mberror_message(int code) {
    switch (code) {
    case 0: return "success";
    case 1: return "the device reported an unknown error";
    case 2: return "the device could not find a file of the backup";
    case 3: return "the device could not read or write a file";
    case 4: return "the device's backup service is busy with another backup or restore";
    case 10: return "the backup is corrupt or incomplete";
    case 11: return "the device was interrupted (disconnected or locked during the transfer)";
    case 105: return "not enough free space (on this computer for a backup, on the device for a restore); free space and retry";
    case 205: return "the device's backup service refused the request";
    case 207: return "wrong backup password";
    case 208: return "the backup password cannot be changed while a profile requires encrypted backups";
    case 211: return "Find My is on; turn off Find My on the device before restoring";
    case 212: return "the device has not finished Setup Assistant; finish setup (or erase it) and retry";
    default: return "the device reported an error (see its MBErrorDomain code)";
    }
}
