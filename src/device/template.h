/*
 * template.h: the template table shared by the files that build a device from it (templates.c: the
 * table and the model; template_profiles.c: the profiles; datafiles.c: the data files; create.c:
 * the whole creation). A template is data, not code: adding one is adding a row.
 */
#ifndef FERRY_DEVICE_TEMPLATE_H
#define FERRY_DEVICE_TEMPLATE_H

#include "device_internal.h"

/* The MDM identity of the enrollment profile. */
enum { TI_NONE, TI_PKCS12, TI_SCEP, TI_ACME, TI_ACME_HW };

/* Extra profiles and content. */
enum {
    TX_WIFI = 1 << 0,            /* com.apple.wifi.managed */
    TX_VPN = 1 << 1,             /* com.apple.vpn.managed */
    TX_CERT = 1 << 2,            /* com.apple.security.pkcs1 (the organisation's CA) */
    TX_FONT = 1 << 3,            /* com.apple.font, written as a binary plist */
    TX_WEBCLIP = 1 << 4,         /* com.apple.webClip.managed */
    TX_ENTERPRISE_BOOK = 1 << 5, /* InstallMedia with PersistentID */
    TX_STORE_BOOK = 1 << 6,      /* a Book Store book */
};

/* App sets (apps.c rows carry a mask of these). */
enum {
    TA_FULL = 1 << 0,     /* ade-iphone: ManagementFlags 0, 1, 4, 5, a DDM app, a placeholder */
    TA_WORK = 1 << 1,     /* two managed apps (flags 1 and 5) */
    TA_PERSONAL = 1 << 2, /* unmanaged personal apps */
    TA_SCHOOL = 1 << 3,   /* Shared iPad apps */
    TA_VISION = 1 << 4,   /* visionOS apps */
};

#define TP(c) (c) /* personal data of a B3 category (FERRY_CAT_* bits) */
#define TP_ALL FERRY_CAT_B3_ALL

typedef struct {
    const char *name, *summary;
    const char *ProductType, *DeviceClass, *ProductVersion, *BuildVersion, *DeviceName;
    uint32_t chip_id;            /* A12+ chip ID for the 8-16 UDID; 0: the older 40-hex UDID */
    ferry_enrollment_t enrollment;
    int multi_user, employee_plan;
    const char *assignment;      /* "ABM", "ASM" or NULL */
    int identity;                /* TI_* */
    int signed_enrollment;       /* the enrollment profile is CMS-signed */
    unsigned extras;             /* TX_* */
    unsigned apps;               /* TA_* */
    unsigned personal;           /* TP(category) bits */
    const char *restrictions_a;  /* "key=0,key=1" for the first restrictions payload, or NULL */
    const char *restrictions_b;  /* a second payload, in a second profile (B13), or NULL */
    int personal_account, managed_account, icloud_backup, icloud_photos;
    uint64_t capacity;
    const char *org_name, *org_prefix;
} dev_template_t;

const dev_template_t *dev_template_find(const char *name);

/* What creation works on: the template, the options, and the device being filled. */
typedef struct {
    const dev_template_t *t;
    const ferry_device_create_opts_t *o;
    ferry_device_t *dev;
    const char *mdm_url;
} dev_build_t;

/* templates.c: identity, state, accounts, management, apps, books and personal keychain items. */
int dev_template_model(dev_build_t *b);
/* template_profiles.c: the profiles, parsed back through ferry_profile_parse and installed. */
int dev_template_profiles(dev_build_t *b);
/* datafiles.c: the fixed data files, then the bulk synthetic files, then each app's DynamicSize. */
int dev_template_files(dev_build_t *b);

#endif
