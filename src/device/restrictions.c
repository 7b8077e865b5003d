/*
 * restrictions.c: the device's effective restrictions. The device gathers every
 * com.apple.applicationaccess payload of every installed profile, in profile (file-name) order, and
 * hands them to the policy module, which owns rule B13 (several payloads combine, the most restrictive
 * value wins). The device never decides B13 itself, so the emulated device and `ferry plan` agree.
 */
#include "device_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/policy.h"

int ferry_device_restrictions_payloads(const ferry_device_t *dev, plist_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < dev->n_profiles; i++)
        for (size_t j = 0; j < dev->profiles[i].profile->n_payloads; j++)
            cnt += !strcmp(dev->profiles[i].profile->payloads[j].PayloadType, FERRY_RESTRICTIONS_PAYLOAD_TYPE);
    plist_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < dev->n_profiles; i++)
        for (size_t j = 0; j < dev->profiles[i].profile->n_payloads; j++) {
            const ferry_payload_t *pl = &dev->profiles[i].profile->payloads[j];
            if (!strcmp(pl->PayloadType, FERRY_RESTRICTIONS_PAYLOAD_TYPE))
                arr[k++] = pl->dict;
        }
    *out = arr;
    *n = cnt;
    return 0;
}

int ferry_device_effective_restrictions(const ferry_device_t *dev, plist_t *out, plist_t *conflicts)
{
    plist_t *payloads = NULL;
    size_t n = 0;
    *out = NULL;
    if (conflicts)
        *conflicts = NULL;
    int rc = ferry_device_restrictions_payloads(dev, &payloads, &n);
    if (!rc)
        rc = ferry_policy_restrictions_combine(payloads, n, out, conflicts); /* B13 */
    free(payloads);
    return rc;
}
