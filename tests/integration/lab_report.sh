#!/usr/bin/env bash
# The HTML reports in headless Chromium, offline (the browser gets no network
# at all). For every built-in scenario (`synq lab --list`): the page loads
# with no console error, keeps the scenario's name as its title, and reports
# in <body data-status> that every chart and ladder diagram rendered — as many
# charts as the run's JSON has something to draw (a "no drops" sentence
# stands in for an empty drop chart) and one ladder per client for runs of a
# few dozen clients. A screenshot of each page is taken (kept with
# SYNQ_KEEP_SCREENSHOTS=DIR, for a person to look at). The seeds page's
# ladders are checked arrow by arrow against its JSON; the workers page shows
# its M/M/c/K prediction and min–max bands; a sweep page renders its charts.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
BROWSER=$(command -v chromium || command -v chromium-browser || true)
[[ -n $BROWSER ]] || { echo "FAIL: chromium is not installed (tools/deps.sh installs it)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/json" "$out/shots"

browse() {  # browse PAGE ARGS...
  local page=$1
  shift
  timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$out")" \
    --proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 --virtual-time-budget=15000 \
    --hide-scrollbars "$@" "file://$out/$page"
}

# Loads PAGE, fails on any console message from it, prints its data-status.
load() {
  local page=$1 name=${1%.html}
  browse "$page" --dump-dom >"$out/$name.dom" 2>"$out/$name.console"
  if grep -E 'CONSOLE' "$out/$name.console" | grep -q "$page"; then
    echo "FAIL: console messages from $page:" >&2
    grep CONSOLE "$out/$name.console" >&2
    exit 1
  fi
  # sed, not head: head would close the pipe early and pipefail would fail the test.
  grep -o 'data-status="[^"]*"' "$out/$name.dom" | sed -n '1{s/^data-status="//; s/"$//; p}'
}

# What a page must say once rendered, from the runs' JSON: per run a queue
# chart, a connect chart if anyone connected, a drop chart if anything was
# dropped; a ladder per client when a run has at most 40.
expected_status() {
  python3 - "$@" <<'PY'
import json, sys
charts = ladders = 0
for path in sys.argv[1:]:
    j = json.load(open(path))
    charts += 1
    charts += any(c.get("connect_time_s") is not None for c in j["clients"])
    charts += any(any(b) for b in j["drops"]["by_reason"].values())
    if len(j["clients"]) <= 40 and any(e["kind"] == "packet" for e in j["timeline"]):
        ladders += len(j["clients"])
print("synq-report-ok charts=%d ladders=%d" % (charts, ladders))
PY
}

scenarios=$("$BIN" lab --list | awk '{print $1}')
[[ -n $scenarios ]] || { echo "FAIL: synq lab --list printed no scenario"; exit 1; }
for name in $scenarios; do
  "$BIN" lab "$name" --quiet --report "$out/$name.html" --json "$out/json/$name.json" >/dev/null
  grep -q '<script src=' "$out/$name.html" && { echo "FAIL: $name.html loads scripts from elsewhere"; exit 1; }
  status=$(load "$name.html")
  want=$(expected_status "$out/json/$name"*.json)
  echo "$name: $status"
  [[ $status == "$want" ]] || { echo "FAIL: $name.html says '$status', expected '$want'"; exit 1; }
  title=$(grep -o '<title>[^<]*</title>' "$out/$name.dom" | sed -n 1p)
  [[ $title == "<title>synq lab: $name</title>" ]] ||
    { echo "FAIL: $name.html's title is $title, not the scenario's name"; exit 1; }
  browse "$name.html" --window-size=1500,2400 --screenshot="$out/shots/$name.png" >/dev/null 2>&1
  [[ -s $out/shots/$name.png ]] || { echo "FAIL: no screenshot of $name.html"; exit 1; }
done
if [[ -n ${SYNQ_KEEP_SCREENSHOTS:-} ]]; then
  mkdir -p "$SYNQ_KEEP_SCREENSHOTS"
  cp "$out"/shots/*.png "$SYNQ_KEEP_SCREENSHOTS"/
fi

# The seeds ladders against the JSON, client by client: an arrow per SYN
# (labelled [S]), a marker per ignored third ACK and per dropped SYN, the
# RST; linux shows ignored ACKs, duplicate ACKs and the final RST, bsd44 the
# silent SYN drop and no ignored ACK.
python3 - "$out/seeds.dom" "$out/json" <<'PY'
import json, re, sys
dom = open(sys.argv[1]).read()
runs = re.split(r'<div class="ladder-run" data-run="', dom)[1:]
assert len(runs) == 2, "expected ladders for two runs, found %d" % len(runs)
seen = {}
for seg in runs:
    run = seg.split('"', 1)[0]
    j = json.load(open("%s/seeds-%s.json" % (sys.argv[2], run)))
    tally = dict(syn=0, ignored=0, syn_dropped=0, rst=0, dup_ack_clients=0)
    for part in re.split(r'<svg class="ladder" data-client="', seg)[1:]:
        c = int(part.split('"', 1)[0])
        svg = part.split("</svg>", 1)[0]
        pk = [e for e in j["timeline"] if e["kind"] == "packet" and e.get("client") == c]
        ds = [d for d in j["decisions"] if d["client"] == c]
        want = dict(
            syn=sum(e["flags"] == "S" for e in pk),
            ignored=sum(d["reason_key"] == "third_ack_accept_queue_full" for d in ds),
            syn_dropped=sum(d["decision"] == "drop" and d["tcp_flags"] == "S" for d in ds),
            rst=sum("R" in e["flags"] and e["direction"] == "server>client" for e in pk))
        got = dict(
            syn=len(re.findall(r'<g class="pkt" data-flags="S" data-dir="c2s"[^>]*>.*?>\[S\] seq 0</text>', svg, re.S)),
            ignored=svg.count('data-kind="third_ack_ignored"'),
            syn_dropped=svg.count('data-kind="syn_dropped"'),
            rst=len(re.findall(r'<g class="pkt" data-flags="R[^"]*" data-dir="s2c"', svg)))
        assert got == want, "%s client %d: ladder %s, JSON %s" % (run, c, got, want)
        for k in want: tally[k] += want[k]
        # Duplicate ACKs: the same bare "[.] ack 1" sent again.
        if len(re.findall(r'data-dir="c2s"[^>]*>.*?>\[\.\] ack 1</text>', svg, re.S)) >= 2:
            tally["dup_ack_clients"] += 1
    seen[run] = tally
    print(run, tally)
assert seen["linux"]["ignored"] > 0 and seen["linux"]["rst"] > 0 and seen["linux"]["dup_ack_clients"] > 0, seen
assert seen["bsd44"]["syn_dropped"] > 0 and seen["bsd44"]["ignored"] == 0, seen
PY

# The workers page: its description promises M/M/4/9, the page shows the
# prediction; 6000 clients are recorded per interval and drawn as bands.
grep -q 'M/M/c/K prediction' "$out/workers.dom" || { echo "FAIL: workers.html has no M/M/c/K prediction"; exit 1; }
grep -q 'mark-area' "$out/workers.dom" || { echo "FAIL: workers.html draws no min-max band"; exit 1; }

# A run without drops: a sentence instead of an empty drop chart.
"$BIN" lab --model linux --backlog 64 --clients 3 --arrival every:0.5 --accept rate:100 \
  --duration 5 --quiet --report "$out/calm.html" >/dev/null
status=$(load calm.html)
[[ $status == "synq-report-ok charts=2 ladders=3" ]] || { echo "FAIL: calm.html says '$status'"; exit 1; }
grep -q 'No drops' "$out/calm.dom" || { echo "FAIL: calm.html lacks its 'No drops' note"; exit 1; }

# The seeds screenshot shows the charts' lines (Vega's blue and orange in
# quantity), i.e. the charts are not blank.
python3 - "$out/shots/seeds.png" <<'PY'
# A small PNG reader (8-bit RGB/RGBA, all five filters): no imaging library needed.
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
counts = {"blue": 0, "orange": 0, "ink": 0}
targets = {"blue": (0x4c, 0x78, 0xa8), "orange": (0xf5, 0x85, 0x18)}
h = min(h, 1400)  # the charts are at the top; decoding the rest costs time for nothing
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = line[x:x + 3]
        if px != b"\xff\xff\xff": counts["ink"] += 1
        for name, t in targets.items():
            if all(abs(px[k] - t[k]) <= 24 for k in range(3)): counts[name] += 1
    prev = line
print("seeds screenshot %dx%d: %s" % (w, h, counts))
assert counts["ink"] > 0.02 * w * h, "the page is (nearly) blank"
assert counts["blue"] > 500, "too little of the charts' blue: charts blank?"
assert counts["orange"] > 500, "too little of the charts' orange: the queue chart is blank?"
PY

# The sweep page: its two charts render too.
"$BIN" lab sweep --clients 400 --duration 2 --vary backlog=1..8 --vary2 model=linux,bsd44 \
  --report "$out/sweep.html" >/dev/null
status=$(load sweep.html)
[[ $status == "synq-report-ok charts=2 ladders=0" ]] || { echo "FAIL: the sweep page says '$status'"; exit 1; }
echo "reports render offline with no console error; charts and ladders are drawn"
