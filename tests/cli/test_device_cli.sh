#!/usr/bin/env bash
# test_device_cli.sh: `ferry device show --json` for every template carries the expected facts under
# Apple's key names (forceEncryptedBackup, IsSupervised, IsMultiUser, HardwareBound, EnrollmentMode,
# ManagementFlags, IncludeInBackup, WillEncrypt ...), written out below; the generated
# configuration-profiles folder holds MDMAppManagement.plist exactly for managed devices; and `ferry
# device backup` writes a backup that `ferry verify` accepts, encrypted with the device's own backup
# password when one is set (WillEncrypt), with the items the B rules leave out really absent.
. "$(dirname "$0")/lib.sh"

D="$TMP/dev"
mkdir -p "$D"
CFG=SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles/Library/ConfigurationProfiles

cat >"$TMP/expect.py" <<'PY'
# expect.py SHOW_JSON TEMPLATE: compares `ferry device show --json` with the table below. None means
# the key is absent. Apps: bundle ID -> (ManagementFlags, IncludeInBackup, Status).
import json, sys
E = {
 "ade-iphone": dict(forceEncryptedBackup=True, allowCloudBackup=False, IsSupervised=True, IsMultiUser=False,
    HardwareBound=False, EnrollmentMode=None, EnrollmentType="ade", Identity="com.apple.security.pkcs12", CC=True,
    Apps={"com.acme.expenses": (0, None, "Managed"), "com.acme.mail": (1, None, "Managed"),
          "com.acme.vault": (4, None, "Managed"), "com.acme.crm": (5, None, "Managed"),
          "com.acme.notes": (None, False, "Managed"), "com.acme.timesheet": (1, None, "ManagedButUninstalled")}),
 "ade-ipad-acme": dict(forceEncryptedBackup=True, allowCloudBackup=None, IsSupervised=True, IsMultiUser=False,
    HardwareBound=True, EnrollmentMode=None, EnrollmentType="ade", Identity="com.apple.security.acme", CC=True,
    Apps={"com.acme.mail": (1, None, "Managed"), "com.acme.crm": (5, None, "Managed")}),
 "shared-ipad": dict(forceEncryptedBackup=None, allowCloudBackup=True, IsSupervised=True, IsMultiUser=True,
    HardwareBound=False, EnrollmentMode=None, EnrollmentType="ade", Identity="com.apple.security.scep", CC=True,
    Apps={"edu.springfield.reader": (1, None, "Managed"), "edu.springfield.math": (5, None, "Managed")}),
 "profile-de-ipad": dict(forceEncryptedBackup=None, allowCloudBackup=False, IsSupervised=False, IsMultiUser=False,
    HardwareBound=False, EnrollmentMode=None, EnrollmentType="profile-de", Identity="com.apple.security.scep", CC=False,
    Apps={"com.acme.mail": (1, None, "Managed"), "com.acme.crm": (5, None, "Managed")}),
 "ue-account-iphone": dict(forceEncryptedBackup=True, allowCloudBackup=False, IsSupervised=False, IsMultiUser=False,
    HardwareBound=False, EnrollmentMode="BYOD", EnrollmentType="ue-account", Identity="com.apple.security.acme", CC=False,
    Apps={"com.acme.mail": (1, None, "Managed"), "com.acme.crm": (5, None, "Managed")}),
 "de-account-iphone": dict(forceEncryptedBackup=True, allowCloudBackup=None, IsSupervised=False, IsMultiUser=False,
    HardwareBound=True, EnrollmentMode="ADDE", EnrollmentType="de-account", Identity="com.apple.security.acme", CC=False,
    Apps={"com.acme.mail": (1, None, "Managed"), "com.acme.crm": (5, None, "Managed")}),
 "abe-employee-iphone": dict(forceEncryptedBackup=True, allowCloudBackup=None, IsSupervised=True, IsMultiUser=False,
    HardwareBound=False, EnrollmentMode=None, EnrollmentType="ade", Identity="com.apple.security.scep", CC=True,
    Apps={"com.acme.mail": (1, None, "Managed"), "com.acme.crm": (5, None, "Managed")}),
 "vision-pro-ade": dict(forceEncryptedBackup=None, allowCloudBackup=True, IsSupervised=True, IsMultiUser=False,
    HardwareBound=False, EnrollmentMode=None, EnrollmentType="ade", Identity="com.apple.security.scep", CC=True,
    Apps={"com.acme.training": (1, None, "Managed"), "com.acme.viewer": (4, None, "Managed")}),
 "unmanaged-personal": dict(forceEncryptedBackup=None, allowCloudBackup=None, IsSupervised=False, IsMultiUser=False,
    HardwareBound=None, EnrollmentMode=None, EnrollmentType="none", Identity=None, CC=False, Apps={}),
}
d = json.load(open(sys.argv[1])); e = E[sys.argv[2]]; bad = []
r = d.get("Restrictions", {})
got = dict(forceEncryptedBackup=r.get("forceEncryptedBackup"), allowCloudBackup=r.get("allowCloudBackup"),
           IsSupervised=d.get("IsSupervised"), IsMultiUser=d.get("IsMultiUser"), HardwareBound=d.get("HardwareBound"),
           EnrollmentMode=d.get("EnrollmentMode"), EnrollmentType=d.get("EnrollmentType"),
           Identity=d.get("MDM", {}).get("IdentityPayloadType"), CC="CloudConfigurationDetails" in d,
           Apps={a["Identifier"]: (a.get("ManagementFlags"), a.get("IncludeInBackup"), a.get("Status"))
                 for a in d.get("Apps", []) if a.get("IsManaged")})
