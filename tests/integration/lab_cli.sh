#!/usr/bin/env bash
# `synq lab` from the command line: the documented flags, a scenario file,
# errors that say where and what, JSON on stdout, and a sweep's answer.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --list names every built-in, seeds first.
"$BIN" lab --list >"$out/list"
head -1 "$out/list" | grep -q '^seeds' || fail "--list does not start with seeds"
for n in seeds no-accept steady workers synflood outage; do grep -q "^$n " "$out/list" || fail "--list lacks $n"; done

# Every documented flag, JSON to stdout.
"$BIN" lab steady --model linux --backlog 16 --clients 50 --arrival poisson:400 --accept rate:100 \
  --duration 3 --seed 5 --set net.ipv4.tcp_syncookies=0 --set net.core.somaxconn=4096 \
  --json - >"$out/flags.json"
python3 - "$out/flags.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["settings"]
assert (s["backlog"], s["clients"], s["arrival"], s["accept"], s["duration_s"], s["seed"]) == \
    (16, 50, "poisson:400", "rate:100", 3, 5), s
assert s["server_sysctls"] == {"net.ipv4.tcp_syncookies": "0", "net.core.somaxconn": "4096"}, s
assert len(j["clients"]) == 50
assert {c["outcome"] for c in j["clients"]} <= {"established", "refused", "reset", "timed_out", "pending"}
assert j["counters"]["TcpExtListenOverflows"] > 0, "400/s against 100 accepts/s and B=16 must overflow"
assert all({"t", "syn_queue", "accept_queue"} <= q.keys() for q in j["queues"])
print("flags reach the scenario; JSON has counters, clients, queues")
PY

# --burst and every: forms, and a bad one.
"$BIN" lab no-accept --arrival burst --clients 5 --duration 2 --quiet >/dev/null
if "$BIN" lab seeds --arrival sometimes >"$out/err" 2>&1; then fail "bad --arrival accepted"; fi
grep -q "expected burst, every:SECONDS" "$out/err" || fail "bad --arrival: $(cat "$out/err")"
if "$BIN" lab nosuch >"$out/err" 2>&1; then fail "unknown scenario accepted"; fi

# A scenario file, and a bad one with file:line.
cat >"$out/mine.toml" <<'TOML'
name = "mine"
duration = 2
[server]
backlog = 4
workers = 1
service = "fixed:0.05"
[clients]
count = 10
arrival = "every:0.01"
TOML
"$BIN" lab "$out/mine.toml" --json "$out/mine.json" --quiet >/dev/null
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['scenario']=='mine' and j['settings']['workers']==1" "$out/mine.json"
printf 'name = "bad"\n[server]\nbacklog = "lots"\n' >"$out/bad.toml"
if "$BIN" lab "$out/bad.toml" >"$out/err" 2>&1; then fail "bad file accepted"; fi
grep -q "bad.toml:3:.*'backlog' must be an integer" "$out/err" || fail "bad file error: $(cat "$out/err")"

# A sweep: table, JSON and the one-line answer.
"$BIN" lab sweep workers --clients 600 --duration 3 --vary backlog=1..16 --target 0.05 \
  --json "$out/sweep.json" >"$out/sweep.txt"
grep -q "the smallest backlog that keeps drops under 5%" "$out/sweep.txt" || fail "no answer: $(cat "$out/sweep.txt")"
python3 - "$out/sweep.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = j["rows"]
assert [r["x"] for r in rows] == ["1", "2", "4", "8", "16"], rows
assert rows[0]["drop_rate"] > rows[-1]["drop_rate"], "a bigger backlog must drop less"
print("sweep:", j["answer"])
PY
echo "lab CLI: flags, files, errors and sweeps work"

# Exit codes (apps/synq/main.cpp, docs/cli.md): 64 for bad usage (a bad flag
# or knob value), with a message naming the problem; never an abort.
source "$(dirname "$0")/lib/expect_exit.sh"
expect_exit 64 "$BIN" lab no-such-scenario
grep -q "no-such-scenario" "$out/stderr" || fail "unknown scenario not named in the error"
expect_exit 64 "$BIN" lab --arrival bogus
grep -q "expected burst" "$out/stderr" || fail "--arrival error does not say what was expected"
expect_exit 64 "$BIN" lab --set net.ipv4.tcp_syncookies
expect_exit 64 "$BIN" no-such-command
expect_exit 64 "$BIN" lab --set net.ipv4.tcp_syncookies=7 --clients 1 --duration 1 --quiet
grep -q "net.ipv4.tcp_syncookies: 7 is out of range \[0, 2\]" "$out/stderr" ||
  fail "bad sysctl value not explained: $(cat "$out/stderr")"
echo "exit codes: 64 for usage errors, each explained"
