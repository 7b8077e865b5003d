/*
 * fuzz_keybag.c: libFuzzer target for the backup keybag (backup-format.md §6.1-6.3, §15.2): any bytes
 * go to ferry_keybag_parse; a parsed keybag gets an unlock attempt with the fixed password under KDF
 * caps of FUZZ_KDF_CAP iterations (so a hostile ITER/DPIC is refused before PBKDF2 and no iteration
 * spends real time deriving), then, when it unlocks, a prefixed-key unwrap of the input's last 44
 * bytes. A parsed keybag must also serialise and parse back to the same header and classes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void check_reparse(const ferry_keybag_t *kb)
{
    uint8_t *ser = NULL;
    size_t len = 0;
    if (ferry_keybag_serialize(kb, &ser, &len) != 0)
        return; /* a keybag the serialiser refuses is not a parser problem */
    ferry_keybag_t *again = NULL;
    if (ferry_keybag_parse(ser, len, &again) != 0)
        fuzz_fail("a serialised keybag does not parse");
    free(ser);
    if (again->nclasses != kb->nclasses || again->iter != kb->iter || again->has_dp != kb->has_dp ||
        memcmp(again->salt, kb->salt, sizeof kb->salt) != 0 || memcmp(again->uuid, kb->uuid, sizeof kb->uuid) != 0)
        fuzz_fail("a keybag changed in a serialise/parse round trip");
    for (size_t i = 0; i < kb->nclasses; i++)
        if (again->classes[i].clas != kb->classes[i].clas || again->classes[i].wrap != kb->classes[i].wrap ||
            again->classes[i].has_wpky != kb->classes[i].has_wpky ||
            (kb->classes[i].has_wpky && memcmp(again->classes[i].wpky, kb->classes[i].wpky, FERRY_WRAPPED_LEN)))
            fuzz_fail("a keybag class changed in a serialise/parse round trip");
    ferry_keybag_free(again);
}

static void try_unlock(ferry_keybag_t *kb, const uint8_t *data, size_t size)
{
    ferry_kdf_limits_t limits = {FUZZ_KDF_CAP, FUZZ_KDF_CAP};
    uint8_t kek[FERRY_KEY_LEN];
    if (ferry_keybag_derive_kek(kb, FUZZ_PASSWORD, strlen(FUZZ_PASSWORD), &limits, kek) != 0)
        return;
    int rc = ferry_keybag_unlock(kb, kek);
    ferry_wipe(kek, sizeof kek);
    if (rc != 0) {
        if (kb->unlocked)
            fuzz_fail("a keybag that failed to unlock says it is unlocked");
        return;
    }
    if (size >= FERRY_PREFIXED_KEY_LEN) {
        uint8_t key[FERRY_KEY_LEN];
        uint32_t clas = 0;
        ferry_keybag_unwrap_prefixed(kb, data + size - FERRY_PREFIXED_KEY_LEN, key, &clas);
        ferry_wipe(key, sizeof key);
    }
    for (uint32_t c = 0; c <= 12; c++) {
        const uint8_t *ck = NULL;
        if (ferry_keybag_class_key(kb, c, &ck) == 0)
            fuzz_touch(ck, FERRY_KEY_LEN);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ferry_keybag_t *kb = NULL;
    if (ferry_keybag_parse(data, size, &kb) == 0) {
        if (kb->nclasses > FERRY_KEYBAG_MAX_CLASSES)
            fuzz_fail("the keybag parser counted more classes than it has room for");
        check_reparse(kb);
        try_unlock(kb, data, size);
        ferry_keybag_free(kb);
    } else if (kb) {
        fuzz_fail("ferry_keybag_parse failed but returned a keybag");
    }
    ferry_error_clear();
    return 0;
}
