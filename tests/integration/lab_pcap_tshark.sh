#!/usr/bin/env bash
# tshark reads the pcap of `synq lab seeds` (linux) and finds what the story
# says is there: the duplicate ACKs the ignored clients send in answer to
# retransmitted SYN-ACKs, and the RST for the request that expired. Then a
# lossy run: every packet sent is in the pcap, the lost ones marked, each at
# the JSON's time to the nanosecond.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$BIN" lab seeds --model linux --quiet --json "$out/seeds.json" --pcap "$out/seeds.pcap" >/dev/null

fields() { tshark -r "$out/seeds.pcap" -Y "$1" -T fields -E separator=, "${@:2}" 2>/dev/null; }

# Duplicate ACKs: from clients (to port 80), each repeating an earlier ACK.
dups=$(fields "tcp.analysis.duplicate_ack && tcp.dstport == 80" -e tcp.srcport)
ndups=$(printf '%s\n' "$dups" | grep -c . || true)
dup_ports=$(printf '%s\n' "$dups" | sort -u | tr '\n' ' ')
echo "duplicate ACKs: $ndups from client ports: $dup_ports"
[[ $ndups -ge 2 ]] || { echo "FAIL: expected duplicate ACKs from the ignored clients"; exit 1; }

# The RST: one, from the server to one of the clients that sent duplicate ACKs.
rsts=$(fields "tcp.flags.reset == 1" -e tcp.srcport -e tcp.dstport)
nrst=$(printf '%s\n' "$rsts" | grep -c . || true)
echo "resets: $rsts"
[[ $nrst -eq 1 ]] || { echo "FAIL: expected exactly one RST, got $nrst"; exit 1; }
IFS=, read -r rst_src rst_dst <<<"$rsts"
[[ $rst_src == 80 ]] || { echo "FAIL: the RST should come from the server"; exit 1; }
grep -qw "$rst_dst" <<<"$dup_ports" || { echo "FAIL: RST to $rst_dst, not an ignored client"; exit 1; }

# The same client is the one the JSON says was reset.
python3 - "$out/seeds.json" "$rst_dst" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
reset = [c for c in j["clients"] if c["outcome"] == "reset"]
assert len(reset) == 1 and reset[0]["port"] == int(sys.argv[2]), reset
print("JSON agrees: client", reset[0]["id"], "port", reset[0]["port"], "was reset")
PY

# A lossy link: the pcap holds every packet either side sent, the ones the
# link lost included and marked; its count, marks and nanosecond timestamps
# agree with the JSON's timeline packet for packet.
cat >"$out/lossy.toml" <<'TOML'
name = "lossy"
duration = 20
seed = 3
[server]
backlog = 4
accept = "rate:50"
[clients]
count = 20
arrival = "every:0.0503"
[link]
latency_ms = 1.25
jitter_ms = 0.37
loss = 0.2
TOML
"$BIN" lab "$out/lossy.toml" --quiet --json "$out/lossy.json" --pcap "$out/lossy.pcap" >/dev/null
# Per frame: time, ports, raw sequence number, comment (empty if none).
tshark -r "$out/lossy.pcap" -T fields -E separator='|' -e frame.time_epoch -e tcp.srcport \
  -e tcp.dstport -e tcp.seq_raw -e frame.comment >"$out/lossy.frames" 2>"$out/tshark.err" ||
  { echo "FAIL: tshark cannot read the pcap: $(cat "$out/tshark.err")"; exit 1; }
python3 - "$out/lossy.json" "$out/lossy.frames" <<'PY'
import json, sys
from decimal import Decimal
j = json.load(open(sys.argv[1]))
frames = [l.rstrip("\n").split("|") for l in open(sys.argv[2])]
pkts = [e for e in j["timeline"] if e["kind"] == "packet"]
lost = [e for e in pkts if e.get("lost")]
marked = [f for f in frames if f[4]]
print(f"pcap: {len(frames)} frames, {len(marked)} marked lost; "
      f"JSON timeline: {len(pkts)} packets, {len(lost)} lost")
assert len(lost) > 0, "loss = 0.2 must lose something"
assert len(frames) == len(pkts), "the pcap must hold every packet sent, lost ones too"
assert len(marked) == len(lost), "every lost packet is marked, and only those"
for f, e in zip(frames, pkts):
    t, sport, dport, seq, comment = f
    # Exact to the nanosecond: tshark's decimal string equals the JSON's.
    assert Decimal(t) == Decimal(repr(e["t"])), (t, e["t"], e["text"])
    assert (int(sport), int(dport), int(seq)) == (e["sport"], e["dport"], e["seq"]), (f, e["text"])
    want = "lost by the link (%s)" % e["direction"] if e.get("lost") else ""
    assert comment == want, (comment, want, e["text"])
print("lossy pcap: every packet sent is in it, lost ones marked; times exact to the ns")
PY
