/*
 * vocab.c: the vocabulary of RULES.md as names and parsers: enrollment types, backup accounts, host
 * types, MDM answers, data categories, OS versions, and the "same device" UDID comparison. Names are
 * the exact strings the CLI accepts and the JSON prints; every parser rejects what it does not know
 * rather than guessing, so a typo on the command line never silently changes a prediction.
 */
#include "ferry/policy.h"

#include <ctype.h>
#include <string.h>

static const char *const ENROLL_NAMES[] = {"none",       "profile-de", "ade",
                                           "ue-profile", "ue-account", "de-account"};
static const char *const ACCOUNT_NAMES[] = {"none", "personal", "managed"};
static const char *const MDM_NAMES[] = {"both", "accept", "reject-401", "reject-403", "unreachable"};
static const char *const CATEGORY_NAMES[FERRY_CAT_COUNT] = {
    "passwords", "call-history", "health", "website-history", "wifi", "photos"};

static int parse_name(const char *s, const char *const *names, size_t n, const char *what, int *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    return ferry_error_set(FERRY_EINVAL, "unknown %s '%s'", what, s ? s : "(null)");
}

const char *ferry_policy_enrollment_name(ferry_enrollment_t e)
{
    return (unsigned)e < 6 ? ENROLL_NAMES[e] : "?";
}

int ferry_policy_enrollment_parse(const char *s, ferry_enrollment_t *out)
{
    int v = 0;
    int rc = parse_name(s, ENROLL_NAMES, 6, "enrollment type (none, profile-de, ade, ue-profile, "
                                            "ue-account, de-account)", &v);
    if (rc == 0)
        *out = (ferry_enrollment_t)v;
    return rc;
}

const char *ferry_policy_account_name(ferry_backup_account_t a)
{
    return (unsigned)a < 3 ? ACCOUNT_NAMES[a] : "?";
}

int ferry_policy_account_parse(const char *s, ferry_backup_account_t *out)
{
    int v = 0;
    int rc = parse_name(s, ACCOUNT_NAMES, 3, "account (none, personal, managed)", &v);
    if (rc == 0)
        *out = (ferry_backup_account_t)v;
    return rc;
}

const char *ferry_policy_host_name(ferry_host_type_t h)
{
    return h == FERRY_HOST_CONFIGURATOR ? "configurator" : "finder";
}

int ferry_policy_host_parse(const char *s, ferry_host_type_t *out)
{
    /* RULES.md: finder is the host type of Finder, idevicebackup2 and ferry alike. */
    if (s && (strcmp(s, "finder") == 0 || strcmp(s, "ferry") == 0)) {
        *out = FERRY_HOST_FINDER;
        return 0;
    }
    if (s && strcmp(s, "configurator") == 0) {
        *out = FERRY_HOST_CONFIGURATOR;
        return 0;
    }
    return ferry_error_set(FERRY_EINVAL, "unknown host type '%s' (ferry, finder, configurator)",
                           s ? s : "(null)");
}

const char *ferry_policy_mdm_name(ferry_mdm_answer_t m)
{
    return (unsigned)m < 5 ? MDM_NAMES[m] : "?";
}

int ferry_policy_mdm_parse(const char *s, ferry_mdm_answer_t *out)
{
    int v = 0;
    int rc = parse_name(s, MDM_NAMES, 5, "MDM answer (accept, reject-401, reject-403, unreachable)",
                        &v);
    if (rc == 0)
        *out = (ferry_mdm_answer_t)v;
    return rc;
}

const char *ferry_policy_category_name(unsigned cat_bit)
{
    for (unsigned i = 0; i < FERRY_CAT_COUNT; i++)
        if (cat_bit == (1u << i))
            return CATEGORY_NAMES[i];
    return "?";
}

int ferry_policy_category_parse(const char *s, unsigned *out_bit)
{
    int v = 0;
    int rc = parse_name(s, CATEGORY_NAMES, FERRY_CAT_COUNT,
                        "category (passwords, call-history, health, website-history, wifi, photos)",
                        &v);
    if (rc == 0)
        *out_bit = 1u << v;
    return rc;
}

/* One decimal component of at most 4 digits; advances *p. */
static int parse_component(const char **p, int *out)
{
    const char *s = *p;
    int v = 0, digits = 0;
    while (isdigit((unsigned char)*s) && digits < 5) {
        v = v * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || digits > 4)
        return -1;
    *out = v;
    *p = s;
    return 0;
}

int ferry_policy_os_parse(const char *s, ferry_os_version_t *out)
{
    ferry_os_version_t v = {0, 0, 0};
    const char *p = s;
    int *parts[3] = {&v.major, &v.minor, &v.patch};
    for (int i = 0; p && i < 3; i++) {
        if (parse_component(&p, parts[i]) != 0)
            break;
        if (*p == '\0') {
            *out = v;
            return 0;
        }
        if (*p != '.' || i == 2)
            break;
        p++;
    }
    return ferry_error_set(FERRY_EINVAL, "OS version '%s' is not of the form 26.4 or 26.4.1",
                           s ? s : "(null)");
}

int ferry_policy_os_compare(ferry_os_version_t a, ferry_os_version_t b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch)
        return a.patch < b.patch ? -1 : 1;
    return 0;
}

/* Next significant character of a UDID (hyphens skipped), lower-cased; 0 at the end. */
static int next_udid_char(const char **p)
{
    while (**p == '-')
        (*p)++;
    if (**p == '\0')
        return 0;
    int c = tolower((unsigned char)**p);
    (*p)++;
    return c;
}

int ferry_policy_udid_equal(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b)
        return 0;
    for (;;) {
        int ca = next_udid_char(&a), cb = next_udid_char(&b);
        if (ca != cb)
            return 0;
        if (ca == 0)
            return 1;
    }
}

int ferry_policy_enrollment_is_account_based(ferry_enrollment_t e)
{
    return e == FERRY_ENROLL_UE_PROFILE || e == FERRY_ENROLL_UE_ACCOUNT || e == FERRY_ENROLL_DE_ACCOUNT;
}

/* X1: "passwords,wifi" -> bits. Names are those of ferry_policy_category_parse; an empty element
 * (",,", a trailing comma) is refused so that a typo never silently skips nothing. */
int ferry_policy_category_list_parse(const char *s, unsigned *out_bits)
{
    if (!s || !out_bits)
        return ferry_error_set(FERRY_EINVAL, "no category list");
    unsigned bits = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[32];
        if (n == 0 || n >= sizeof name)
            return ferry_error_set(FERRY_EINVAL, "'%s' is not a list of categories (passwords, call-history, "
                                                 "health, website-history, wifi, photos, separated by commas)", s);
        memcpy(name, p, n);
        name[n] = '\0';
        unsigned bit;
        int rc = ferry_policy_category_parse(name, &bit);
        if (rc)
            return rc;
        bits |= bit;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out_bits = bits;
    return 0;
}
