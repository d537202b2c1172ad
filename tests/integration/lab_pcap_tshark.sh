#!/usr/bin/env bash
# tshark reads the pcap of `synq lab seeds` (linux) and finds what the story
# says is there: the duplicate ACKs the ignored clients send in answer to
# retransmitted SYN-ACKs, and the RST for the request that expired.
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
