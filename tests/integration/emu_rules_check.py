#!/usr/bin/env python3
# emu_rules_check.py PLAN.json LS.json SHOW.json DEVICE_DIR: a backup that idevicebackup2 made of an
# emulated device holds exactly what `ferry plan backup` says. PLAN.json is `ferry plan backup DEVICE
# [--encrypted] --json`, LS.json `ferry ls BACKUP --json` (ferry's reader), SHOW.json `ferry device
# show DEVICE --json`. Every regular file of DEVICE/files is mapped to the plan item it belongs to
# (a data category, a managed app's data, an enterprise book, the management configuration, the MDM
# enrollment, a profile; files of no item are in every full backup) and must be in the backup exactly
# when that item is `included`; the backup must hold no other file (the keychain export is generated
# by the device, and present exactly when passwords are included). Prints one line per plan item,
# "kind item outcome RULES...", for the caller's rule-specific assertions; exits 1 on a mismatch.
import hashlib
import json
import os
import sys

CONFIG_DOMAIN = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"
CONFIG_DIR = "Library/ConfigurationProfiles/"
KEYCHAIN = ("KeychainDomain", "keychain-backup.plist")

# backup-format.md §11.2 (src/backup/categories.c): (domain, path, category); "x/" prefix, "x*" prefix
CATEGORY_RULES = [
    ("KeychainDomain", "keychain-backup.plist", "passwords"),
    ("HomeDomain", "Library/CallHistoryDB/", "call-history"),
    ("HomeDomain", "Library/Safari/History.db*", "website-history"),
    ("HomeDomain", "Library/Safari/SafariTabs.db*", "website-history"),
    ("HealthDomain", "Health/", "health"),
    ("SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", "wifi"),
    ("SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi.plist", "wifi"),
    ("SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi-private-mac-networks.plist", "wifi"),
    ("CameraRollDomain", "Media/DCIM/", "photos"),
    ("CameraRollDomain", "Media/PhotoData/", "photos"),
]


def category(domain, rel):
    for d, p, c in CATEGORY_RULES:
        if d != domain:
            continue
        if p.endswith("*") and rel.startswith(p[:-1]) or p.endswith("/") and rel.startswith(p) or rel == p:
            return c
    return None


def stub_name(identifier):
    return "profile-" + hashlib.sha256(identifier.encode()).hexdigest()[:40] + ".stub"


def main():
    plan, ls, show = (json.load(open(p)) for p in sys.argv[1:4])
    ddir = sys.argv[4]
    assert plan["verdict"] == "ok", f"the plan refuses this backup: {plan.get('refusal')}"
    items = {(i["kind"], i["item"]): i for i in plan["items"]}
    managed_only = plan["context"]["managed_apps_only"]

    def outcome(kind, name):
        it = items.get((kind, name))
        return None if it is None else it["outcome"] == "included"

    apps = {a["Identifier"]: a for a in show["Apps"]}
    stubs = {}
    for p in show["Profiles"]:
        key = ("mdm-enrollment", "mdm-enrollment") if p["IsEnrollmentProfile"] else ("profile", p["PayloadIdentifier"])
        stubs[stub_name(p["PayloadIdentifier"])] = key

    def app_in(bundle):
        a = apps.get(bundle)
        if a and a.get("IsManaged"):
            return bool(outcome("app-data", bundle))
        return not managed_only

    def belongs(domain, rel):
        """(item key or None, in the backup?) for one device file"""
        cat = category(domain, rel)
        if cat:
            return ("category", cat), bool(outcome("category", cat))
        if domain.startswith("AppDomain-"):
            b = domain[len("AppDomain-"):]
            return ("app-data", b), app_in(b)
        if domain.startswith("AppDomainGroup-"):
            g = domain[len("AppDomainGroup-"):]
            owners = [a for a in apps.values() if g in (a.get("AppGroups") or [])]
            return None, any(app_in(a["Identifier"]) for a in owners) if owners else not managed_only
        if domain == "BooksDomain":
            if rel.startswith("Purchases/"):
                return ("book", "store"), False  # B2
            for b in show["Books"]:
                pid = b.get("PersistentID")
                if pid and rel.startswith("Managed/" + pid + "."):
                    return ("book", pid), bool(outcome("book", pid))
            return None, not managed_only
        if domain == CONFIG_DOMAIN and rel.startswith(CONFIG_DIR) and "/" not in rel[len(CONFIG_DIR):]:
            name = rel[len(CONFIG_DIR):]
            if name == "CloudConfigurationDetails.plist":
                key = ("management-configuration", "management-configuration")
                return key, bool(outcome(*key))
            if name == "MDM.plist":
                key = ("mdm-enrollment", "mdm-enrollment")
                return key, bool(outcome(*key))
            if name == "MDMAppManagement.plist":
                return None, True
            if name.startswith("profile-"):
                key = stubs.get(name)
                return key, bool(key and outcome(*key))
        return None, not managed_only

    expected, present_items = set(), set()
    root = os.path.join(ddir, "files")
    for dirpath, _, names in os.walk(root):
        for n in names:
            full = os.path.join(dirpath, n)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            rel = os.path.relpath(full, root)
            domain, _, relpath = rel.partition("/")
            if (domain, relpath) == KEYCHAIN:
                continue  # generated by the device from keychain.plist
            key, inside = belongs(domain, relpath)
            if key:
                present_items.add(key)
            if inside:
                expected.add((domain, relpath))
    if outcome("category", "passwords"):
        expected.add(KEYCHAIN)
        present_items.add(("category", "passwords"))

    got = {(r["domain"], r["relativePath"]) for r in ls["records"] if r["kind"] == "file"}
    bad = 0
    for d, r in sorted(expected - got):
        print(f"MISSING from the backup: {d}/{r}", file=sys.stderr)
        bad += 1
    for d, r in sorted(got - expected):
        print(f"UNEXPECTED in the backup: {d}/{r}", file=sys.stderr)
        bad += 1
    # B2: no app binaries, ever
    for d, r in sorted(got):
        if ".app/" in r or r.endswith(".ipa"):
            print(f"an app binary is in the backup (B2): {d}/{r}", file=sys.stderr)
            bad += 1
    for it in plan["items"]:
        has = "files" if (it["kind"], it["item"]) in present_items else "-"
        print(it["kind"], it["item"], it["outcome"], has, *it["rules"])
    print(f"{len(got)} files, as planned" if not bad else f"{bad} differences", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
