/*
 * test_mdm_ade.c: Automated Device Enrollment against ferry's server, with a toy device state in the
 * test standing in for the emulated device: the device finds its ADE profile by serial number (D2),
 * posts a signed MachineInfo, enrolls with the identity the enrollment profile asks for (waiting in
 * Setup Assistant until DeviceConfigured), then installs a managed app with ManagementFlags 5 and a
 * restrictions profile, and ManagedApplicationList and ProfileList report them to the server. Also:
 * a hardware-bound ACME assignment is visible in the enrollment profile (S4, R6).
 */
#include "mdm_testlib.h"

typedef struct {
    char app[64];
    uint64_t flags;
    char profile[64];
    int configured;
} toy_device_t;

static const char *toy_run(void *ctx, plist_t req, plist_t *resp)
{
    toy_device_t *d = ctx;
    plist_t cmd = plist_dict_get_item(req, "Command");
    const char *rt = plist_get_string_ptr(plist_dict_get_item(cmd, "RequestType"), NULL);
    if (!strcmp(rt, "DeviceConfigured")) {
        d->configured = 1;
    } else if (!strcmp(rt, "InstallApplication")) {
        snprintf(d->app, sizeof d->app, "%s", plist_get_string_ptr(plist_dict_get_item(cmd, "Identifier"), NULL));
        plist_get_uint_val(plist_dict_get_item(cmd, "ManagementFlags"), &d->flags);
    } else if (!strcmp(rt, "InstallProfile")) {
        char *data = NULL;
        uint64_t len = 0;
        plist_get_data_val(plist_dict_get_item(cmd, "Payload"), &data, &len);
        plist_t prof = NULL;
        plist_from_memory(data, (uint32_t)len, &prof);
        free(data);
        if (!prof)
            return "Error";
        snprintf(d->profile, sizeof d->profile, "%s",
                 plist_get_string_ptr(plist_dict_get_item(prof, "PayloadIdentifier"), NULL));
        plist_free(prof);
    } else if (!strcmp(rt, "ManagedApplicationList")) {
        plist_t app = plist_new_dict(), list = plist_new_dict();
        plist_dict_set_item(app, "Status", plist_new_string("Managed"));
        plist_dict_set_item(app, "ManagementFlags", plist_new_uint(d->flags));
        plist_dict_set_item(list, d->app, app);
        *resp = plist_new_dict();
        plist_dict_set_item(*resp, "ManagedApplicationList", list);
    } else if (!strcmp(rt, "ProfileList")) {
        plist_t item = plist_new_dict(), arr = plist_new_array();
        plist_dict_set_item(item, "PayloadIdentifier", plist_new_string(d->profile));
        plist_array_append_item(arr, item);
        *resp = plist_new_dict();
        plist_dict_set_item(*resp, "ProfileList", arr);
    } else {
        return "Error";
    }
    return "Acknowledged";
}

static plist_t restrictions_profile(void)
{
    plist_t r = plist_new_dict(), content = plist_new_array(), top = plist_new_dict();
    plist_dict_set_item(r, "PayloadType", plist_new_string("com.apple.applicationaccess"));
    plist_dict_set_item(r, "PayloadIdentifier", plist_new_string("com.example.restrictions.1"));
    plist_dict_set_item(r, "PayloadUUID", plist_new_string("6A3D5C1E-0000-4000-8000-000000000001"));
    plist_dict_set_item(r, "PayloadVersion", plist_new_uint(1));
    plist_dict_set_item(r, "allowCloudBackup", plist_new_bool(0));
    plist_dict_set_item(r, "forceEncryptedBackup", plist_new_bool(1));
    plist_array_append_item(content, r);
    plist_dict_set_item(top, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(top, "PayloadIdentifier", plist_new_string("com.example.restrictions"));
    plist_dict_set_item(top, "PayloadUUID", plist_new_string("6A3D5C1E-0000-4000-8000-000000000002"));
    plist_dict_set_item(top, "PayloadVersion", plist_new_uint(1));
    plist_dict_set_item(top, "PayloadContent", content);
    return top;
}

static void assign(tl_server_t *t, const char *serial, int hw)
{
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t->db_path, &db), 0);
    ferry_mdm_ade_profile_t p;
    ferry_mdm_ade_profile_init(&p);
    p.serial = strdup(serial);
    p.is_supervised = 1;
    p.await_device_configured = 1;
    p.acme_hardware_bound = hw;
    assert_int_equal(ferry_mdm_db_assign(db, &p), 0);
    ferry_mdm_ade_profile_clear(&p);
    ferry_mdm_db_close(db);
}

static void enqueue(ferry_mdm_db_t *db, const char *udid, const char *rt, plist_t params)
{
    plist_t c;
    assert_int_equal(ferry_mdm_command_new(rt, params, &c), 0);
    assert_int_equal(ferry_mdm_db_enqueue(db, udid, c), 0);
    plist_free(c);
    if (params)
        plist_free(params);
}

