#!/usr/bin/env bash
# The HTML report of `synq lab seeds` in headless Chromium: it loads with no
# console error, every chart renders (the page's own status says so), and a
# screenshot shows the charts' lines (Vega's blue and orange are there in
# quantity), i.e. the charts are not blank. The page must work offline: the
# browser gets no network at all.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
BROWSER=$(command -v chromium || command -v chromium-browser || true)
[[ -n $BROWSER ]] || { echo "FAIL: chromium is not installed (tools/deps.sh installs it)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$BIN" lab seeds --quiet --report "$out/seeds.html" >/dev/null
grep -q '<script src=' "$out/seeds.html" && { echo "FAIL: the page loads scripts from elsewhere"; exit 1; }

browse() {
  local page=${PAGE:-seeds.html}
  timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$out")" \
    --proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 --virtual-time-budget=15000 \
    --hide-scrollbars "$@" "file://$out/$page"
}

browse --dump-dom >"$out/dom.html" 2>"$out/console.log"
if grep -E 'CONSOLE' "$out/console.log" | grep -q 'seeds.html'; then
  echo "FAIL: console messages from the page:"; grep CONSOLE "$out/console.log"; exit 1
fi
title=$(grep -o '<title>[^<]*</title>' "$out/dom.html" | head -1)
echo "page title after load: $title"
[[ $title == *"synq-report-ok charts=6"* ]] || { echo "FAIL: the page did not finish rendering its 6 charts"; exit 1; }
nsvg=$(grep -o '<svg' "$out/dom.html" | wc -l)
[[ $nsvg -ge 6 ]] || { echo "FAIL: expected 6 rendered charts, found $nsvg svg elements"; exit 1; }

browse --window-size=1500,1400 --screenshot="$out/shot.png" >/dev/null 2>&1
[[ -s $out/shot.png ]] || { echo "FAIL: no screenshot"; exit 1; }
[[ -n ${SYNQ_KEEP_SCREENSHOT:-} ]] && cp "$out/shot.png" "$SYNQ_KEEP_SCREENSHOT"

python3 - "$out/shot.png" <<'PY'
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
print("screenshot %dx%d: %s" % (w, h, counts))
assert counts["ink"] > 0.02 * w * h, "the page is (nearly) blank"
assert counts["blue"] > 500, "too little of the charts' blue: charts blank?"
assert counts["orange"] > 500, "too little of the charts' orange: the queue chart is blank?"
PY
# The sweep page: its two charts render too.
"$BIN" lab sweep --clients 400 --duration 2 --vary backlog=1..8 --vary2 model=linux,bsd44 \
  --report "$out/sweep.html" >/dev/null
PAGE=sweep.html browse --dump-dom >"$out/sweep-dom.html" 2>"$out/sweep-console.log"
grep -q '<title>synq-report-ok charts=2</title>' "$out/sweep-dom.html" ||
  { echo "FAIL: the sweep page did not render its 2 charts"; grep CONSOLE "$out/sweep-console.log"; exit 1; }
echo "report renders offline with no console error; charts are drawn"
