#!/usr/bin/env python3
# usage (root): ip netns add p; ip netns exec p python3 tools/probe_pruning.py N BACKLOG SECONDS; ip netns del p
# Inject N silent SYNs into a listener with listen(B) through a TUN device and
# record when the kernel sends each SYN-ACK. Runs inside a private netns.
import fcntl, os, select, socket, struct, subprocess, sys, time
N, B, DUR = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
TUNSETIFF = 0x400454ca
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", 0x0001 | 0x1000))
subprocess.check_call("ip link set lo up; ip addr add 10.0.0.1/24 dev tun0; ip link set tun0 up", shell=True)
for k, v in [("tcp_syncookies", "0"), ("tcp_timestamps", "0")]:
    open(f"/proc/sys/net/ipv4/{k}", "w").write(v)
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("10.0.0.1", 8080)); ls.listen(B)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def syn(sport, seq):
    src, dst = socket.inet_aton("10.0.0.2"), socket.inet_aton("10.0.0.1")
    tcp = struct.pack("!HHIIBBHHH", sport, 8080, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp
t0 = time.monotonic()
for i in range(N):
    os.write(fd, syn(40000 + i, 1000 * i))
seen = {}
while time.monotonic() - t0 < DUR:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r: continue
    p = os.read(fd, 2000)
    if len(p) < 40 or p[9] != 6: continue
    dport = struct.unpack("!H", p[22:24])[0]; flags = p[33]
    seen.setdefault(dport, []).append((round(time.monotonic() - t0, 2), flags))
for port in sorted(seen):
    print(port, " ".join("%.2f%s" % (t, "" if f == 0x12 else "(%x)" % f) for t, f in seen[port]))
