/*
 * unenroll.c: the device ending its MDM enrollment (S3 after a rejected check-in; S4, S6, S7, D1, V1
 * when the enrollment cannot stay), carrying out ferry_policy_unenroll_plan() item by item so that the
 * device does what `ferry plan` predicts. Order matters for a crash in the middle: apps are unmanaged
 * or removed first, then the profiles the MDM installed, and the enrollment profile last, so that a
 * device interrupted half-way is still enrolled and the next unenrollment finishes the job. Every
 * step is saved by the editing function that makes it (each file atomic).
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* E1: an app that stays loses its management. A placeholder (no binary) has nothing left to keep
 * but its data, which stays under files/ for a reinstall. */
static int unmanage_app(ferry_device_t *dev, const char *bundle_id)
{
    ferry_app_t *a = (ferry_app_t *)ferry_device_find_app(dev, bundle_id);
    if (!a)
        return 0;
    if (!a->Installed) {
        size_t i = (size_t)(a - dev->apps);
        ferry_app_t gone = *a;
        memmove(&dev->apps[i], &dev->apps[i + 1], (dev->n_apps - i - 1) * sizeof gone);
        dev->n_apps--;
        dev_app_clear(&gone);
    } else {
        a->IsManaged = 0;
        a->ManagementFlags = 0;
        free(a->DeclarationIdentifier);
        a->DeclarationIdentifier = NULL;
        a->IncludeInBackup = 1;
    }
    return ferry_device_save(dev);
}

static int run_pass(ferry_device_t *dev, const ferry_unenroll_plan_t *p, ferry_item_kind_t kind)
{
    for (size_t i = 0; i < p->n; i++) {
        const ferry_unenroll_item_t *it = &p->items[i];
        if (it->kind != kind || it->action == FERRY_UNENROLL_KEEP)
            continue;
        int rc = 0;
        if (kind == FERRY_ITEM_APP && it->action == FERRY_UNENROLL_UNMANAGE)
            rc = unmanage_app(dev, it->name);
        else if (kind == FERRY_ITEM_APP)
            rc = ferry_device_find_app(dev, it->name) ? ferry_device_remove_app(dev, it->name) : 0;
        else
            rc = ferry_device_remove_profile(dev, it->name);
        if (rc)
            return ferry_error_wrap(rc, "unenrollment stopped at %s %s", ferry_policy_item_kind_name(kind),
                                    it->name);
    }
    return 0;
}

int ferry_device_unenroll(ferry_device_t *dev, const char *cause, ferry_unenroll_plan_t *done)
{
    if (done)
        memset(done, 0, sizeof *done);
    /* S7 and D1 clean up after a restore that brought no enrollment back: what the missing
     * enrollment installed still goes; a rejection or a plain unenrollment needs an enrollment */
    int restore_cause = cause && (!strcmp(cause, "S7") || !strcmp(cause, "D1"));
    if (!ferry_device_enrollment_profile(dev) && !restore_cause)
        return ferry_error_set(FERRY_ENOTFOUND, "%s: the device is not enrolled in MDM", dev->dir);
    ferry_device_facts_t f;
    int rc = ferry_device_facts(dev, 0, &f);
    if (rc)
        return rc;
    ferry_unenroll_plan_t plan;
    rc = ferry_policy_unenroll_plan(&f, cause, &plan);
    ferry_device_facts_free(&f);
    if (rc)
        return rc;
    static const ferry_item_kind_t order[] = {FERRY_ITEM_APP, FERRY_ITEM_PROFILE, FERRY_ITEM_MDM_ENROLLMENT};
    for (size_t k = 0; k < 3 && !rc; k++)
        rc = run_pass(dev, &plan, order[k]);
    if (!rc) {
        ferry_device_checkin_state_t st;
        ferry_device_checkin_state(dev, &st);
        st.Authenticated = 0;
        st.TokenUpdated = 0;
        st.RestorePending = 0;
        snprintf(st.LastOutcome, sizeof st.LastOutcome, "unenrolled");
        rc = ferry_device_set_checkin_state(dev, &st);
    }
    if (done && !rc)
        *done = plan;
    else
        ferry_policy_unenroll_free(&plan);
    return rc;
}
