# test_emu_rules_B.sh: for each B rule of RULES.md, Debian's unmodified idevicebackup2 backs up,
# through the emulator, a device made with `ferry device create/set/install-profile/install-app` that
# exercises the rule, and ferry's reader (`ferry ls --json`, `ferry info`) shows that the backup holds
# exactly what `ferry plan backup` says for that device (emu_rules_check.py: every file of the device
# maps to its plan item and is in the backup exactly when the item is included, nothing else is).
# One function per rule, named after it. B12 has no behaviour of its own (moved to X1), and the
# iCloud-only halves of B4, B5 and B11 are checked by the policy unit tests (docs/rules-coverage.md);
# here their host-backup side is checked.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3

received() { grep -ao "Received [0-9]* files" "$TMP/out" | tail -1 | awk '{print $2}'; }

# restrictions_profile FILE IDENTIFIER KEY=BOOL...: an unsigned profile with one restrictions payload.
restrictions_profile() {
    python3 - "$@" <<'PY'
import plistlib, sys, uuid
out, ident, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
pl = {"PayloadType": "com.apple.applicationaccess", "PayloadVersion": 1,
      "PayloadIdentifier": ident + ".restrictions", "PayloadUUID": str(uuid.uuid4()).upper()}
for kv in pairs:
    k, v = kv.split("=")
    pl[k] = v == "true"
prof = {"PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": ident,
        "PayloadUUID": str(uuid.uuid4()).upper(), "PayloadDisplayName": ident, "PayloadContent": [pl]}
plistlib.dump(prof, open(out, "wb"))
PY
}

# backup_check DEV [PASSWORD]: idevicebackup2 backs DEV up into a fresh folder; the backup must hold
# exactly what `ferry plan backup DEV` says. $TMP/items: "kind item outcome files|- RULES..." lines.
backup_check() {
    local dev=$1 pw=${2:-} u enc=
    u=$(udid_of "$dev")
    rm -rf "$TMP/bk"; mkdir "$TMP/bk"
    run_ok idevicebackup2 -u "$u" backup "$TMP/bk"
    grep -q "Backup Successful" "$TMP/out" || fail "backup of $dev did not succeed"
    [ -n "$pw" ] && enc=--encrypted
    run_ok "$FERRY" plan backup "$dev" $enc --json
    cp "$TMP/out" "$TMP/plan.json"
    FERRY_BACKUP_PASSWORD="$pw" run_ok "$FERRY" ls "$TMP/bk/$u" --json
    cp "$TMP/out" "$TMP/ls.json"
    FERRY_BACKUP_PASSWORD="$pw" run_ok "$FERRY" info "$TMP/bk/$u"
    cp "$TMP/out" "$TMP/info.txt"
    if [ -n "$pw" ]; then grep -q "^Encrypted *yes" "$TMP/info.txt" || fail "the backup of $dev is not encrypted"
    else grep -q "^Encrypted *no" "$TMP/info.txt" || fail "the backup of $dev is encrypted"; fi
    "$FERRY" device show "$dev" --json >"$TMP/show.json" || fail "ferry device show $dev"
    python3 "$FERRY_TESTS/integration/emu_rules_check.py" "$TMP/plan.json" "$TMP/ls.json" "$TMP/show.json" "$dev" \
        >"$TMP/items" 2>"$TMP/check.err" || { cat "$TMP/check.err" >&2; fail "the backup of $dev differs from its plan"; }
}
# item "KIND ITEM OUTCOME" [RULE]: the last backup_check's plan has that item (citing RULE).
item() {
    local line
    line=$(grep "^$1 " "$TMP/items" | head -1)
    [ -n "$line" ] || fail "the plan has no item '$1': $(cat "$TMP/items")"
    [ -z "${2:-}" ] || echo "$line" | grep -qw -- "$2" || fail "item '$1' does not cite $2: $line"
}
# with_files "KIND ITEM": the item is backed by device files (so the check above was not vacuous).
with_files() { grep -q "^$1 [a-z-]* files" "$TMP/items" || fail "'$1' has no files on the device: $(grep "^$1 " "$TMP/items")"; }
pass() { echo "PASS: $1"; }

