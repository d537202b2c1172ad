#!/usr/bin/env bash
# The lab's scale figures, measured through the CLI exactly as users run it
# (`synq lab ... --json FILE`), each as one whole process under GNU time:
#   1. 1,000,000 clients, default payloads (100-byte request and response),
#      Poisson arrivals, an accept loop, --json: wall seconds (target <= 5 s).
#   2. A 100,000-client overload: arrivals 5x the accept rate into listen(fd,
#      128), so SYNs are dropped and retransmitted, requests expire and clients
#      time out: wall seconds (target <= 5 s).
#   3. Peak memory per client in flight in run 2: the process's peak RSS over
#      the most clients that were between connect() and their outcome at once
#      (the JSON's max_clients_in_flight); everything counted (target <= 2 KB).
# Usage: bench/lab_scale.sh [path/to/synq]   (make bench runs it)
set -euo pipefail
BIN=${1:-build/synq}
[[ -x $BIN ]] || { echo "lab_scale: $BIN is not built (make build)" >&2; exit 66; }
[[ -x /usr/bin/time ]] || { echo "lab_scale: GNU time is missing (tools/deps.sh installs it)" >&2; exit 69; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run NAME ARGS...: runs `synq lab ARGS --json out/NAME.json` under GNU time.
run() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M' -o "$out/$name.time" "$BIN" lab "$@" --quiet --no-timeline \
    --json "$out/$name.json" >"$out/$name.log"
}

json_field() { # FILE FIELD
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

outcomes() { # FILE: "established N, timed_out N, ..." from the run's JSON Lines of clients
  python3 - "$1" <<'PY'
import collections, json, os, sys
doc = json.load(open(sys.argv[1]))
lines = os.path.join(os.path.dirname(sys.argv[1]), doc["clients_file"])
c = collections.Counter(json.loads(l)["outcome"] for l in open(lines))
print(", ".join(f"{k} {v}" for k, v in sorted(c.items())) + f" (from {doc['clients_file']})")
PY
}

report() { # NAME LABEL TARGET_S
  local name=$1 label=$2 target=$3 wall rss_kb inflight
  read -r wall rss_kb <"$out/$name.time"
  inflight=$(json_field "$out/$name.json" max_clients_in_flight)
  printf '%-44s %7.2f s (target %s s: %s)  peak RSS %6.1f MB  max in flight %s\n' "$label" \
    "$wall" "$target" "$(python3 -c "print('met' if $wall <= $target else 'missed by %.0f%%' % (100 * ($wall / $target - 1)))")" \
    "$(python3 -c "print($rss_kb / 1024)")" "$inflight"
  echo "    outcomes: $(outcomes "$out/$name.json")"
}

echo "lab scale, through the CLI (whole process, GNU time; one run each):"
run million --clients 1000000 --arrival poisson:100000 --accept at:0 --backlog 4096 --duration 12
report million "1,000,000 clients, 100 B each way, --json" 5

run overload --clients 100000 --arrival poisson:10000 --accept rate:2000 --backlog 128 --duration 150
report overload "100,000 clients, arrivals 5x the accept rate" 5

read -r _ rss_kb <"$out/overload.time"
inflight=$(json_field "$out/overload.json" max_clients_in_flight)
python3 - "$rss_kb" "$inflight" <<'PY'
import sys
rss_kb, inflight = int(sys.argv[1]), int(sys.argv[2])
per = rss_kb * 1024 / max(1, inflight)
verdict = "met" if per <= 2048 else f"missed by {100 * (per / 2048 - 1):.0f}%"
print(f"{'peak RSS per client in flight (overload run)':44s} {per:7.0f} B (target 2048 B: {verdict})")
PY
