/*
 * facts_internal.h: what the files that read a device's state as policy facts share (facts.c talks to
 * the device, facts_parse.c turns the answers into ferry_device_facts_t). The parsers are pure, so a
 * unit test feeds them replies without a device. Not a public header.
 */
#ifndef FERRY_HOST_FACTS_INTERNAL_H
#define FERRY_HOST_FACTS_INTERNAL_H

#include <plist/plist.h>
#include "ferry/host.h"

/* MCInstall GetProfileList's reply -> f->profiles (allocated), f->enrollment (with the cloud
 * configuration already read), f->mdm_identity_*. FERRY_EFORMAT when the reply is not an acknowledged
 * profile list. */
int host_facts_profiles(plist_t reply, ferry_device_facts_t *f);
/* MCInstall GetCloudConfiguration's reply -> has_management_config, supervised, multi_user. Must run
 * before host_facts_profiles (the enrollment type depends on it). */
int host_facts_cloud_config(plist_t reply, ferry_device_facts_t *f);
/* installation_proxy Browse's result (an array of app dicts) -> f->apps (allocated). */
int host_facts_apps(plist_t browse, ferry_device_facts_t *f);

#endif
