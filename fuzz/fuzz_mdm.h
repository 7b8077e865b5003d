/*
 * fuzz_mdm.h: what the MDM fuzz targets (fuzz_mdm_server.c, fuzz_mdm_device.c) and the seed
 * generator agree on: the serial the server has an ADE assignment for, the UDID the seeds enroll,
 * and the device templates of the device-side target.
 */
#ifndef FERRY_FUZZ_MDM_H
#define FERRY_FUZZ_MDM_H

#define FUZZ_SERIAL "F00FUZZSERIAL"
#define FUZZ_MDM_UDID "00008030-00F0220000000001"
#define FUZZ_MDM_TOPIC "com.apple.mgmt.External.fuzz"
/* fuzz_mdm_server.c record selectors (bits 0-1 endpoint, bit 2 signed) */
enum { FUZZ_MDM_CHECKIN = 0, FUZZ_MDM_COMMAND = 1, FUZZ_MDM_ADE_ENROLL = 2, FUZZ_MDM_CHECKIN_AT_MDM = 3,
       FUZZ_MDM_SIGNED = 4 };
/* fuzz_mdm_device.c: an enrolled device runs commands; an unmanaged one takes the ADE bodies */
#define FUZZ_MDM_DEVICE_TEMPLATE "ade-iphone"
#define FUZZ_ADE_DEVICE_TEMPLATE "unmanaged-personal"

#endif
