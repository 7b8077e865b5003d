/*
 * test_keybag_slow.c: the three password vectors of fixtures/keybag/password_kdf_vectors.json that use
 * the real devices' 10,000,000 PBKDF2-SHA256 iterations (about 2.3 s of KDF each, twice per vector
 * because a wrong password is derived too). The cheap vectors are in test_keybag.c.
 */
#include "keybag_vectors.h"

static void test_vector1_hashcat_example_14800(void **state)
{
    (void)state;
    kv_check_vector(1);
}

static void test_vector3_real_keybag_longxin_2024(void **state)
{
    (void)state;
    kv_check_vector(3);
}

static void test_vector4_real_keybag_cyberclub(void **state)
{
    (void)state;
    kv_check_vector(4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector1_hashcat_example_14800),
        cmocka_unit_test(test_vector3_real_keybag_longxin_2024),
        cmocka_unit_test(test_vector4_real_keybag_cyberclub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
