#!/usr/bin/env python3
"""emu_listen.py SOCKET OUT [DEVICE_ID]: subscribes to usbmuxd events (Listen) on the emulator's
SOCKET and appends each event to OUT as "Attached N" / "Detached N", flushed at once. With DEVICE_ID it
also holds a lockdownd connection to that device and writes "dropped N" when the device closes it (a
reboot drops every connection). Runs until killed, or exits 1 after 120 s."""
import plistlib
import select
import socket
import struct
import sys
import time

LOCKDOWN = 62078


def request(s, msg):
    body = plistlib.dumps(msg)
    s.sendall(struct.pack("<IIII", 16 + len(body), 1, 8, 1) + body)


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_packet(s):
    n = struct.unpack("<I", read_exact(s, 16)[:4])[0]
    return plistlib.loads(read_exact(s, n - 16))


def main():
    path, out = sys.argv[1], open(sys.argv[2], "a")
    listen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listen.connect(path)
    request(listen, {"MessageType": "Listen", "ClientVersionString": "emu_listen", "ProgName": "emu_listen"})
    assert read_packet(listen)["Number"] == 0
    held = None
    if len(sys.argv) > 3:
        held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        held.connect(path)
        request(held, {"MessageType": "Connect", "DeviceID": int(sys.argv[3]),
                       "PortNumber": ((LOCKDOWN & 0xFF) << 8) | (LOCKDOWN >> 8)})
        assert read_packet(held)["Number"] == 0
        out.write("holding %s\n" % sys.argv[3])
        out.flush()
    deadline = time.time() + 120
    while time.time() < deadline:
        socks = [listen] + ([held] if held else [])
        ready, _, _ = select.select(socks, [], [], 1)
        if held in ready:
            if not held.recv(4096):
                out.write("dropped %s\n" % sys.argv[3])
                out.flush()
                held.close()
                held = None
        if listen in ready:
            try:
                e = read_packet(listen)
            except EOFError:
                return 0
            out.write("%s %s\n" % (e.get("MessageType"), e.get("DeviceID")))
            out.flush()
    return 1


if __name__ == "__main__":
    sys.exit(main())
