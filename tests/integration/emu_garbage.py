#!/usr/bin/env python3
"""emu_garbage.py SOCKET usbmux|services: sends malformed input to the emulator, each case on a new
connection, and only checks that the server answers or closes (never that it hangs: every socket
operation has a timeout). The caller then checks that the emulator still serves real clients."""
import os
import plistlib
import socket
import struct
import sys

PORTS = {"lockdownd": 62078, "notification_proxy": 49201, "afc": 49202, "mobilebackup2": 49203,
         "installation_proxy": 49204}


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def mux_packet(body, version=1, message=8, tag=1, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack("<IIII", n, version, message, tag) + body


def drain(s):
    try:
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


def mux_cases():
    xml = plistlib.dumps({"MessageType": "ListDevices"})
    yield b"\x00" * 3
    yield os.urandom(4096)
    yield mux_packet(b"", length=0)
    yield mux_packet(b"", length=0xFFFFFFFF)
    yield mux_packet(xml, version=0, message=3)
    yield mux_packet(xml, version=7)
    yield mux_packet(b"not a plist at all")
    yield mux_packet(plistlib.dumps(["an", "array"]))
    yield mux_packet(plistlib.dumps({"MessageType": 42}))
    yield mux_packet(plistlib.dumps({"MessageType": "Connect", "DeviceID": "x", "PortNumber": -1}))
    yield mux_packet(plistlib.dumps({"MessageType": "Connect", "DeviceID": 99, "PortNumber": 32498}))
    yield mux_packet(plistlib.dumps({"MessageType": "Connect", "DeviceID": 1, "PortNumber": 1}))
    yield mux_packet(plistlib.dumps({"MessageType": "ReadPairRecord", "PairRecordID": "../../etc/passwd"}))
    yield mux_packet(plistlib.dumps({"MessageType": "SavePairRecord", "PairRecordID": "x", "PairRecordData": b"junk"}))
    yield mux_packet(plistlib.dumps({"MessageType": "NoSuchThing"}))
    yield mux_packet(xml)[:20]


def connect_service(path, port):
    s = conn(path)
    body = plistlib.dumps({"MessageType": "Connect", "DeviceID": 1,
                           "PortNumber": ((port & 0xFF) << 8) | (port >> 8)})
    s.sendall(mux_packet(body))
    hdr = s.recv(16)
    n = struct.unpack("<I", hdr[:4])[0]
    reply = b""
    while len(reply) < n - 16:
        reply += s.recv(n - 16 - len(reply))
    if plistlib.loads(reply).get("Number") != 0:
        raise SystemExit("Connect to port %d refused" % port)
    return s


def service_cases():
    yield struct.pack(">I", 0)
    yield struct.pack(">I", 0xFFFFFFFF)
    yield struct.pack(">I", 20) + b"garbage garbage garb"
    yield struct.pack(">I", 8) + b"bplist00"
    body = plistlib.dumps(["not", "a", "dict"])
    yield struct.pack(">I", len(body)) + body
    body = plistlib.dumps({"Request": 12, "Command": [], "MessageName": {}})
    yield struct.pack(">I", len(body)) + body
    yield b"CFA6LPAA" + struct.pack("<QQQQ", 0xFFFFFFFFFFFF, 40, 1, 0x0D)
    yield b"CFA6LPAA" + struct.pack("<QQQQ", 48, 30, 1, 0x0D) + b"\x00" * 8
    yield b"CFA6LPAA" + struct.pack("<QQQQ", 41, 41, 1, 0x0A) + b"/"
    yield b"CFA6LPAA" + struct.pack("<QQQQ", 62, 62, 2, 0x0D) + struct.pack("<Q", 2) + b"/../../escape\x00"
    yield b"CFA6LPAA" + struct.pack("<QQQQ", 56, 56, 3, 0x0F) + struct.pack("<QQ", 77, 1 << 40)
    yield os.urandom(2048)


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "usbmux":
        for case in mux_cases():
            s = conn(path)
            try:
                s.sendall(case)
            except OSError:
                pass
            drain(s)
        return
    for name, port in PORTS.items():
        for case in service_cases():
            s = connect_service(path, port)
            try:
                s.sendall(case)
            except OSError:
                pass
            drain(s)
        print("garbage sent to", name)


main()
