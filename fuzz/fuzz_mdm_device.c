/*
 * fuzz_mdm_device.c: libFuzzer target for the MDM bodies the emulated device parses (spec/mdm.md §4,
 * §5, §10, §12): the server's reply in the command loop, parsed as the client does
 * (mdm_client_parse_command) and run with ferry_device_mdm_command on an enrolled device; and the
 * two bodies of Automated Device Enrollment, the ADE profile (ferry_mdm_ade_profile_from_plist) and
 * the enrollment profile, given to ferry_device_enroll_ade on an unmanaged device as `ferry device
 * checkin` does. Commands that change the device save it, so after one of them (and after every
 * enrollment) the next run starts from a fresh copy of the directory; read-only commands share the
 * loaded device, which keeps the target fast.
 *
 * Input: byte 0 bit 0 clear: the rest is the command-loop body. Set: a u16LE length n, n bytes of
 * ADE profile, and the rest is the enrollment profile.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "fuzz_mdm.h"
#include "ferry/device.h"
#include "ferry/mdm.h"
#include "mdm/mdm_internal.h"

static char *orig_mdm, *orig_ade, *work;
static const char *copy_from;
static ferry_device_t *mdm_dev; /* the enrolled device, loaded from work; NULL: copy afresh */

/* Request types that may change the device directory (mdm_apply.c). */
static int changes_device(plist_t req)
{
    static const char *const ro[] = {"DeviceInformation", "ProfileList", "ManagedApplicationList",
                                     "InstalledApplicationList", "ManagedMediaList"};
    char *rt = NULL;
    ferry_plist_get_string(plist_dict_get_item(req, "Command"), "RequestType", &rt);
    int changes = 1;
    for (size_t i = 0; rt && i < sizeof ro / sizeof ro[0]; i++)
        if (!strcmp(rt, ro[i]))
            changes = 0;
    free(rt);
    return changes;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

static int copy_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    char dst[4096];
    snprintf(dst, sizeof dst, "%s%s", work, path + strlen(copy_from));
    if (type == FTW_D)
        return mkdir(dst, st->st_mode & 07777) == 0 ? 0 : -1;
    if (type == FTW_SL) {
        char t[4096];
        ssize_t n = readlink(path, t, sizeof t - 1);
        if (n < 0)
            return -1;
        t[n] = '\0';
        return symlink(t, dst);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ferry_file_read_all(path, 1u << 28, &buf, &len) != 0)
        return -1;
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
    int rc = fd >= 0 && ferry_write_full(fd, buf, len, dst) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* work becomes a fresh copy of from; the loaded device, or an abort (a harness failure). */
static ferry_device_t *fresh(const char *from)
{
    nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    copy_from = from;
    ferry_device_t *dev = NULL;
    if (nftw(from, copy_entry, 16, FTW_PHYS) != 0 || ferry_device_load(work, &dev) != 0) {
        fprintf(stderr, "fuzz: cannot copy and load %s: %s\n", from, ferry_error_last());
        abort();
    }
    return dev;
}

static void make(const char *tmpl, char **dir)
{
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = tmpl;
    o.seed = 11;
    o.files = 1;
    o.size = 512;
    *dir = fuzz_path(tmpl);
    if (ferry_device_create(*dir, &o) != 0) {
        fprintf(stderr, "fuzz: cannot create a %s device: %s\n", tmpl, ferry_error_last());
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    make(FUZZ_MDM_DEVICE_TEMPLATE, &orig_mdm);
    make(FUZZ_ADE_DEVICE_TEMPLATE, &orig_ade);
    work = fuzz_path("work");
    return 0;
}

static void command(const uint8_t *p, size_t n)
{
    plist_t req = NULL;
    char *uuid = NULL;
    if (mdm_client_parse_command(p, n, &req, &uuid) != 0)
        return;
    if (!mdm_dev)
        mdm_dev = fresh(orig_mdm);
    plist_t result = NULL;
    const char *status = NULL;
    if (ferry_device_mdm_command(&mdm_dev, req, &result, &status) == 0) {
        if (!status || (strcmp(status, "Acknowledged") && strcmp(status, "Error") &&
                        strcmp(status, "CommandFormatError")))
            fuzz_fail("a command was answered with a Status outside Acknowledged/Error/CommandFormatError");
        if (!result || plist_get_node_type(result) != PLIST_DICT)
            fuzz_fail("a command was answered without a result dictionary");
        char *xml = NULL;
        uint32_t len = 0;
        plist_to_xml(result, &xml, &len);
        free(xml);
    }
    if (result)
        plist_free(result);
    if (!mdm_dev || changes_device(req)) {
        ferry_device_free(mdm_dev);
        mdm_dev = NULL;
    }
    plist_free(req);
    free(uuid);
}

static void ade(const uint8_t *p, size_t n)
{
    if (n < 2)
        return;
    size_t k = (size_t)p[0] | (size_t)p[1] << 8;
    p += 2;
    n -= 2;
    if (k > n)
        k = n;
    plist_t ap = NULL, prof = NULL, ade_plist = NULL;
    ferry_mdm_ade_profile_t a;
    ferry_mdm_ade_profile_init(&a);
    if (ferry_plist_parse(p, k, &ap, "ADE profile") || ferry_mdm_ade_profile_from_plist(ap, &a) ||
        ferry_plist_parse(p + k, n - k, &prof, "enrollment profile"))
        goto out;
    ade_plist = ferry_mdm_ade_profile_to_plist(&a, "https://mdm.fuzz.example/ade/enroll");
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(prof, &xml, &len);
    if (ade_plist && xml) {
        ferry_device_free(mdm_dev); /* work is about to hold the other device */
        mdm_dev = NULL;
        ferry_device_t *dev = fresh(orig_ade);
        ferry_device_enroll_ade(dev, ade_plist, (const uint8_t *)xml, len);
        ferry_device_free(dev);
    }
    free(xml);
out:
    if (ap)
        plist_free(ap);
    if (prof)
        plist_free(prof);
    if (ade_plist)
        plist_free(ade_plist);
    ferry_mdm_ade_profile_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 1) {
        if (data[0] & 1)
            ade(data + 1, size - 1);
        else
            command(data + 1, size - 1);
    }
    ferry_error_clear();
    return 0;
}