# ---- devices --------------------------------------------------------------------------------------
make_device "$TMP/ade" ade-iphone "B ADE" 11
make_device "$TMP/per" unmanaged-personal "B Personal" 12
make_device "$TMP/pde" profile-de-ipad "B Profile DE" 13
make_device "$TMP/ue" ue-account-iphone "B User Enrollment" 14
make_device "$TMP/b6" ade-iphone "B6 Forced" 18
make_device "$TMP/b7" ade-iphone "B7 Books" 15
make_device "$TMP/b13" ade-iphone "B13 Combined" 16
make_device "$TMP/sh" shared-ipad "B14 Shared" 17
restrictions_profile "$TMP/no-books.mobileconfig" com.test.nobooks allowEnterpriseBookBackup=false
restrictions_profile "$TMP/books.mobileconfig" com.test.books allowEnterpriseBookBackup=true
"$FERRY" device install-profile "$TMP/b7" "$TMP/no-books.mobileconfig" --source Manual >/dev/null || fail "install-profile"
"$FERRY" device install-profile "$TMP/b13" "$TMP/books.mobileconfig" --source Manual >/dev/null || fail "install-profile"
"$FERRY" device install-profile "$TMP/b13" "$TMP/no-books.mobileconfig" --source Manual >/dev/null || fail "install-profile"
"$FERRY" device install-app "$TMP/per" com.test.managed --managed --flags 0 --data-size 8K >/dev/null || fail "install-app"
"$FERRY" device install-app "$TMP/per" com.test.nobackup --managed --flags 4 --data-size 8K >/dev/null || fail "install-app"
"$FERRY" device install-app "$TMP/per" com.test.declared --managed --declarative com.test.declared.decl --no-backup --data-size 8K >/dev/null \
    || fail "install-app --no-backup"
for d in ade per pde ue b6 b7 b13 sh; do "$FERRY" device set "$TMP/$d" findmy false >/dev/null; done
start_server "$TMP/ade" "$TMP/per" "$TMP/pde" "$TMP/ue" "$TMP/b6" "$TMP/b7" "$TMP/b13" "$TMP/sh"
ADE=$(udid_of "$TMP/ade"); PER=$(udid_of "$TMP/per")
for d in ade b7 b13 sh; do run_ok idevicebackup2 -u "$(udid_of "$TMP/$d")" encryption on "b pw"; done

test_emu_B1_full_backup_holds_profiles_app_data_and_photos_only_without_icloud_photos() {
    backup_check "$TMP/ade" "b pw"
    item "profile com.acme.wifi included" B1; with_files "profile com.acme.wifi"
    item "profile com.acme.certificates included" B1
    item "app-data com.acme.expenses included" B1; with_files "app-data com.acme.expenses"
    item "category photos included" B1; with_files "category photos"
    # iCloud Photos on: photos are not in the backup
    backup_check "$TMP/per"
    item "category photos excluded" B1; with_files "category photos"
    pass "${FUNCNAME[0]}"
}

test_emu_B2_no_app_binaries_no_store_books() {
    backup_check "$TMP/ade" "b pw"
    item "app com.acme.expenses excluded" B2
    item "book 881256329 excluded" B2
    FERRY_BACKUP_PASSWORD="b pw" run_ok "$FERRY" info "$TMP/bk/$ADE" --json
    grep -q '"applications":0' "$TMP/out" || fail "B2: the backup's Manifest.plist lists applications"
    ! grep -q '"domain":"BooksDomain","relativePath":"Purchases/' "$TMP/ls.json" || fail "store books are in the backup"
    pass "${FUNCNAME[0]}"
}

