/*
 * enroll_ade.c: Automated Device Enrollment on the device (D2, S4, V1; spec/mdm.md §12.2-§12.3): the
 * ADE profile that the device-assignment service returned becomes the management configuration
 * (CloudConfigurationDetails, with Apple's keys), and the enrollment profile it fetched with its
 * MachineInfo is installed as the enrollment. The configuration is set before the profile is
 * installed, so that the one save at the end passes the load-time invariants (IsSupervised and
 * IsMultiUser agree with the configuration) and the device is never half-enrolled on disk.
 */
#include "device_internal.h"

#include <stdlib.h>
#include <string.h>

static int ade_bool(plist_t ade, const char *key, int dflt)
{
    int v = dflt;
    ferry_plist_get_bool(ade, key, &v);
    return v;
}

int ferry_device_enroll_ade(ferry_device_t *dev, plist_t ade, const uint8_t *profile, size_t len)
{
    if (!ade || plist_get_node_type(ade) != PLIST_DICT)
        return ferry_error_set(FERRY_EINVAL, "the ADE profile must be a dictionary");
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    if (enr)
        return ferry_error_set(FERRY_EEXIST, "%s: the device is already enrolled through profiles/%s; "
                               "it must be unenrolled before Automated Device Enrollment", dev->dir, enr->file);
    ferry_os_version_t os = {0, 0, 0};
    ferry_policy_os_parse(dev->ProductVersion, &os);
    /* is_supervised is ignored from iOS 13: every ADE device is supervised */
    int supervised = ade_bool(ade, "is_supervised", 0) || os.major >= 13;
    int multi = ade_bool(ade, "is_multi_user", 0);
    char *url = NULL, *org = NULL;
    ferry_plist_get_string(ade, "url", &url);
    ferry_plist_get_string(ade, "org_name", &org);

    plist_t ccd = plist_new_dict();
    dev_dict_set_bool(ccd, "AllowPairing", 1);
    dev_dict_set_bool(ccd, "AwaitDeviceConfigured", ade_bool(ade, "await_device_configured", 0));
    dev_dict_set_bool(ccd, "CloudConfigurationUIComplete", 1);
    dev_dict_set_str(ccd, "ConfigurationURL", url);
    dev_dict_set_bool(ccd, "ConfigurationWasApplied", 1);
    dev_dict_set_bool(ccd, "IsMDMUnremovable", !ade_bool(ade, "is_mdm_removable", 1));
    dev_dict_set_bool(ccd, "IsMandatory", ade_bool(ade, "is_mandatory", 0));
    dev_dict_set_bool(ccd, "IsMultiUser", multi);
    dev_dict_set_bool(ccd, "IsSupervised", supervised);
    dev_dict_set_str(ccd, "OrganizationName", org);
    dev_dict_set_bool(ccd, "PostSetupProfileWasInstalled", 1);
    plist_dict_set_item(ccd, "SkipSetup", plist_new_array());
    free(url);
    free(org);

    if (dev->CloudConfigurationDetails)
        plist_free(dev->CloudConfigurationDetails);
    dev->CloudConfigurationDetails = ccd;
    dev->IsSupervised = supervised;
    dev->IsMultiUser = multi;
    dev->do_not_use_profile_from_backup = ade_bool(ade, "do_not_use_profile_from_backup", 0);
    if (!dev->AssignmentService && !(dev->AssignmentService = strdup("ABM")))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return ferry_device_install_profile_data(dev, profile, len, "enrollment profile", FERRY_SOURCE_ENROLLMENT);
}
