#!/usr/bin/env python3
"""check_plan.py PLAN_JSON SHOW_JSON DEVICE_DIR: the emulated device, after a restore and the
check-in that follows it, agrees with every item of a `ferry plan restore --json` prediction.

Each item is checked against `ferry device show --json` and the device directory: profiles present
exactly when restored; the enrollment and the management configuration present when restored or
re-enrolled; app data on disk when restored, a managed placeholder when `placeholder`, nothing when
removed; enterprise books present exactly when restored; a category's files present exactly when
restored (so X1's `skipped` leaves none); the passcode and biometrics cleared (R1). Prints one line of
"kind:outcome" and "kind:name:outcome" tokens for the scenario's own assertions. Exits 1 with the
first disagreement, naming the item, the plan's outcome and rules, and what the device has."""
import json
import os
import sys


def main():
    plan, dev = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
    ddir = sys.argv[3]
    if plan["verdict"] != "ok":
        sys.exit(f"the plan is {plan['verdict']}: {plan.get('reason')}")
    prof = {p["PayloadIdentifier"]: p for p in dev["Profiles"]}
    apps = {a["Identifier"]: a for a in dev["Apps"]}
    books = {str(b.get("PersistentID") or b.get("iTunesStoreID")): b for b in dev["Books"]}
    cats = dev["Files"]["Categories"]
    seen = set()
    for it in plan["items"]:
        kind, name, out = it["kind"], it["item"], it["outcome"]
        seen.add(f"{kind}:{out}")
        seen.add(f"{kind}:{name}:{out}")
        where = f"{kind} {name}: the plan says {out} ({' '.join(it['rules'])})"
        present = out in ("restored", "re-enrolled")
        data = os.path.isdir(os.path.join(ddir, "files", "AppDomain-" + name))
        if kind == "profile":
            ok, has = (name in prof) == (out == "restored"), f"installed: {name in prof}"
        elif kind == "mdm-enrollment":
            ok, has = (dev["EnrollmentType"] != "none") == present, f"enrollment {dev['EnrollmentType']}"
        elif kind == "management-configuration":
            ok, has = ("CloudConfigurationDetails" in dev) == present, f"configuration: {'CloudConfigurationDetails' in dev}"
        elif kind == "app-data":
            a = apps.get(name, {})
            has = f"app {a or 'absent'}, data on disk: {data}"
            if out == "placeholder":
                ok = bool(a) and not a["Installed"] and a["IsManaged"] and data
            elif out == "restored":
                ok = data
            elif out == "removed-after-checkin":
                ok = not a and not data
            elif out in ("dropped", "not-in-backup", "skipped"):
                ok = not a.get("IsManaged") or not data
            else:
                ok = True
        elif kind == "app":
            has = f"app {apps.get(name) or 'absent'}"
            ok = name not in apps if out == "removed-after-checkin" else True
        elif kind == "book":
            b = books.get(name)
            has = f"book {b or 'absent'}"
            ok = True if b and not b.get("IsEnterpriseBook", True) else (b is not None) == (out == "restored")
        elif kind == "category":
            n = cats[name]["Files"]
            if name == "passwords":  # the keychain export is imported into the keychain, not kept as a file
                n += sum(1 for k in dev.get("Keychain", []) if k.get("Category") == "passwords")
            ok, has = (n > 0) == (out == "restored"), f"{n} files"
        elif kind == "passcode":
            ok, has = dev["State"]["PasscodePresent"] is False, "a passcode"
        elif kind == "biometrics":
            ok, has = dev["State"]["BiometricsEnrolled"] is False, "biometrics enrolled"
        else:
            ok, has = True, ""
        if not ok:
            sys.exit(f"{where}; the device has {has}")
    print(" ".join(sorted(seen)))


if __name__ == "__main__":
    main()
