/*
 * ferry/policy.h: the rules of ../shared/spec/RULES.md as pure functions. Facts about a device and a
 * backup go in (plain C structs that the device module and the backup reader fill); decisions come
 * out, each with the rule IDs that made it and a plain sentence saying why. No I/O: nothing here
 * reads a file, a socket or the clock, so the emulated device and `ferry plan` reach the same answer.
 *
 * Dependencies: common only (policy -> backup -> common). Never include device, host or mdm headers.
 *
 * Ownership: *_free releases what the matching function allocated; plist_t results are the caller's
 * to plist_free(). Input structs are borrowed and never modified.
 */
#ifndef FERRY_POLICY_H
#define FERRY_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>
#include "ferry/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- B13: restrictions (com.apple.applicationaccess) ------------------------------------------- */

#define FERRY_RESTRICTIONS_PAYLOAD_TYPE "com.apple.applicationaccess"

/* Combines several restrictions payloads into one dict of effective values (B13). payloads[i] is a
 * payload dict as found in a profile's PayloadContent (Payload* keys are ignored; a dict whose
 * PayloadType is present and is not com.apple.applicationaccess is skipped, so callers may pass every
 * payload of every profile). For each key the most restrictive value wins:
 *   - booleans named allow* (or <lowercase>Allow*, e.g. safariAllowPopups): false beats true;
 *   - booleans named force* / require* (or <lowercase>Force*): true beats false;
 *   - rating* and safariAcceptCookies: the lowest number wins; enforcedSoftwareUpdate*Delay: the
 *     highest wins (ferry choice: a longer delay restricts more);
 *   - arrays of blocked/blacklisted IDs: union; allow-lists (allowListed*, whitelisted*, allowed*,
 *     *Permitted*): intersection, in the order of the first payload that set them;
 *   - any other key or any other type: the first payload (in array order) that sets it wins (ferry
 *     choice: deterministic when the direction is unknown), and the key is reported as multi-set.
 * A value whose type differs from the first value seen for that key is ignored (malformed payload).
 * *out_combined receives a new dict (empty when no restrictions payload). When out_multi_set is not
 * NULL it receives a new array of the key names set in more than one payload, in first-seen order:
 * `ferry plan` warns about each (B13: Apple's developer documentation calls this "unexpected
 * behavior"). Returns FERRY_EINVAL on NULL arguments, FERRY_EFORMAT when an element is not a dict. */
int ferry_policy_restrictions_combine(const plist_t *payloads, size_t n, plist_t *out_combined,
                                      plist_t *out_multi_set);

/* Typed lookup on a combined (or single) restrictions dict: the bool value of key, or dflt when the
 * key is absent, not a bool, or dict is NULL. */
int ferry_policy_restriction_bool(plist_t dict, const char *key, int dflt);

/* The effective restrictions the B rules read, with Apple's defaults for absent keys. */
typedef struct {
    int allow_cloud_backup;             /* allowCloudBackup, default 1 (B5) */
    int force_encrypted_backup;         /* forceEncryptedBackup, default 0 (B6) */
    int allow_enterprise_book_backup;   /* allowEnterpriseBookBackup, default 1 (B7) */
    int allow_cloud_photo_library;      /* allowCloudPhotoLibrary, default 1 (B1: photos) */
    int allow_managed_apps_cloud_sync;  /* allowManagedAppsCloudSync, default 1 (informational) */
    int allow_host_pairing;             /* allowHostPairing, default 1 (informational) */
} ferry_restrictions_t;

/* Apple's defaults: every allow* 1, every force* 0. */
void ferry_policy_restrictions_default(ferry_restrictions_t *out);
/* Fills out from a combined dict (NULL dict gives the defaults). */
void ferry_policy_restrictions_from_plist(plist_t combined, ferry_restrictions_t *out);

#ifdef __cplusplus
}
#endif
#endif
