/*
 * checkin.h: the emulated device's check-in as `ferry device checkin` runs it, shared by
 * checkin_flow.c (the flow: device module + MDM client) and cmd_device_checkin.c (options and
 * report). Private to src/cli.
 */
#ifndef FERRY_CLI_CHECKIN_H
#define FERRY_CLI_CHECKIN_H

#include "ferry/device.h"
#include "ferry/mdm.h"

#define STEP_TEXT 512

/* One line of the report. */
typedef struct {
    char step[48];     /* Authenticate, TokenUpdate, Command, Unenroll, ADE, ... */
    int http_status;   /* 0 when none */
    char result[48];   /* accepted, rejected-401, rejected-403, kept, removed, Acknowledged, ... */
    char rules[32];
    char detail[STEP_TEXT];
} step_t;

/* A check-in in progress and its report. The caller fills the options and zeroes the rest. */
typedef struct {
    const char *dir;
    const char *url;     /* --url: the server's base URL, or NULL */
    const char *ca_file;
    long timeout;
    int restored;
    ferry_device_t *dev;
    step_t *steps;
    size_t n_steps;
    ferry_unenroll_plan_t removed; /* the last unenrollment carried out */
    const char *outcome; /* accepted, unenrolled, re-enrolled, kept, not-enrolled, not-assigned */
    char enrollment_before[32];
    int last_status;
} checkin_t;

/* Loads the device and runs the check-in (restore checks, ADE, Authenticate/TokenUpdate, commands,
 * unenrollment); the report accumulates in c. 0 or a FERRY_E* code (c->dev may then be NULL). */
int checkin_run(checkin_t *c);
/* Writes the outcome into the device's MDMCheckIn state (when there is a device and an outcome). */
int checkin_record_state(checkin_t *c);
/* Releases the report and the device. */
void checkin_clear(checkin_t *c);

#endif
