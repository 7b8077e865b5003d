/*
 * restore_internal.h: the context of one branch of a restore plan (one MDM answer), shared by the
 * preflight (restore_plan.c) and the item decisions (restore_items.c). Private to src/policy.
 */
#ifndef FERRY_POLICY_RESTORE_INTERNAL_H
#define FERRY_POLICY_RESTORE_INTERNAL_H

#include "plan_internal.h"

/* What becomes of the backed-up MDM enrollment; the profiles and apps it installed follow it. */
typedef enum {
    FATE_NONE = 0, /* the backup's device was not enrolled */
    FATE_KEPT,     /* restored and in place: accepted, or check-in pending (S1, S2) */
    FATE_REJECTED, /* restored, then removed after the check-in (S3) */
    FATE_REMOVED,  /* never applied or removed during the restore (S4, S6, S7, V1, D1, R2c) */
} enroll_fate_t;

typedef struct {
    const ferry_backup_facts_t *b;
    const ferry_device_facts_t *t;
    const ferry_restore_options_t *o;
    ferry_mdm_answer_t mdm; /* this branch: never FERRY_MDM_BOTH */
    char path;              /* 'S' same device, 'D' different device, 'U' enrollment flow (R2) */
    int v1, v2;             /* V1 / V2 in force on the target */
    int dep;                /* the target's serial is in ABM/ASM with a profile assigned (D2) */
    int acct_src;           /* the backup's device was in ue-* or de-account (R2c, U3) */
    int src_enrolled;
    int identity_hw;        /* the backed-up MDM identity is a hardware-bound ACME key (S4) */
    /* filled by the enrollment decision, read by the profile and app decisions */
    enroll_fate_t fate;
    const char *fate_rules; /* rule IDs of the removal, e.g. "S7 E1" */
    const char *fate_why;   /* why the enrollment is gone, e.g. "the backup holds no enrollment" */
    int s4_reenrolled;      /* S4 removed the enrollment and D2 enrolls the device afresh */
} rctx_t;

/* Decides every item of one branch into p (which must be empty); FERRY_ENOMEM on failure. */
int restore_items(rctx_t *c, ferry_plan_t *p);

#endif
