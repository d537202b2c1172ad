#!/usr/bin/env python3
"""Writes a small seed corpus for wire_fuzz into the directory given (default
fuzz/corpus): real Linux segments captured on loopback, plus IPv6 packets with
extension headers. Each seed starts with the control byte 0x03 (fix both
checksums), so the seeds need no valid checksums."""
import os
import sys

SEEDS = {
    "kernel_syn": "45 00 00 3c ce 7a 40 00 40 06 6e 3f 7f 00 00 01 7f 00 00 01"
    " 86 dc 22 3d 2a 84 4f 84 00 00 00 00 a0 02 ff d7 fe 30 00 00"
    " 02 04 ff d7 04 02 08 0a 03 a9 e3 0e 00 00 00 00 01 03 03 0a",
    "kernel_data": "45 00 00 39 ce 7c 40 00 40 06 6e 40 7f 00 00 01 7f 00 00 01"
    " 86 dc 22 3d 2a 84 4f 85 1e ab 49 5e 80 18 00 40 fe 2d 00 00"
    " 01 01 08 0a 03 a9 e3 0e 20 0e 14 12 68 65 6c 6c 6f",
    "sack": "45 00 00 48 00 00 40 00 40 06 00 00 0a 00 00 02 0a 00 00 01"
    " 9c 40 00 50 00 00 03 e8 00 00 13 89 d0 10 01 f6 00 00 00 00"
    " 01 01 08 0a 00 00 00 09 00 00 00 08 01 01 05 12"
    " 00 00 19 31 00 00 1e d9 00 00 24 81 00 00 2a 29",
    "udp4": "45 00 00 20 00 01 40 00 40 11 00 00 c0 00 02 0a c0 00 02 14"
    " 14 e9 00 35 00 0c 00 00 01 02 03 04",
    # 2001:db8::2 -> 2001:db8::1, HBH (PadN) -> TCP SYN with MSS
    "tcp6_hbh": "60 00 00 00 00 20 00 40"
    " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
    " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
    " 06 00 01 04 00 00 00 00"
    " 9c 40 01 bb 00 00 00 01 00 00 00 00 60 02 fd 20 00 00 00 00 02 04 05 a0",
    "udp6_dest_routing": "60 00 00 00 00 1c 3c 40"
    " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
    " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
    " 2b 00 01 04 00 00 00 00 11 00 04 00 00 00 00 00"
    " 9c 40 00 35 00 0c 00 00 de ad be ef",
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
for name, hexbytes in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([0x03]) + bytes.fromhex(hexbytes))
print(f"wrote {len(SEEDS)} seeds to {out}")
