#!/usr/bin/env python3
"""emu_malformed.py SOCKET: the malformed-packet cases of the emulator, one socket at a time: usbmuxd,
lockdownd in plain text and inside the session TLS, AFC, notification_proxy, installation_proxy and
mobilebackup2 (DeviceLink). Each case has an ID (EMU-<SOCKET>-NN, cited by docs/security.md): it sends
the malformed packet on a new connection, checks the device's answer when the protocol defines one
(an error reply, or the connection closed), and then checks that the emulator still serves a normal
request on that socket. The device must already be paired (idevicepair pair), so that the TLS cases
can open a session with the host identity from the emulator's pair-record store. Every socket
operation has a timeout: a hang fails the case. Prints "PASS ID description" per case; exits 1 at the
first failure."""
import os
import plistlib
import socket
import ssl
import struct
import sys
import tempfile

PORT = {"lockdownd": 62078, "notification_proxy": 49201, "afc": 49202, "mobilebackup2": 49203,
        "installation_proxy": 49204}
PATH = sys.argv[1]
UDID = None
PAIR = None


class CaseFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CaseFailed(what)


# ---- transport -------------------------------------------------------------------------------------

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(PATH)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def closed_by_device(s, partial=False):
    """True when the device closes the connection without sending anything more. partial: the packet
    was cut short, so the host ends its side first (the device is waiting for the rest)."""
    try:
        if partial:
            s.shutdown(socket.SHUT_WR)
        return s.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def finish(s):
    try:
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