static void test_D2_ade_enrollment_managed_app_and_restrictions(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    assign(&t, "F2LADE0001", 0);
    tl_device_t d;
    tl_device_init(&d, &t, "ADE-NEW-DEVICE");
    d.o.checkin_url = d.o.server_url = NULL; /* learned from the enrollment profile */

    ferry_mdm_ade_profile_t ade;
    assert_int_equal(ferry_mdm_client_fetch_ade_profile(t.base, "F2LADE0001", NULL, &ade), 0);
    assert_true(ade.await_device_configured);
    plist_t mi = plist_new_dict(), prof = NULL;
    plist_dict_set_item(mi, "UDID", plist_new_string(d.udid));
    plist_dict_set_item(mi, "SERIAL", plist_new_string("F2LADE0001"));
    assert_int_equal(ferry_mdm_client_fetch_enrollment(ade.url, mi, d.id, NULL, &prof), 0);
    plist_free(mi);
    ferry_mdm_ade_profile_clear(&ade);
    plist_t mdm = plist_array_get_item(plist_dict_get_item(prof, "PayloadContent"), 1);
    char *server_url, *checkin_url, *topic;
    assert_int_equal(ferry_plist_get_string(mdm, "ServerURL", &server_url), 0);
    assert_int_equal(ferry_plist_get_string(mdm, "CheckInURL", &checkin_url), 0);
    assert_int_equal(ferry_plist_get_string(mdm, "Topic", &topic), 0);
    assert_int_equal(strncmp(topic, "com.apple.mgmt.", 15), 0);
    plist_free(prof);
    d.o.server_url = server_url;
    d.o.checkin_url = checkin_url;
    d.o.topic = topic;

    ferry_mdm_reply_t r = {0};
    ferry_mdm_device_facts_t f = {"F2LADE0001", "iPhone15,2", "18.1", "22B83"};
    assert_int_equal(ferry_mdm_client_authenticate(&d.o, &f, &r), 0);
    assert_int_equal(r.http_status, 200);
    ferry_mdm_reply_clear(&r);
    const uint8_t tok[32] = {4, 2};
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "MAGIC-ADE", 1, &r), 0);
    assert_int_equal(r.http_status, 200);
    ferry_mdm_reply_clear(&r);

    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "Identifier", plist_new_string("com.example.app"));
    plist_dict_set_item(p, "ManagementFlags", plist_new_uint(5));
    enqueue(db, d.udid, "InstallApplication", p);
    plist_t rp = restrictions_profile();
    char *xml = NULL;
    uint32_t xl = 0;
    plist_to_xml(rp, &xml, &xl);
    plist_free(rp);
    p = plist_new_dict();
    plist_dict_set_item(p, "Payload", plist_new_data(xml, xl));
    free(xml);
    enqueue(db, d.udid, "InstallProfile", p);
    enqueue(db, d.udid, "ManagedApplicationList", NULL);
    enqueue(db, d.udid, "ProfileList", NULL);

    toy_device_t dev = {0};
    unsigned n;
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, toy_run, &dev, 0, &n, &r), 0);
    ferry_mdm_reply_clear(&r);
    assert_int_equal(n, 5); /* DeviceConfigured (queued by the server) + 4 */
    assert_true(dev.configured);
    assert_string_equal(dev.app, "com.example.app");
    assert_string_equal(dev.profile, "com.example.restrictions");

    ferry_mdm_command_rec_t *c;
    size_t nc;
    assert_int_equal(ferry_mdm_db_list_commands(db, d.udid, &c, &nc), 0);
    assert_int_equal(nc, 5);
    int saw_list = 0, saw_profiles = 0;
    for (size_t i = 0; i < nc; i++) {
        assert_string_equal(c[i].status, "Acknowledged");
        if (!strcmp(c[i].request_type, "ManagedApplicationList")) {
            plist_t app = plist_dict_get_item(plist_dict_get_item(c[i].result, "ManagedApplicationList"),
                                              "com.example.app");
            int64_t flags;
            assert_int_equal(ferry_plist_get_int(app, "ManagementFlags", &flags), 0);
            assert_int_equal(flags, 5);
            saw_list = 1;
        }
        if (!strcmp(c[i].request_type, "ProfileList")) {
            plist_t arr = plist_dict_get_item(c[i].result, "ProfileList");
            assert_int_equal(plist_array_get_size(arr), 1);
            saw_profiles = 1;
        }
    }
    assert_true(saw_list && saw_profiles);
    ferry_mdm_commands_free(c, nc);
    ferry_mdm_db_close(db);
    free(server_url);
    free(checkin_url);
    free(topic);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_S4_hardware_bound_acme_in_enrollment_profile(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    assign(&t, "F2LHWBOUND1", 1);
    plist_t mi = plist_new_dict(), prof = NULL;
    plist_dict_set_item(mi, "SERIAL", plist_new_string("F2LHWBOUND1"));
    char *url;
    assert_true(asprintf(&url, "%s/ade/enroll", t.base) > 0);
    assert_int_equal(ferry_mdm_client_fetch_enrollment(url, mi, NULL, NULL, &prof), 0);
    plist_t acme = plist_array_get_item(plist_dict_get_item(prof, "PayloadContent"), 0);
    char *type;
    int hw;
    assert_int_equal(ferry_plist_get_string(acme, "PayloadType", &type), 0);
    assert_string_equal(type, "com.apple.security.acme");
    assert_int_equal(ferry_plist_get_bool(acme, "HardwareBound", &hw), 0);
    assert_true(hw);
    free(type);
    free(url);
    plist_free(prof);
    plist_free(mi);
    tl_server_stop(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_D2_ade_enrollment_managed_app_and_restrictions),
        cmocka_unit_test(test_S4_hardware_bound_acme_in_enrollment_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
