#!/usr/bin/env python3
"""emu_np_observe.py SOCKET NAME: connects to the emulated device's notification_proxy (DeviceID 1)
through usbmuxd, observes NAME, prints "observing", and prints the first relayed name (or exits 1
after 60 s). Used to check that the device relays notifications such as syncCancelRequest."""
import plistlib
import socket
import struct
import sys

PORT = 49201


def main():
    path, name = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    body = plistlib.dumps({"MessageType": "Connect", "DeviceID": 1,
                           "PortNumber": ((PORT & 0xFF) << 8) | (PORT >> 8)})
    s.sendall(struct.pack("<IIII", 16 + len(body), 1, 8, 1) + body)
    n = struct.unpack("<I", s.recv(16)[:4])[0]
    reply = b""
    while len(reply) < n - 16:
        reply += s.recv(n - 16 - len(reply))
    assert plistlib.loads(reply)["Number"] == 0
    msg = plistlib.dumps({"Command": "ObserveNotification", "Name": name})
    s.sendall(struct.pack(">I", len(msg)) + msg)
    print("observing", flush=True)
    hdr = b""
    while len(hdr) < 4:
        hdr += s.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    relay = plistlib.loads(body)
    assert relay["Command"] == "RelayNotification", relay
    print(relay["Name"], flush=True)


main()
