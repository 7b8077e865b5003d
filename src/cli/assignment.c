/*
 * assignment.c: a restore target's Automated Device Enrollment assignment as the device-assignment
 * service answers it (`--assignment-url`, shared by `ferry plan restore` and `ferry restore`). What a
 * device shows before a restore (a fresh, registered device has no configuration yet) cannot say
 * whether it will enroll again after the restore (D2), nor whether its profile carries
 * do_not_use_profile_from_backup (V1); the organisation's assignment service (ferry mdm's, or the
 * MDM vendor's view of Apple Business Manager) can.
 */
#include "cli.h"

#include "ferry/device.h"
#include "ferry/mdm.h"
#include "ferry/policy.h"

int cli_target_assignment(const char *url, ferry_device_facts_t *t, int only_if_registered)
{
    if (only_if_registered && !t->registered_in_abm) {
        t->assignment.assigned = 0;
        return 0;
    }
    if (!t->serial[0])
        return ferry_error_set(FERRY_EINVAL, "device %s: no serial number to ask the assignment service about",
                               t->udid);
    ferry_mdm_ade_profile_t p;
    ferry_mdm_ade_profile_init(&p);
    int rc = ferry_mdm_client_fetch_ade_profile(url, t->serial, NULL, &p);
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear(); /* not assigned (or not registered): nothing to re-enroll with */
        t->assignment.assigned = 0;
        return 0;
    }
    if (rc == 0) {
        t->registered_in_abm = 1; /* the service holds a profile for this serial: it is registered */
        t->assignment.assigned = 1;
        t->assignment.is_supervised = p.is_supervised;
        t->assignment.is_multi_user = p.is_multi_user;
        t->assignment.do_not_use_profile_from_backup = p.do_not_use_profile_from_backup;
    }
    ferry_mdm_ade_profile_clear(&p);
    return rc;
}
