/*
 * fuzz_plist.c: libFuzzer target for the property-list readers (backup-format.md §7, §9): the bytes are
 * parsed in memory with ferry_plist_parse and read as a Manifest.plist (ferry_manifest_plist_from_plist,
 * which takes the tree), and written to a file in the scratch folder and read as a Status.plist
 * (ferry_status_plist_read, the path every reader takes). Every string and data the readers return is
 * touched so that ASan checks them.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static char *status_path;

static void touch_str(const char *s)
{
    if (s)
        fuzz_touch(s, strlen(s));
}

static void manifest_plist(const uint8_t *data, size_t size)
{
    plist_t p = NULL;
    if (ferry_plist_parse(data, size, &p, "fuzz input") != 0)
        return;
    ferry_manifest_plist_t m;
    if (ferry_manifest_plist_from_plist(p, &m) == 0) { /* p is m.raw now, or freed on failure */
        touch_str(m.version);
        touch_str(m.system_domains_version);
        touch_str(m.udid);
        touch_str(m.product_type);
        touch_str(m.product_version);
        touch_str(m.build_version);
        touch_str(m.serial_number);
        touch_str(m.device_name);
        if (m.keybag)
            fuzz_touch(m.keybag, m.keybag_len);
        ferry_manifest_plist_clear(&m);
    }
}

static void status_plist(const uint8_t *data, size_t size)
{
    fuzz_write_file(status_path, data, size);
    ferry_status_plist_t s;
    if (ferry_status_plist_read(status_path, &s) == 0) {
        touch_str(s.version);
        touch_str(s.uuid);
        touch_str(s.backup_state);
        touch_str(s.snapshot_state);
        ferry_status_plist_clear(&s);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    status_path = fuzz_path("Status.plist");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest_plist(data, size);
    status_plist(data, size);
    ferry_error_clear();
    return 0;
}
