#!/usr/bin/env python3
"""compare_expected.py: checks `ferry ls --json` output and an extracted tree against a fixture's
<UDID>.expected.json (domain, relativePath, flags, size, sha256, symlink target)."""
import hashlib
import json
import os
import sys


def main():
    expected_path, ls_path, out_dir = sys.argv[1:4]
    expected = json.load(open(expected_path))["entries"]
    listing = json.load(open(ls_path))
    records = {(r["domain"], r["relativePath"]): r for r in listing["records"]}
    assert listing["refused"] == 0, "refused records: %d" % listing["refused"]
    assert len(records) == len(expected), "listed %d records, expected %d" % (len(records), len(expected))
    for e in expected:
        key = (e["domain"], e["relativePath"])
        r = records.get(key)
        assert r is not None, "missing record %s/%s" % key
        assert r["flags"] == e["flags"], "%s/%s: flags %d, expected %d" % (key + (r["flags"], e["flags"]))
        path = os.path.join(out_dir, e["domain"], e["relativePath"])
        if e["flags"] == 1:
            assert r["size"] == e["size"], "%s/%s: size %d, expected %d" % (key + (r["size"], e["size"]))
            data = open(path, "rb").read()
            assert len(data) == e["size"], "%s: extracted %d bytes" % (path, len(data))
            digest = hashlib.sha256(data).hexdigest()
            assert digest == e["sha256"], "%s: sha256 %s, expected %s" % (path, digest, e["sha256"])
        elif e["flags"] == 2:
            assert os.path.isdir(path) and not os.path.islink(path), "%s is not a directory" % path
        elif e["flags"] == 4:
            assert r.get("target") == e["target"], "%s/%s: target %s" % (key + (r.get("target"),))
    print("ok: %d entries match %s" % (len(expected), os.path.basename(expected_path)))


if __name__ == "__main__":
    main()
