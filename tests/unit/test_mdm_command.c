/*
 * test_mdm_command.c: building MDM commands from the request-type table: every supported type builds
 * with its required keys, unknown types and keys, wrong types, missing keys and ManagementFlags bits
 * other than 1 and 4 are refused, and KEY=VALUE parsing types values by the table.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/mdm.h"

static plist_t cmd_of(plist_t top)
{
    return plist_dict_get_item(top, "Command");
}

static void test_install_application_flags_5(void **state)
{
    plist_t p = plist_new_dict();
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "Identifier=com.example.app", p), 0);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "ManagementFlags=5", p), 0);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "iTunesStoreID=361309726", p), 0);
    plist_t c;
    assert_int_equal(ferry_mdm_command_new("InstallApplication", p, &c), 0);
    char *uuid, *rt;
    int64_t flags;
    assert_int_equal(ferry_plist_get_string(c, "CommandUUID", &uuid), 0);
    assert_int_equal(strlen(uuid), 36);
    assert_int_equal(ferry_plist_get_string(cmd_of(c), "RequestType", &rt), 0);
    assert_string_equal(rt, "InstallApplication");
    assert_int_equal(ferry_plist_get_int(cmd_of(c), "ManagementFlags", &flags), 0);
    assert_int_equal(flags, 5);
    free(uuid);
    free(rt);
    plist_free(c);
    plist_free(p);
}

static void test_refusals(void **state)
{
    plist_t c = NULL, p = plist_new_dict();
    assert_int_equal(ferry_mdm_command_new("EraseDevice", NULL, &c), FERRY_EINVAL);
    assert_int_equal(ferry_mdm_command_new("InstallApplication", NULL, &c), FERRY_EINVAL); /* one_of */
    assert_int_equal(ferry_mdm_command_new("RemoveProfile", NULL, &c), FERRY_EINVAL);      /* required */
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "ManagementFlags=-1", p), FERRY_EINVAL);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "Bogus=1", p), FERRY_EINVAL);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "noequals", p), FERRY_EINVAL);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "ManagementFlags=2", p), 0);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "Identifier=a.b", p), 0);
    assert_int_equal(ferry_mdm_command_new("InstallApplication", p, &c), FERRY_EINVAL); /* bit 2 */
    plist_dict_set_item(p, "ManagementFlags", plist_new_string("5"));
    assert_int_equal(ferry_mdm_command_new("InstallApplication", p, &c), FERRY_EINVAL); /* type */
    assert_null(c);
    plist_free(p);
}

static void test_every_type_builds(void **state)
{
    static const char *const args[][3] = {
        {"DeviceInformation", "Queries=UDID,IsSupervised", NULL},
        {"ProfileList", NULL, NULL},
        {"RemoveProfile", "Identifier=com.example.restrictions", NULL},
        {"RemoveApplication", "Identifier=com.example.app", NULL},
        {"ManagedApplicationList", "Identifiers=com.example.app", NULL},
        {"InstallMedia", "MediaType=Book", "MediaURL=https://books.example.com/t.epub"},
        {"ManagedMediaList", NULL, NULL},
        {"DeviceConfigured", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
        plist_t p = plist_new_dict(), c = NULL;
        for (int k = 1; k < 3 && args[i][k]; k++)
            assert_int_equal(ferry_mdm_command_param(args[i][0], args[i][k], p), 0);
        assert_int_equal(ferry_mdm_command_new(args[i][0], p, &c), 0);
        plist_free(c);
        plist_free(p);
    }
    /* Settings and InstallProfile take structured values */
    plist_t p = plist_new_dict(), c = NULL, s = plist_new_array(), item = plist_new_dict();
    plist_dict_set_item(item, "Item", plist_new_string("DeviceName"));
    plist_dict_set_item(item, "DeviceName", plist_new_string("Lab iPad"));
    plist_array_append_item(s, item);
    plist_dict_set_item(p, "Settings", s);
    assert_int_equal(ferry_mdm_command_new("Settings", p, &c), 0);
    plist_free(c);
    plist_free(p);
    p = plist_new_dict();
    plist_dict_set_item(p, "Payload", plist_new_data("<plist/>", 8));
    assert_int_equal(ferry_mdm_command_new("InstallProfile", p, &c), 0);
    plist_free(c);
    plist_free(p);
    const char *const *types = ferry_mdm_command_types();
    size_t n = 0;
    while (types[n])
        n++;
    assert_true(n >= 10);
}

static void test_file_values(void **state)
{
    char *dir = tu_mkdtemp(), *arr, *dict, *raw;
    assert_true(asprintf(&arr, "%s/settings.plist", dir) > 0);
    assert_true(asprintf(&dict, "%s/config.plist", dir) > 0);
    assert_true(asprintf(&raw, "%s/profile.mobileconfig", dir) > 0);
    plist_t a = plist_new_array(), item = plist_new_dict(), d = plist_new_dict();
    plist_dict_set_item(item, "Item", plist_new_string("DeviceName"));
    plist_array_append_item(a, item);
    plist_dict_set_item(d, "ServerURL", plist_new_string("https://app.example.com"));
    assert_int_equal(ferry_plist_write_file(arr, a, 1), 0);
    assert_int_equal(ferry_plist_write_file(dict, d, 0), 0);
    assert_int_equal(ferry_file_write_atomic(raw, "<plist/>", 8, 0600), 0);
    char kv[600];
    plist_t p = plist_new_dict();
    snprintf(kv, sizeof kv, "Settings=@%s", arr);
    assert_int_equal(ferry_mdm_command_param("Settings", kv, p), 0);
    snprintf(kv, sizeof kv, "Settings=@%s", dict); /* a dict where an array is wanted */
    assert_int_equal(ferry_mdm_command_param("Settings", kv, p), FERRY_EINVAL);
    assert_int_equal(ferry_mdm_command_param("Settings", "Settings=plain", p), FERRY_EINVAL);
    plist_free(p);
    p = plist_new_dict();
    snprintf(kv, sizeof kv, "Configuration=@%s", dict);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", kv, p), 0);
    assert_int_equal(ferry_mdm_command_param("InstallApplication", "Identifier=com.example.app", p), 0);
    plist_t c;
    assert_int_equal(ferry_mdm_command_new("InstallApplication", p, &c), 0);
    plist_free(c);
    plist_free(p);
    p = plist_new_dict();
    snprintf(kv, sizeof kv, "Payload=@%s", raw);
    assert_int_equal(ferry_mdm_command_param("InstallProfile", kv, p), 0);
    assert_int_equal(plist_get_node_type(plist_dict_get_item(p, "Payload")), PLIST_DATA);
    plist_free(p);
    plist_free(a);
    plist_free(d);
    tu_rmtree(dir);
    free(dir);
    free(arr);
    free(dict);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_application_flags_5),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_every_type_builds),
        cmocka_unit_test(test_file_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