for k, v in e.items():
    if got[k] != v:
        bad.append("%s: %s = %r, expected %r" % (sys.argv[2], k, got[k], v))
if d["State"].get("WillEncrypt") is not False:
    bad.append("WillEncrypt should be false on a new device")
if d.get("CloudConfigurationDetails") and d["CloudConfigurationDetails"].get("IsSupervised") != d.get("IsSupervised"):
    bad.append("CloudConfigurationDetails.IsSupervised disagrees with IsSupervised")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

templates="ade-iphone ade-ipad-acme shared-ipad profile-de-ipad ue-account-iphone de-account-iphone
           abe-employee-iphone vision-pro-ade unmanaged-personal"
for t in $templates; do
    "$FERRY" device create "$D/$t" --template "$t" --files 4 --size 64K >/dev/null
    "$FERRY" device show "$D/$t" --json >"$TMP/$t.json"
    python3 "$TMP/expect.py" "$TMP/$t.json" "$t" || fail "device show --json for $t"
    # MDMAppManagement.plist (ferry's layout) exists exactly when there is management or a book to record.
    f="$D/$t/files/$CFG/MDMAppManagement.plist"
    case $t in
        unmanaged-personal)
            python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); assert d["ManagedApps"]=={} and "EnrollmentType" not in d' "$f" \
                || fail "$t: MDMAppManagement.plist should record no management" ;;
        *)
            python3 - "$f" "$TMP/$t.json" <<'PY' || fail "$t: MDMAppManagement.plist disagrees with device show"
import json, plistlib, sys
m = plistlib.load(open(sys.argv[1], "rb")); d = json.load(open(sys.argv[2]))
assert m["EnrollmentType"] == d["EnrollmentType"], m["EnrollmentType"]
assert m["IsSupervised"] == d["IsSupervised"] and m["IsMultiUser"] == d["IsMultiUser"]
assert m["IdentityHardwareBound"] == d["HardwareBound"]
for a in d["Apps"]:
    if not a.get("IsManaged"):
        assert a["Identifier"] not in m["ManagedApps"], a["Identifier"]
        continue
    e = m["ManagedApps"][a["Identifier"]]
    assert e.get("ManagementFlags") == a.get("ManagementFlags"), a["Identifier"]
    assert e.get("IncludeInBackup") == a.get("IncludeInBackup"), a["Identifier"]
