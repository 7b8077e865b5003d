/*
 * fuzz_profile.c: libFuzzer target for .mobileconfig profiles (docs/device-format.md "Profiles"):
 * any bytes go to ferry_profile_parse, which takes XML and binary plists and CMS SignedData whose
 * signature it checks against the signer it carries. A parsed profile's strings and payloads are
 * touched, its raw bytes must be the input, and each payload must be found again by its type.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ferry/device.h"

static void touch_str(const char *s)
{
    if (s)
        fuzz_touch(s, strlen(s));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ferry_profile_t *p = NULL;
    if (ferry_profile_parse(data, size, "fuzz.mobileconfig", &p) == 0) {
        if (p->raw_len != size || (size && memcmp(p->raw, data, size)))
            fuzz_fail("a parsed profile does not keep the bytes it was parsed from");
        touch_str(p->signer);
        touch_str(p->PayloadIdentifier);
        touch_str(p->PayloadUUID);
        touch_str(p->PayloadDisplayName);
        for (size_t i = 0; i < p->n_payloads; i++) {
            touch_str(p->payloads[i].PayloadIdentifier);
            touch_str(p->payloads[i].PayloadUUID);
            if (!p->payloads[i].PayloadType || !ferry_profile_find_payload(p, p->payloads[i].PayloadType))
                fuzz_fail("a payload of a parsed profile cannot be found by its type");
        }
        ferry_profile_free(p);
    } else if (p) {
        fuzz_fail("ferry_profile_parse failed but returned a profile");
    }
    ferry_error_clear();
    return 0;
}