def mux_packet(body, version=1, message=8, tag=1, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack("<IIII", n, version, message, tag) + body


def mux_request(s, d, tag=1):
    s.sendall(mux_packet(plistlib.dumps(d), tag=tag))
    n, _, _, rtag = struct.unpack("<IIII", recv_exact(s, 16))
    check(rtag == tag, "usbmuxd reply tag %d, expected %d" % (rtag, tag))
    return plistlib.loads(recv_exact(s, n - 16))


def connect_service(name):
    port = PORT[name]
    s = conn()
    r = mux_request(s, {"MessageType": "Connect", "DeviceID": 1, "PortNumber": ((port & 0xFF) << 8) | (port >> 8)})
    check(r.get("Number") == 0, "Connect to %s refused: %r" % (name, r))
    return s


def frame(obj, binary=False):
    body = plistlib.dumps(obj, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)
    return struct.pack(">I", len(body)) + body


def recv_frame(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return plistlib.loads(recv_exact(s, n))


# ---- normal requests: the emulator still serves ------------------------------------------------------

def mux_ok():
    s = conn()
    r = mux_request(s, {"MessageType": "ListDevices"}, tag=7)
    finish(s)
    check(any(d["Properties"]["SerialNumber"] == UDID for d in r.get("DeviceList", [])), "ListDevices lost the device")


def lockdown_ok():
    s = connect_service("lockdownd")
    s.sendall(frame({"Request": "QueryType", "Label": "malformed"}))
    r = recv_frame(s)
    finish(s)
    check(r.get("Type") == "com.apple.mobile.lockdown", "QueryType answered %r" % r)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.load_cert_chain(PAIR["cert"], PAIR["key"])
    return ctx


def session():
    """A lockdownd connection inside the session TLS."""
    s = connect_service("lockdownd")
    s.sendall(frame({"Request": "StartSession", "HostID": PAIR["HostID"], "SystemBUID": PAIR["SystemBUID"]}))
    r = recv_frame(s)
    check(r.get("EnableSessionSSL") is True, "StartSession answered %r" % r)
    return tls_context().wrap_socket(s, server_side=False)


def lockdown_tls_ok():
    t = session()
    t.sendall(frame({"Request": "GetValue", "Key": "UniqueDeviceID"}))
    r = recv_frame(t)
    check(r.get("Value") == UDID, "GetValue in the session answered %r" % r)
    t.sendall(frame({"Request": "StopSession"}))
    t.close()


AFC_HDR = 40


def afc_packet(op, hdata=b"", payload=b"", num=1, this_len=None, entire=None, magic=b"CFA6LPAA"):
    tl = AFC_HDR + len(hdata) if this_len is None else this_len
    el = AFC_HDR + len(hdata) + len(payload) if entire is None else entire
    return magic + struct.pack("<QQQQ", el, tl, num, op) + hdata + payload


def afc_reply(s):
    magic, entire, this_len, num, op = struct.unpack("<8sQQQQ", recv_exact(s, AFC_HDR))
    check(magic == b"CFA6LPAA", "AFC reply magic %r" % magic)
    rest = recv_exact(s, entire - AFC_HDR)
    return op, rest[:this_len - AFC_HDR], rest[this_len - AFC_HDR:]


def afc_status(s):
    op, hd, _ = afc_reply(s)
    check(op == 0x01 and len(hd) == 8, "expected an AFC STATUS reply, got op %#x" % op)
    return struct.unpack("<Q", hd)[0]


def afc_ok():
    s = connect_service("afc")
    s.sendall(afc_packet(0x0B))
    op, _, payload = afc_reply(s)
    finish(s)
    check(op == 0x02 and b"FSTotalBytes" in payload, "GET_DEVINFO answered op %#x" % op)


def np_ok():
    s = connect_service("notification_proxy")
    s.sendall(frame({"Command": "ObserveNotification", "Name": "com.apple.itunes-client.syncCancelRequest"}))
    s.sendall(frame({"Command": "Shutdown"}))
    r = recv_frame(s)
    finish(s)
    check(r.get("Command") == "ProxyDeath", "Shutdown answered %r" % r)


def ip_ok():
    s = connect_service("installation_proxy")
    s.sendall(frame({"Command": "Browse", "ClientOptions": {"ApplicationType": "User"}}))
    r = recv_frame(s)
    while r.get("Status") == "BrowsingApplications":
        r = recv_frame(s)
    finish(s)
    check(r.get("Status") == "Complete", "Browse ended with %r" % r)


def mb2_open():
    s = connect_service("mobilebackup2")
    m = recv_frame(s)
    check(m[0] == "DLMessageVersionExchange", "mobilebackup2 opened with %r" % m)
    return s


def mb2_ready(s):
    s.sendall(frame(["DLMessageVersionExchange", "DLVersionsOk", 300], binary=True))
    check(recv_frame(s) == ["DLMessageDeviceReady"], "no DLMessageDeviceReady")


def mb2_process(s, req):
    s.sendall(frame(["DLMessageProcessMessage", req], binary=True))
    m = recv_frame(s)
    check(m[0] == "DLMessageProcessMessage", "expected a ProcessMessage, got %r" % m[:1])
    return m[1]


def mb2_ok():
    s = mb2_open()
    mb2_ready(s)
    r = mb2_process(s, {"MessageName": "Hello", "SupportedProtocolVersions": [2.0, 2.1]})
    s.sendall(frame(["DLMessageDisconnect", "___EmptyParameterString___"], binary=True))
    finish(s)
    check(r.get("ErrorCode") == 0, "Hello answered %r" % r)


# ---- the cases --------------------------------------------------------------------------------------

def mux_case(data, expect_number=None, partial=False):
    def run():
        s = conn()
        s.sendall(data)
        if expect_number is None:
            check(closed_by_device(s, partial), "the connection stayed open after a malformed packet")
        else:
            n = struct.unpack("<I", recv_exact(s, 16)[:4])[0]
            r = plistlib.loads(recv_exact(s, n - 16))
            check(r.get("Number") == expect_number, "Result %r, expected %d" % (r, expect_number))
        finish(s)
    return run


def mux_plist(d, expect_number=None):
    return mux_case(mux_packet(plistlib.dumps(d)), expect_number)


LIST = plistlib.dumps({"MessageType": "ListDevices"})

MUX = [
    ("EMU-MUX-01", "a 3-byte header", mux_case(b"\x00" * 3, partial=True)),
    ("EMU-MUX-02", "4 KiB of random bytes", mux_case(os.urandom(4096))),
    ("EMU-MUX-03", "length 0", mux_case(mux_packet(b"", length=0))),
    ("EMU-MUX-04", "length 0xFFFFFFFF", mux_case(mux_packet(b"", length=0xFFFFFFFF))),
    ("EMU-MUX-05", "length 2 MiB (over the 1 MiB cap)", mux_case(mux_packet(b"", length=2 << 20))),
    ("EMU-MUX-06", "binary protocol (version 0, message 3)", mux_case(mux_packet(LIST, version=0, message=3))),
    ("EMU-MUX-07", "version 7", mux_case(mux_packet(LIST, version=7))),
    ("EMU-MUX-08", "a body that is not a plist", mux_case(mux_packet(b"not a plist at all"))),
    ("EMU-MUX-09", "a plist array instead of a dict", mux_case(mux_packet(plistlib.dumps(["an", "array"])))),
    ("EMU-MUX-10", "a header announcing more than is sent", mux_case(mux_packet(LIST)[:40], partial=True)),
    ("EMU-MUX-11", "MessageType not a string", mux_plist({"MessageType": 42}, 1)),
    ("EMU-MUX-12", "an unknown MessageType", mux_plist({"MessageType": "NoSuchThing"}, 1)),
    ("EMU-MUX-13", "Connect with DeviceID and PortNumber of wrong types",
     mux_plist({"MessageType": "Connect", "DeviceID": "x", "PortNumber": "y"}, 1)),
    ("EMU-MUX-14", "Connect to an unknown device", mux_plist({"MessageType": "Connect", "DeviceID": 99,
                                                              "PortNumber": 32498}, 2)),
    ("EMU-MUX-15", "Connect to a port no service listens on",
     mux_plist({"MessageType": "Connect", "DeviceID": 1, "PortNumber": 256}, 3)),
    ("EMU-MUX-16", "ReadPairRecord with a path as PairRecordID",
     mux_plist({"MessageType": "ReadPairRecord", "PairRecordID": "../../etc/passwd"}, 1)),
    ("EMU-MUX-17", "SavePairRecord with data that is not a plist",
     mux_plist({"MessageType": "SavePairRecord", "PairRecordID": "x", "PairRecordData": b"junk junk"}, 1)),
]


def service_case(name, data, expect=None, partial=False):
    """Sends data on a new connection to service name; expect(reply) checks the reply frame, or the
    device must close the connection."""
    def run():
        s = connect_service(name)
        s.sendall(data)
        if expect is None:
            check(closed_by_device(s, partial), "the connection stayed open after a malformed frame")
        else:
            expect(recv_frame(s))
        finish(s)
    return run


def error_is(value):
    def f(r):
        check(r.get("Error") == value, "expected Error %s, got %r" % (value, r))
    return f


def framing_cases(prefix, name, start):
    body = plistlib.dumps(["not", "a", "dict"])
    cases = [
        ("zero-length frame", struct.pack(">I", 0)),
        ("length 0xFFFFFFFF", struct.pack(">I", 0xFFFFFFFF)),
        ("length over the 16 MiB cap", struct.pack(">I", (16 << 20) + 1)),
        ("a body that is not a plist", struct.pack(">I", 20) + b"garbage garbage garb"),
        ("a truncated binary plist", struct.pack(">I", 8) + b"bplist00"),
        ("a frame announcing more than is sent", struct.pack(">I", 4096) + b"<?xml"),
    ]
    return [("%s-%02d" % (prefix, start + i), d, service_case(name, data, partial=i == len(cases) - 1))
            for i, (d, data) in enumerate(cases)]


ARRAY = frame(["not", "a", "dict"])
SHUTDOWN = frame({"Command": "Shutdown"})


def proxy_death(r):
    check(r.get("Command") == "ProxyDeath", "answered %r" % r)


PAIR_BAD = {"Request": "Pair", "PairRecord": {"HostID": "EVIL-HOST", "DeviceCertificate": b"-----BEGIN CERT"}}
LOCKDOWN = framing_cases("EMU-LD", "lockdownd", 1) + [
    ("EMU-LD-07", "a plist array instead of a dict", service_case("lockdownd", ARRAY)),
    ("EMU-LD-08", "Request not a string", service_case("lockdownd", frame({"Request": 12}), error_is("MissingRequest"))),
    ("EMU-LD-09", "an unknown Request", service_case("lockdownd", frame({"Request": "Frobnicate"}),
                                                     error_is("InvalidRequest"))),
    ("EMU-LD-10", "StartService outside a session",
     service_case("lockdownd", frame({"Request": "StartService", "Service": "com.apple.afc"}),
                  error_is("NoRunningSession"))),
    ("EMU-LD-11", "StartSession with an unknown HostID",
     service_case("lockdownd", frame({"Request": "StartSession", "HostID": "NOT-PAIRED"}), error_is("InvalidHostID"))),
    ("EMU-LD-12", "Pair with a DeviceCertificate not made for this device",
     service_case("lockdownd", frame(PAIR_BAD), error_is("InvalidPairRecord"))),
    ("EMU-LD-13", "ValidatePair without a PairRecord",
     service_case("lockdownd", frame({"Request": "ValidatePair"}), error_is("InvalidPairRecord"))),
]


def tls_case(data, expect=None):
    def run():
        t = session()
        t.sendall(data)
        if expect is None:
            check(closed_by_device(t), "the session stayed open after a malformed frame")
        else:
            expect(recv_frame(t))
        try:
            t.close()
        except OSError:
            pass
    return run


def tls_garbage_handshake():
    s = connect_service("lockdownd")
    s.sendall(frame({"Request": "StartSession", "HostID": PAIR["HostID"], "SystemBUID": PAIR["SystemBUID"]}))
    recv_frame(s)
    s.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(512))  # not a TLS ClientHello
    try:  # the device may answer with a TLS alert; then it must close (a timeout fails the case)
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    finish(s)


def tls_cut_mid_frame():
    t = session()
    t.sendall(struct.pack(">I", 200) + b"<?xml version")
    t.close()  # no close_notify, in the middle of a frame


LOCKDOWN_TLS = [
    ("EMU-LDTLS-01", "garbage instead of the TLS handshake after StartSession", tls_garbage_handshake),
    ("EMU-LDTLS-02", "zero-length frame inside the session", tls_case(struct.pack(">I", 0))),
    ("EMU-LDTLS-03", "length 0xFFFFFFFF inside the session", tls_case(struct.pack(">I", 0xFFFFFFFF))),
    ("EMU-LDTLS-04", "a body that is not a plist inside the session",
     tls_case(struct.pack(">I", 20) + b"garbage garbage garb")),
    ("EMU-LDTLS-05", "a plist array inside the session", tls_case(frame(["a", "b"]))),
    ("EMU-LDTLS-06", "an unknown Request inside the session", tls_case(frame({"Request": "Frobnicate"}),
                                                                       error_is("InvalidRequest"))),
    ("EMU-LDTLS-07", "StartSession inside the session",
     tls_case(frame({"Request": "StartSession", "HostID": "x"}), error_is("InvalidHostID"))),
    ("EMU-LDTLS-08", "StartService of an unknown service inside the session",
     tls_case(frame({"Request": "StartService", "Service": "com.example.nothing"}), error_is("InvalidService"))),
    ("EMU-LDTLS-09", "the host cuts the session in the middle of a frame", tls_cut_mid_frame),
]


def afc_case(data, expect_status=None, partial=False):
    def run():
        s = connect_service("afc")
        s.sendall(data)
        if expect_status is None:
            check(closed_by_device(s, partial), "the AFC connection stayed open after a malformed header")
        else:
            st = afc_status(s)
            check(st == expect_status, "AFC status %d, expected %d" % (st, expect_status))
        finish(s)
    return run


def afc_escape():
    s = connect_service("afc")
    s.sendall(afc_packet(0x0D, struct.pack("<Q", 3) + b"../../escape-afc\x00"))
    st = afc_status(s)
    finish(s)
    check(st != 0, "opening ../../escape-afc for writing succeeded")
    root = os.path.dirname(PATH)
    for dirpath, _, files in os.walk(root):
        check("escape-afc" not in files, "an AFC path escaped the media root: %s" % dirpath)


def afc_open(s, mode, path):
    s.sendall(afc_packet(0x0D, struct.pack("<Q", mode) + path + b"\x00"))
    op, hd, _ = afc_reply(s)
    check(op == 0x0E and len(hd) == 8, "FILE_OPEN of %r: op %#x" % (path, op))
    return struct.unpack("<Q", hd)[0]


def afc_lock_twice():
    """A blocking FILE_LOCK (no LOCK_NB bit) on a second handle of a file the same connection holds
    locked: the device answers would-block instead of waiting forever for itself (fuzz finding 5)."""
    s = connect_service("afc")
    h1 = afc_open(s, 3, b"lock-twice")
    h2 = afc_open(s, 1, b"lock-twice")
    s.sendall(afc_packet(0x1B, struct.pack("<QQ", h1, 2)))
    check(afc_status(s) == 0, "the first exclusive lock failed")
    s.sendall(afc_packet(0x1B, struct.pack("<QQ", h2, 2)))
    st = afc_status(s)
    check(st == 19, "a second exclusive lock: status %d, expected 19 (would block)" % st)
    finish(s)


AFC = [
    ("EMU-AFC-01", "a bad magic", afc_case(afc_packet(0x0B, magic=b"CFA6LPAB"))),
    ("EMU-AFC-02", "entire length below this length", afc_case(afc_packet(0x0B, entire=40, this_len=48) + b"\0" * 8)),
    ("EMU-AFC-03", "this length below the 40-byte header", afc_case(afc_packet(0x0B, this_len=30))),
    ("EMU-AFC-04", "header data over 64 KiB", afc_case(afc_packet(0x0A, this_len=AFC_HDR + (1 << 17),
                                                                   entire=AFC_HDR + (1 << 17)))),
    ("EMU-AFC-05", "a payload over 16 MiB", afc_case(afc_packet(0x10, entire=1 << 40))),
    ("EMU-AFC-06", "a packet announcing more than is sent", afc_case(afc_packet(0x0A, b"x" * 100)[:60], partial=True)),
    ("EMU-AFC-07", "FILE_OPEN of a path that leaves the media root", afc_escape),
    ("EMU-AFC-08", "FILE_READ on a handle never opened", afc_case(afc_packet(0x0F, struct.pack("<QQ", 77, 1 << 40)), 7)),
    ("EMU-AFC-09", "an unknown operation", afc_case(afc_packet(0x99), 15)),
    ("EMU-AFC-10", "GET_FILE_INFO with a path of no terminating NUL (read to its end)",
     afc_case(afc_packet(0x0A, b"NoSuchDir"), 8)),
    ("EMU-AFC-11", "2 KiB of random bytes", afc_case(os.urandom(2048))),
    ("EMU-AFC-12", "a blocking FILE_LOCK on a second handle of a file the connection holds locked", afc_lock_twice),
]


NP = framing_cases("EMU-NP", "notification_proxy", 1) + [
    ("EMU-NP-07", "a plist array (ignored), then Shutdown", service_case("notification_proxy", ARRAY + SHUTDOWN,
                                                                         proxy_death)),
    ("EMU-NP-08", "Command not a string, then Shutdown",
     service_case("notification_proxy", frame({"Command": ["x"]}) + SHUTDOWN, proxy_death)),
    ("EMU-NP-09", "ObserveNotification without a Name, then Shutdown",
     service_case("notification_proxy", frame({"Command": "ObserveNotification"}) + SHUTDOWN, proxy_death)),
]

IP = framing_cases("EMU-IP", "installation_proxy", 1) + [
    ("EMU-IP-07", "a plist array instead of a dict", service_case("installation_proxy", ARRAY,
                                                                  error_is("UnknownCommand"))),
    ("EMU-IP-08", "an unknown Command", service_case("installation_proxy", frame({"Command": "Uninstall"}),
                                                     error_is("UnknownCommand"))),
    ("EMU-IP-09", "Command not a string", service_case("installation_proxy", frame({"Command": 3}),
                                                       error_is("UnknownCommand"))),
    ("EMU-IP-10", "Browse with ClientOptions that are not a dict",
     service_case("installation_proxy", frame({"Command": "Browse", "ClientOptions": "User"}),
                  lambda r: check(r.get("Status") in ("BrowsingApplications", "Complete"), "answered %r" % r))),
]


def mb2_case(after_exchange, data, expect_code=None, partial=False):
    """On mobilebackup2: data instead of the version reply (after_exchange False) or after the
    exchange; then the final ProcessMessage must carry expect_code, or the device closes."""
    def run():
        s = mb2_open()
        if after_exchange:
            mb2_ready(s)
        s.sendall(data)
        if expect_code is None:
            check(closed_by_device(s, partial), "mobilebackup2 stayed open after a malformed message")
        else:
            m = recv_frame(s)
            check(m[0] == "DLMessageProcessMessage" and m[1].get("ErrorCode") == expect_code,
                  "expected ErrorCode %d, got %r" % (expect_code, m))
        finish(s)
    return run


def dl(obj):
    return frame(obj, binary=True)


def mb2_backup_garbage_status():
    s = mb2_open()
    mb2_ready(s)
    s.sendall(dl(["DLMessageProcessMessage", {"MessageName": "Backup", "TargetIdentifier": UDID}]))
    m = recv_frame(s)  # a Backup starts by asking for the previous Status.plist
    check(m[0] == "DLMessageDownloadFiles", "a Backup started with %r" % m[:1])
    s.sendall(struct.pack(">I", 0xFFFFFFF0))  # a path length far over the limit
    check(closed_by_device(s), "the device kept a backup whose file stream was garbage")
    finish(s)


MB2 = [
    ("EMU-MB2-01", "garbage instead of the version reply", mb2_case(False, struct.pack(">I", 20) + b"x" * 20)),
    ("EMU-MB2-02", "DLVersionsRefused", mb2_case(False, dl(["DLMessageVersionExchange", "DLVersionsRefused"]))),
    ("EMU-MB2-03", "a dict instead of the version array", mb2_case(False, dl({"DLMessage": "VersionExchange"}))),
    ("EMU-MB2-04", "zero-length frame after the exchange", mb2_case(True, struct.pack(">I", 0))),
    ("EMU-MB2-05", "length 0xFFFFFFFF after the exchange", mb2_case(True, struct.pack(">I", 0xFFFFFFFF))),
    ("EMU-MB2-06", "a message that is not a DL... array", mb2_case(True, dl(["Hello", {}]))),
    ("EMU-MB2-07", "a DL name shorter than 9 characters", mb2_case(True, dl(["DLMsg", {}]))),
    ("EMU-MB2-08", "DLMessageProcessMessage without a dict",
     mb2_case(True, dl(["DLMessageProcessMessage", "not a dict"]), 2)),
    ("EMU-MB2-09", "a request without MessageName", mb2_case(True, dl(["DLMessageProcessMessage", {"X": 1}]), 2)),
    ("EMU-MB2-10", "an unknown MessageName",
     mb2_case(True, dl(["DLMessageProcessMessage", {"MessageName": "Frobnicate"}]), 3)),
    ("EMU-MB2-11", "a Backup for another device",
     mb2_case(True, dl(["DLMessageProcessMessage", {"MessageName": "Backup", "TargetIdentifier": "NOT-THIS-ONE"}]), 2)),
    ("EMU-MB2-12", "a garbage file stream during a Backup", mb2_backup_garbage_status),
]


def load_pair():
    global UDID, PAIR
    s = conn()
    r = mux_request(s, {"MessageType": "ListDevices"})
    finish(s)
    UDID = r["DeviceList"][0]["Properties"]["SerialNumber"]
    s = conn()
    r = mux_request(s, {"MessageType": "ReadPairRecord", "PairRecordID": UDID})
    finish(s)
    check("PairRecordData" in r, "no pair record for %s: pair it first" % UDID)
    rec = plistlib.loads(r["PairRecordData"])
    d = tempfile.mkdtemp(prefix="ferry-malformed-")
    PAIR = {"HostID": rec["HostID"], "SystemBUID": rec.get("SystemBUID", ""),
            "cert": os.path.join(d, "host.crt"), "key": os.path.join(d, "host.key")}
    with open(PAIR["cert"], "wb") as f:
        f.write(rec["HostCertificate"])
    with open(PAIR["key"], "wb") as f:
        f.write(rec["HostPrivateKey"])
    os.chmod(PAIR["key"], 0o600)


def main():
    load_pair()
    groups = [("usbmuxd", MUX, mux_ok), ("lockdownd", LOCKDOWN, lockdown_ok),
              ("lockdownd-tls", LOCKDOWN_TLS, lockdown_tls_ok), ("afc", AFC, afc_ok),
              ("notification_proxy", NP, np_ok), ("installation_proxy", IP, ip_ok), ("mobilebackup2", MB2, mb2_ok)]
    for name, cases, normal in groups:
        normal()
        for cid, desc, run in cases:
            try:
                run()
                normal()
            except (CaseFailed, OSError, EOFError, ValueError, KeyError, IndexError) as e:
                print("FAIL %s %s: %s: %s" % (cid, desc, type(e).__name__, e))
                sys.exit(1)
            print("PASS %s %s" % (cid, desc))
    os.unlink(PAIR["cert"])
    os.unlink(PAIR["key"])
    os.rmdir(os.path.dirname(PAIR["cert"]))


main()