PY
            ;;
    esac
done

# ---- ferry device backup --------------------------------------------------------------------------

# A device with its own backup password (WillEncrypt): the backup is encrypted with it, without --encrypted.
printf 'device-pw\n' >"$TMP/pw"
"$FERRY" device set "$D/ade-iphone" backup-password --password-file "$TMP/pw" >/dev/null
"$FERRY" device show "$D/ade-iphone" --json --no-files | python3 -c 'import json,sys; assert json.load(sys.stdin)["State"]["WillEncrypt"] is True' \
    || fail "WillEncrypt should be true after setting a backup password"
"$FERRY" device backup "$D/ade-iphone" "$TMP/bk" --kdf-dpic 10 >/dev/null
"$FERRY" verify "$TMP/bk" --password-file "$TMP/pw" --quick >/dev/null || fail "verify of the device's backup"
"$FERRY" info "$TMP/bk" --json --password-file "$TMP/pw" | python3 -c 'import json,sys; assert json.load(sys.stdin)["encrypted"] is True' \
    || fail "the backup should be encrypted with the device's password"
"$FERRY" ls "$TMP/bk" --password-file "$TMP/pw" >"$TMP/ls"
has() { grep -q -- "$1" "$TMP/ls" || fail "the backup should hold $1"; }
lacks() { ! grep -q -- "$1" "$TMP/ls" || fail "the backup should not hold $1"; }
has "$CFG/MDM.plist"                     # B10: encrypted
has "$CFG/CloudConfigurationDetails.plist" # B9
has "$CFG/MDMAppManagement.plist"
has "KeychainDomain/keychain-backup.plist" # B3: encrypted
has "BooksDomain/Managed/com.acme.handbook" # B7
lacks "BooksDomain/Purchases/"            # B2
has "AppDomain-com.acme.expenses/"
lacks "AppDomain-com.acme.vault/"         # B8: ManagementFlags 4
lacks "AppDomain-com.acme.notes/"         # B8: IncludeInBackup false
"$FERRY" cat "$TMP/bk" "${CFG%%/*}" "Library/ConfigurationProfiles/MDMAppManagement.plist" --password-file "$TMP/pw" \
    | python3 -c 'import plistlib,sys; d=plistlib.loads(sys.stdin.buffer.read()); assert d["ManagedApps"]["com.acme.vault"]["ManagementFlags"]==4' \
    || fail "MDMAppManagement.plist in the backup"

# Unencrypted: B3 categories and the MDM profile (B10) stay out, photos (B1) go in.
"$FERRY" device backup "$D/vision-pro-ade" "$TMP/bk2" >/dev/null
"$FERRY" verify "$TMP/bk2" --quick >/dev/null || fail "verify of the unencrypted backup"
"$FERRY" ls "$TMP/bk2" >"$TMP/ls"
lacks "$CFG/MDM.plist"
has "$CFG/CloudConfigurationDetails.plist"
lacks "KeychainDomain/keychain-backup.plist"
lacks "Library/Safari/History.db"
has "CameraRollDomain/Media/DCIM/"
lacks "AppDomain-com.acme.viewer/"        # B8: ManagementFlags 4
has "AppDomain-com.acme.training/"
# --encrypted without any password: exit 3, nothing written.
env -u FERRY_BACKUP_PASSWORD "$FERRY" device backup "$D/vision-pro-ade" "$TMP/bk3" --encrypted >/dev/null 2>&1 && fail "no password" || true
[ ! -e "$TMP/bk3" ] || fail "a failed backup left $TMP/bk3 behind"
expect_exit 2 "$FERRY" device backup "$D/vision-pro-ade" "$TMP/bk4" --account managed
echo "ok: device show facts per template, MDMAppManagement.plist, device backup content"
