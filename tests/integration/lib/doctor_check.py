#!/usr/bin/env python3
"""Checks the outputs tests/integration/doctor.sh collected in DIR against
what the test did to the kernel. Every number asserted here is one the test
caused, or the kernel's own counter for it."""
import json
import sys
from pathlib import Path

d = Path(sys.argv[1])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def load(name):
    text = (d / name).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        sys.exit(f"FAILED: {name} is not JSON ({e}):\n{text[:2000]}")


def listener(doc, port, family=None):
    for l in doc["listeners"]:
        if l["port"] == port and (family is None or l["family"] == family):
            return l
    sys.exit(f"FAILED: no listener on port {port} in {json.dumps(doc['listeners'])[:2000]}")


def findings(doc, fid, port=None):
    out = []
    for f in doc["findings"]:
        if f["id"] != fid:
            continue
        where = f.get("listener") or ""
        if port is None or str(where).endswith(f":{port}"):
            out.append(f)
    return out


def delta(doc, name):
    return doc["counters_delta"].get(name, 0)


# Window 1: the filled listener, three ACK-time overflows.
ack = load("ack.out")
check(ack["evidence"] == "available", f"window 1: evidence {ack['evidence']!r}")
l8001, l8002, l8003 = listener(ack, 8001), listener(ack, 8002), listener(ack, 8003)
l8005 = listener(ack, 8005)
check((l8001["recv_q"], l8001["send_q"]) == (0, 5), f"8001 Recv-Q/Send-Q {l8001['recv_q']}/{l8001['send_q']}, want 0/5")
check((l8002["recv_q"], l8002["send_q"]) == (4, 3), f"8002 Recv-Q/Send-Q {l8002['recv_q']}/{l8002['send_q']}, want 4/3")
check((l8003["recv_q"], l8003["send_q"]) == (0, 64), f"8003 Recv-Q/Send-Q {l8003['recv_q']}/{l8003['send_q']}, want 0/64")
check(l8005["send_q"] == 7 and l8005["family"] in (6, "ipv6", "inet6", 10), f"8005 (IPv6): {l8005}")
check(l8002["syn_recv"] == 3, f"8002 SYN-RECV {l8002['syn_recv']}, want the 3 overflowed requests")
check(any("doctor_listeners.py" in " ".join(o["cmdline"] if isinstance(o["cmdline"], list) else [o["cmdline"]])
          for o in l8001["owners"]), f"8001's owner: {l8001['owners']}")
e = l8002["evidence"]
overflows = delta(ack, "TcpExt.ListenOverflows")
check(overflows == 3, f"window 1: ListenOverflows delta {overflows}, want 3")
check(e["ack_overflows"] == overflows, f"8002 BPF ack_overflows {e['ack_overflows']} != ListenOverflows delta {overflows}")
check(e["syn_drops_accept_queue"] == 0, f"8002 SYN-time drops in window 1: {e['syn_drops_accept_queue']}")
check(e["syns"] == 7, f"8002 SYNs {e['syns']}, want 3 crafted + 4 real")
check(e["accept_queue_max"] == 4, f"8002 accept-queue high-water {e['accept_queue_max']}, want 4 (B+1)")
check(e["rst_on_overflow"] == 0, "RSTs with tcp_abort_on_overflow=0")
for port in (8001, 8003):
    ev = listener(ack, port)["evidence"]
    check(ev is None or ev["ack_overflows"] + ev["syn_drops_accept_queue"] == 0, f"{port} has drops: {ev}")
check(findings(ack, "accept_queue_full", 8002), "no accept_queue_full finding for 8002")
check(findings(ack, "ack_time_overflow", 8002), "no ack_time_overflow finding for 8002")
check(not findings(ack, "syn_time_overflow", 8002), "a syn_time_overflow finding in window 1")
check(findings(ack, "backlog_clamped", 8003), "no backlog_clamped finding for 8003")
check(not findings(ack, "backlog_clamped", 8001) and not findings(ack, "backlog_clamped", 8002),
      "backlog_clamped on a listener below somaxconn")
fd = findings(ack, "framework_default", 8001)
check(fd and "socketserver" in (fd[0]["title"] + fd[0]["detail"]), f"framework_default for 8001: {fd}")
check(not findings(ack, "accept_queue_full", 8001), "8001 is not full")

# Window 2: SYN-time drops on the full listener.
syn = load("syn.out")
e = listener(syn, 8002)["evidence"]
overflows = delta(syn, "TcpExt.ListenOverflows")
check(overflows == 5, f"window 2: ListenOverflows delta {overflows}, want 5")
check(e["syn_drops_accept_queue"] == overflows, f"8002 SYN-time drops {e['syn_drops_accept_queue']} != {overflows}")
check(e["ack_overflows"] == 0, f"8002 ACK-time drops in window 2: {e['ack_overflows']}")
check(findings(syn, "syn_time_overflow", 8002), "no syn_time_overflow finding for 8002")
check(not findings(syn, "ack_time_overflow", 8002), "an ack_time_overflow finding in window 2")

# --predict: the larger backlog drops less than the listener as observed.
text = (d / "predict.out").read_text()
check("as observed" in text, "--predict prints no 'as observed' row")
check("backlog" in text.lower(), "--predict text does not mention the backlog")
rows = load("predict.json")["prediction"]["rows"]
observed = rows[0]
bigger = [r for r in rows if "backlog" in r["variant"]]
drops = lambda r: r["dropped_syn"] + r["dropped_ack"]
check(observed["variant"] == "as observed" and drops(observed) > 0,
      f"--predict: the observed listener (full, never accepting, 20 SYN/s) drops nothing: {observed}")
check(bigger and drops(bigger[0]) < drops(observed),
      f"--predict: a larger backlog does not drop less: {bigger} vs {observed}")

# Without BPF: the report still comes, with one line saying what is missing.
nobpf = load("nobpf.out")
check(nobpf["evidence"] != "available", "evidence available as nobody?")
check(listener(nobpf, 8002)["recv_q"] == 4, "as nobody: 8002's Recv-Q")
check(any(f["id"] == "evidence_missing" for f in nobpf["findings"]), "as nobody: no evidence_missing finding")
text = (d / "nobpf-text.out").read_text()
check(sum("--no-bpf" in line for line in text.splitlines()) >= 1, "--no-bpf: no line says evidence is off")
check(":8002" in text, "--no-bpf: the listener table is missing")

# --watch: several JSON documents, one per line, then a clean exit on SIGINT.
lines = [l for l in (d / "watch.out").read_text().splitlines() if l.strip()]
check(len(lines) >= 2, f"--watch printed {len(lines)} refreshes in 1.2 s at 0.3 s")
for l in lines:
    json.loads(l)

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
