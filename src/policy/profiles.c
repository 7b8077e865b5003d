/*
 * profiles.c: questions the B and R rules ask about a configuration profile, answered from its
 * payload facts: is it the MDM enrollment profile (com.apple.mdm, B10), does it hold a hardware-bound
 * ACME key (R6), does it put certificates or identities in the keychain (B3, D5), and is the MDM
 * identity hardware-bound (S4). Payload types are compared exactly: Apple's names are
 * case-sensitive.
 */
#include "plan_internal.h"

#include <string.h>
#include <strings.h>

static int has_payload_type(const ferry_profile_facts_t *pr, const char *type)
{
    for (size_t i = 0; pr->payloads && i < pr->n_payloads; i++)
        if (strcmp(pr->payloads[i].type, type) == 0)
            return 1;
    return 0;
}

int profile_is_mdm_enrollment(const ferry_profile_facts_t *pr)
{
    return has_payload_type(pr, "com.apple.mdm");
}

/* R6: a com.apple.security.acme payload with HardwareBound = true. */
int profile_has_hardware_bound_acme(const ferry_profile_facts_t *pr)
{
    for (size_t i = 0; pr->payloads && i < pr->n_payloads; i++)
        if (pr->payloads[i].hardware_bound &&
            strcmp(pr->payloads[i].type, "com.apple.security.acme") == 0)
            return 1;
    return 0;
}

/* Certificate and identity payloads put items in the keychain; B3 decides where they restore. */
int profile_has_keychain_items(const ferry_profile_facts_t *pr)
{
    static const char *const types[] = {"com.apple.security.pkcs12", "com.apple.security.pkcs1",
                                        "com.apple.security.root",   "com.apple.security.pem",
                                        "com.apple.security.scep",   "com.apple.security.acme"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (has_payload_type(pr, types[i]))
            return 1;
    return 0;
}

int profile_has_this_device_only_key(const ferry_profile_facts_t *pr)
{
    for (size_t i = 0; pr->payloads && i < pr->n_payloads; i++)
        if (pr->payloads[i].this_device_only)
            return 1;
    return 0;
}

int identity_is_hardware_bound(int flag, const char *identity_uuid, const ferry_profile_facts_t *profiles,
                               size_t n_profiles)
{
    if (flag)
        return 1;
    if (!identity_uuid || !*identity_uuid)
        return 0;
    for (size_t p = 0; profiles && p < n_profiles; p++)
        for (size_t i = 0; profiles[p].payloads && i < profiles[p].n_payloads; i++) {
            const ferry_payload_facts_t *pl = &profiles[p].payloads[i];
            if (pl->hardware_bound && strcmp(pl->type, "com.apple.security.acme") == 0 &&
                strcasecmp(pl->uuid, identity_uuid) == 0)
                return 1;
        }
    return 0;
}