test_emu_B3_unencrypted_backup_leaves_out_five_categories() {
    backup_check "$TMP/per"
    for c in call-history health website-history wifi; do item "category $c excluded" B3; with_files "category $c"; done
    item "category passwords excluded" B3
    grep -q '"relativePath":"keychain-backup.plist"' "$TMP/ls.json" && fail "B3: a keychain export in an unencrypted backup"
    item "passcode passcode excluded" B3; item "biometrics biometrics excluded" B3
    run_ok idevicebackup2 -u "$PER" encryption on "per pw"
    backup_check "$TMP/per" "per pw"
    for c in passwords call-history health website-history wifi; do item "category $c included" B3; done
    grep -q '"relativePath":"keychain-backup.plist"' "$TMP/ls.json" || fail "B3: no keychain export in an encrypted backup"
    run_ok idevicebackup2 -u "$PER" encryption off "per pw"
    pass "${FUNCNAME[0]}"
}

test_emu_B4_host_backup_encrypted_exactly_when_a_password_is_set() {
    # host side of B4: no account needed; encrypted exactly when a backup password is set (iCloud
    # Backup itself is not a host backup: test_B4_icloud_backup_needs_an_account_and_its_conditions)
    backup_check "$TMP/per"
    grep -q '"encrypted":false' "$TMP/ls.json" || fail "B4: unencrypted device, encrypted backup"
    run_ok idevicebackup2 -u "$PER" encryption on "b4 pw"
    backup_check "$TMP/per" "b4 pw"
    grep -q '"encrypted":true' "$TMP/ls.json" || fail "B4: a password is set, the backup is not encrypted"
    run_ok idevicebackup2 -u "$PER" encryption off "b4 pw"
    pass "${FUNCNAME[0]}"
}

test_emu_B5_allow_cloud_backup_false_refuses_cloud_not_host_backup() {
    run_fails idevicebackup2 -u "$ADE" cloud on
    grep -q "allowCloudBackup" "$TMP/out" "$TMP/err" || fail "B5: cloud on was not refused"
    backup_check "$TMP/ade" "b pw"   # the host backup is not affected
    pass "${FUNCNAME[0]}"
}

test_emu_B6_force_encrypted_backup() {
    local u; u=$(udid_of "$TMP/b6")
    run_fails idevicebackup2 -u "$ADE" encryption off "b pw"
    set +e; "$FERRY" plan backup "$TMP/b6" --json >"$TMP/plan.json"; local prc=$?; set -e
    [ "$prc" = 5 ] && grep -q '"B6"' "$TMP/plan.json" || fail "B6: the plan does not refuse an unencrypted backup"
    rm -rf "$TMP/bk"; mkdir "$TMP/bk"
    run_fails idevicebackup2 -u "$u" backup "$TMP/bk"
    grep -q "must be encrypted" "$TMP/out" "$TMP/err" || fail "B6: an unencrypted backup was not refused"
    [ -z "$(find "$TMP/bk" -type f -name '*[0-9a-f]' -path '*/??/*')" ] || fail "B6: files were sent before the refusal"
    run_ok idevicebackup2 -u "$u" encryption on "b pw"
    backup_check "$TMP/b6" "b pw"
    pass "${FUNCNAME[0]}"
}

test_emu_B7_enterprise_books_left_out_when_disallowed() {
    backup_check "$TMP/ade" "b pw"
    item "book com.acme.handbook included" B7; with_files "book com.acme.handbook"
    backup_check "$TMP/b7" "b pw"
    item "book com.acme.handbook excluded" B7; with_files "book com.acme.handbook"
    pass "${FUNCNAME[0]}"
}

test_emu_B8_prevent_backup_flag_and_include_in_backup() {
    backup_check "$TMP/ade" "b pw"
    item "app-data com.acme.vault excluded" B8; with_files "app-data com.acme.vault"
    item "app-data com.acme.crm excluded" B8
    item "app-data com.acme.notes excluded" B8; with_files "app-data com.acme.notes"
    backup_check "$TMP/per"   # apps installed with install-app --flags 4 / --no-backup
    item "app-data com.test.nobackup excluded" B8; with_files "app-data com.test.nobackup"
    item "app-data com.test.declared excluded" B8; with_files "app-data com.test.declared"
    item "app-data com.test.managed included" B1; with_files "app-data com.test.managed"
    pass "${FUNCNAME[0]}"
}

