/*
 * restore_keychain.c: a restore loads the backup's keychain export (KeychainDomain/keychain-backup.plist,
 * written by the device into every backup whose plan includes passwords) into the device's keychain
 * (keychain.plist), as a real device imports its keychain backup. The target is treated as erased, so
 * the export replaces the keychain; profiles installed by the same restore then add their own items
 * (restore_apply.c), and categories the plan does not restore are dropped there. B3: items of the
 * ThisDeviceOnly classes come back only onto the device that made the backup; D5: on another device an
 * identity comes back without its ThisDeviceOnly private key; R6 and akpu: hardware-bound keys and
 * never-migrating items are never imported, whatever a crafted export says. Invariants: the export
 * is parsed defensively (any malformed item refuses the whole export and leaves the keychain as it
 * was); nothing is saved before every item has been checked.
 */
#include "device_internal.h"

#include <stdlib.h>

static int importable(const ferry_keychain_item_t *it, int same_device)
{
    int cls = ferry_keychain_protection_class(it->pdmn);
    if (it->HardwareBound || cls <= 0)
        return 0; /* R6, akpu (and unknown classes): never leave the device they were made on */
    return cls < 9 || same_device; /* B3: ThisDeviceOnly (9-11) only onto the same device */
}

int dev_restore_keychain(ferry_device_t *dev, plist_t export, int same_device, size_t *imported, size_t *left)
{
    ferry_keychain_item_t *items = NULL;
    size_t n = 0;
    *imported = *left = 0;
    int rc = dev_keychain_from_plist(export, "the backup's keychain export", &items, &n);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (importable(&items[i], same_device)) {
            items[k++] = items[i];
        } else {
            dev_keychain_item_clear(&items[i]);
            (*left)++;
        }
    }
    for (size_t i = 0; i < dev->n_keychain; i++)
        dev_keychain_item_clear(&dev->keychain[i]);
    free(dev->keychain);
    dev->keychain = items;
    dev->n_keychain = k;
    *imported = k;
    return ferry_device_save(dev);
}
