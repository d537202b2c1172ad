#!/usr/bin/env python3
"""A TCP peer made of crafted IPv4 packets on a TUN device, for doctor's tests.

A real client's handshake on loopback completes inside its connect() call, so
a test cannot hold a third ACK back with real sockets. This peer can: it
writes SYNs from --src into an existing TUN device (`ip tuntap add`), reads
the kernel's SYN-ACKs, and with --ack-fifo waits until told, then sends the
third ACKs and reports the RSTs that came back. It prints one JSON line.
"""
import argparse
import fcntl
import json
import os
import random
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SYN, RST, ACK = 0x02, 0x04, 0x10


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def packet(src, dst, sport, dport, seq, ack, flags, options=b""):
    offset = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 64240, 0, 0) + options
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.randrange(65536), 0x4000, 64,
                     6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def parse(buf):
    """(src, sport, dport, seq, ack, flags) of an IPv4 TCP packet, else None."""
    if len(buf) < 40 or buf[0] >> 4 != 4 or buf[9] != 6:
        return None
    ihl = (buf[0] & 0xF) * 4
    sport, dport, seq, ack, _off, flags = struct.unpack("!HHIIBB", buf[ihl:ihl + 14])
    return socket.inet_ntoa(buf[12:16]), sport, dport, seq, ack, flags


def read_for(fd, seconds, want, on_packet):
    """Reads packets for up to `seconds`, or until on_packet has seen `want`."""
    end = time.monotonic() + seconds
    seen = 0
    while seen < want:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        p = parse(os.read(fd, 65535))
        if p and on_packet(p):
            seen += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--src", default="10.77.0.2")
    ap.add_argument("--dst", default="10.77.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True, help="SYNs to send, one source port each")
    ap.add_argument("--sport-base", type=int, default=40000)
    ap.add_argument("--ack-fifo", help="after the SYN-ACKs, wait for a line on this fifo, then ACK")
    ap.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the SYN-ACKs (it stops as soon as all came)")
    a = ap.parse_args()

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.dev.encode(), IFF_TUN | IFF_NO_PI))
    mss = bytes([2, 4]) + struct.pack("!H", 1460)
    isn = {}
    for i in range(a.count):
        sport = a.sport_base + i
        isn[sport] = random.randrange(1 << 32)
        os.write(fd, packet(a.src, a.dst, sport, a.port, isn[sport], 0, SYN, mss))
    synacks = {}

    def on_synack(p):
        src, sport, dport, seq, ack, flags = p
        if sport == a.port and dport in isn and flags & (SYN | ACK) == SYN | ACK \
                and ack == (isn[dport] + 1) % (1 << 32) and dport not in synacks:
            synacks[dport] = seq
            return True
        return False

    read_for(fd, a.wait, a.count, on_synack)
    result = {"syns": a.count, "synacks": len(synacks), "acks": 0, "rsts": 0}
    if a.ack_fifo:
        print(json.dumps({"synacks": len(synacks)}), flush=True)
        with open(a.ack_fifo) as f:
            f.readline()
        for dport, seq in sorted(synacks.items()):
            os.write(fd, packet(a.src, a.dst, dport, a.port, (isn[dport] + 1) % (1 << 32),
                                (seq + 1) % (1 << 32), ACK))
        result["acks"] = len(synacks)
        rsts = set()

        def on_rst(p):
            src, sport, dport, seq, ack, flags = p
            if sport == a.port and dport in synacks and flags & RST and dport not in rsts:
                rsts.add(dport)
                return True
            return False

        read_for(fd, 0.5, len(synacks), on_rst)
        result["rsts"] = len(rsts)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