test_emu_B9_management_configuration_whenever_present() {
    backup_check "$TMP/ade" "b pw"
    item "management-configuration management-configuration included" B9
    with_files "management-configuration management-configuration"
    backup_check "$TMP/pde"   # unsupervised profile-de: none, unencrypted or not
    item "management-configuration management-configuration skipped" B9
    pass "${FUNCNAME[0]}"
}

test_emu_B10_enrollment_profile_only_encrypted_de_and_ade() {
    local u; u=$(udid_of "$TMP/pde")
    backup_check "$TMP/pde"
    item "mdm-enrollment mdm-enrollment excluded" B10; with_files "mdm-enrollment mdm-enrollment"
    run_ok idevicebackup2 -u "$u" encryption on "pde pw"
    backup_check "$TMP/pde" "pde pw"
    item "mdm-enrollment mdm-enrollment included" B10
    run_ok idevicebackup2 -u "$(udid_of "$TMP/ue")" encryption on "ue pw"
    backup_check "$TMP/ue" "ue pw"   # account-driven User Enrollment: left out even encrypted
    item "mdm-enrollment mdm-enrollment excluded" B10; with_files "mdm-enrollment mdm-enrollment"
    pass "${FUNCNAME[0]}"
}

test_emu_B11_host_backup_of_user_enrollment_is_full() {
    # B11's Managed Apple Account backups are iCloud Backups; a host backup of a ue-* device is a full
    # backup (ferry choice), its managed-app data governed by U3 on restore
    backup_check "$TMP/ue" "ue pw"
    grep -q '"managed_apps_only": *false' "$TMP/plan.json" || fail "B11: a host backup is marked managed-apps-only"
    grep -q "^profile .* included" "$TMP/items" || grep -q "^category photos included" "$TMP/items" \
        || fail "B11: the host backup of a ue device is not a full backup: $(cat "$TMP/items")"
    pass "${FUNCNAME[0]}"
}

test_emu_B13_most_restrictive_value_wins() {
    backup_check "$TMP/b13" "b pw"
    item "book com.acme.handbook excluded" B7; with_files "book com.acme.handbook"
    grep -q '"B13"' "$TMP/plan.json" && grep -q "allowEnterpriseBookBackup" "$TMP/plan.json" \
        || fail "B13: the plan does not warn about allowEnterpriseBookBackup set twice"
    pass "${FUNCNAME[0]}"
}

test_emu_B14_shared_ipad_holds_device_level_state_only() {
    backup_check "$TMP/sh" "b pw"
    grep -q " B14" "$TMP/items" || fail "B14: no item of the Shared iPad's plan cites B14: $(cat "$TMP/items")"
    grep "B14" "$TMP/items" | grep -qv " included " || fail "B14: nothing left out"
    item "management-configuration management-configuration included" B9
    ! grep -q "^book .* included" "$TMP/items" || fail "B14: a Shared iPad backup holds books"
    pass "${FUNCNAME[0]}"
}

test_emu_B1_full_backup_holds_profiles_app_data_and_photos_only_without_icloud_photos
test_emu_B2_no_app_binaries_no_store_books
test_emu_B3_unencrypted_backup_leaves_out_five_categories
test_emu_B4_host_backup_encrypted_exactly_when_a_password_is_set
test_emu_B5_allow_cloud_backup_false_refuses_cloud_not_host_backup
test_emu_B6_force_encrypted_backup
test_emu_B7_enterprise_books_left_out_when_disallowed
test_emu_B8_prevent_backup_flag_and_include_in_backup
test_emu_B9_management_configuration_whenever_present
test_emu_B10_enrollment_profile_only_encrypted_de_and_ade
test_emu_B11_host_backup_of_user_enrollment_is_full
test_emu_B13_most_restrictive_value_wins
test_emu_B14_shared_ipad_holds_device_level_state_only
stop_server
echo PASS
