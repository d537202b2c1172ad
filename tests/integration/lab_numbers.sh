#!/usr/bin/env bash
# What `synq lab` prints for a person: the timeline's and the story's time
# column is 11 columns wide with the unit that suits the time (µs/ms/s),
# packet lines start like tcpdump -n's ("IP a.b > c.d: Flags [...]"), and the
# counters in the summary carry the same names and values as the JSON's —
# nstat's for linux, FreeBSD netstat's for freebsd.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$BIN" lab seeds --model linux >"$out/seeds.txt"
"$BIN" lab seeds --model linux --json "$out/seeds.json" --quiet >/dev/null
"$BIN" lab steady --model freebsd --clients 300 --duration 4 >"$out/freebsd.txt"
"$BIN" lab steady --model freebsd --clients 300 --duration 4 --json "$out/freebsd.json" --quiet >/dev/null

python3 - "$out/seeds.txt" "$out/seeds.json" "$out/freebsd.txt" "$out/freebsd.json" <<'PY'
import json, re, sys
from decimal import Decimal

UNIT = {"ns": Decimal("1e-9"), "µs": Decimal("1e-6"), "ms": Decimal("1e-3"), "s": Decimal(1)}
TIME = re.compile(r"^ {0,7}(-?[0-9]+(?:\.[0-9]{1,3})?) (ns|µs|ms|s ) ")

def check_text(path, js):
    lines = open(path, encoding="utf-8").read().split("\n")
    timeline = [l for l in lines if TIME.match(l)]
    assert len(timeline) > 20, f"{path}: too few timed lines"
    packets = 0
    for l in timeline:
        m = TIME.match(l)
        # 8 columns of number, a space, 2 of unit: the tag or text starts at column 11.
        assert len(m.group(0)) == 12, f"{path}: misaligned time column: {l!r}"
        tag = l[12:16]
        if tag in ("    ", "LOST"):
            packets += 1
            assert re.match(r"IP6? [0-9a-f.:]+\.[0-9]+ > [0-9a-f.:]+\.[0-9]+: Flags \[[FSRP.UEW]+\], ", l[17:]), l
    assert packets > 0, f"{path}: no packet lines"
    # Every time printed is the JSON's time in the unit shown, to three decimals.
    want = sorted({Decimal(repr(e["t"])) for e in js["timeline"]})
    for l in timeline[:200]:
        m = TIME.match(l)
        v = Decimal(m.group(1)) * UNIT[m.group(2).strip()]
        exp = -9 if m.group(2) == "ns" else int(UNIT[m.group(2).strip()].adjusted()) - 3
        assert any(abs(w - v) <= Decimal(10) ** exp / 2 for w in want), (l, v)
    return lines

def counter_table(lines, header):
    rows, inside = {}, False
    for l in lines:
        if l.startswith(header):
            inside = True
            continue
        if inside:
            if not l.startswith("  "):
                break
            name, value = l[2:].rsplit(None, 1)
            rows[name.strip()] = int(value)
    return rows

seeds = json.load(open(sys.argv[2]))
lines = check_text(sys.argv[1], seeds)
assert "connect time: p50 2 ms, p90 67.002 s, p99 67.002 s, max 67.002 s" in lines, \
    [l for l in lines if l.startswith("connect time")]
linux = counter_table(lines, "server counters (non-zero; nstat's names):")
assert linux.get("TcpExtListenOverflows", 0) > 0, linux
assert linux == {k: v for k, v in seeds["counters"].items() if v}, (linux, seeds["counters"])
assert "netstat" not in seeds

fb = json.load(open(sys.argv[4]))
lines = check_text(sys.argv[3], fb)
ns = counter_table(lines, "server counters (non-zero; FreeBSD's netstat -s -p tcp names):")
assert ns.get("syncache entries added", 0) > 0, ns
assert ns == {k: v for k, v in fb["netstat"].items() if v}, (ns, fb["netstat"])
assert not any("sc_" in k for k in fb["netstat"]), fb["netstat"]
print("time columns aligned and equal to the JSON's times; packet lines like tcpdump;",
      f"counters agree: {len(linux)} nstat names (linux), {len(ns)} netstat names (freebsd)")
PY
