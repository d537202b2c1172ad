#!/usr/bin/env bash
# The CLI means what it says and checks every input before a run starts
# (docs/cli.md): flag semantics, contradictions, bad numbers, bad files,
# unwritable outputs, each with its sysexits code and a message on stderr.
set -euo pipefail
BIN=${SYNQ_BIN:-build/synq}
out=$(mktemp -d)
trap 'chmod -R u+w "$out"; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

source "$(dirname "$0")/lib/expect_exit.sh"
# says TEXT: stderr contains TEXT (fixed string), and stdout has no error.
says() {
  grep -qF -- "$1" "$out/stderr" || fail "stderr lacks '$1': $(cat "$out/stderr")"
}
# ran_nothing: a refused command printed no run on stdout.
ran_nothing() {
  ! grep -q '^===' "$out/stdout" || fail "a run started before the error: $(head -3 "$out/stdout")"
}

# --- 1. Flags mean what they say --------------------------------------------

# Flags alone: a custom scenario from a neutral base, nothing scripted.
expect_exit 0 "$BIN" lab --model bsd44 --backlog 2 --accept never --clients 5 --duration 5
grep -qx '=== custom on bsd44: listen(fd, 2); 5 clients at once; accept() never called; 5 s' \
  "$out/stdout" || fail "custom header: $(grep '^===' "$out/stdout")"
! grep -q 'calls accept() once\|before a single accept' "$out/stdout" ||
  fail "the seeds story's scripted accept() leaked into a custom run"
! grep -q 'ignored third ACKs' "$out/stdout" || fail "the seeds header leaked into a custom run"

# No flags at all: the seeds story, linux then bsd44 (make run relies on it).
expect_exit 0 "$BIN" lab --quiet
[[ $(grep -c '^=== seeds on ' "$out/stdout") == 2 ]] || fail "synq lab is not seeds x2"
grep -q '^=== seeds on linux: listen(fd, 2): ignored third ACKs' "$out/stdout" ||
  fail "untouched seeds lost its prose: $(grep '^===' "$out/stdout")"

# A built-in with several runs keeps all of them under overrides; the header
# is generated from what runs.
expect_exit 0 "$BIN" lab seeds --backlog 4 --quiet
grep -qx '=== seeds on linux: listen(fd, 4); 6 clients at scripted times; accept() from 70 s on, one accept() at 5 s; 140 s' \
  "$out/stdout" || fail "seeds --backlog 4 header: $(grep '^===' "$out/stdout")"
grep -q '^=== seeds on bsd44: listen(fd, 4)' "$out/stdout" || fail "--backlog dropped the bsd44 run"
expect_exit 0 "$BIN" lab seeds --seed 1 --quiet
[[ $(grep -c '^=== seeds on ' "$out/stdout") == 2 ]] || fail "--seed 1 dropped a run"

# --model picks the matching run and says so in one line on stderr.
expect_exit 0 "$BIN" lab seeds --model bsd44 --quiet
[[ $(grep -c '^===' "$out/stdout") == 1 ]] || fail "--model bsd44 should keep one run"
grep -q '^=== seeds on bsd44: ' "$out/stdout" || fail "--model bsd44 ran $(grep '^===' "$out/stdout")"
[[ $(wc -l <"$out/stderr") == 1 ]] && says "--model bsd44 runs the bsd44 run only" ||
  fail "--model note: $(cat "$out/stderr")"
expect_exit 0 "$BIN" lab seeds --model freebsd --quiet
grep -q '^=== seeds on freebsd: listen(fd, 2)' "$out/stdout" || fail "seeds --model freebsd"
says "runs the linux run's workload on freebsd"

# A flag that replaces a behaviour drops the built-in's scripted version.
expect_exit 0 "$BIN" lab seeds --accept rate:10 --model linux
! grep -q 'calls accept() once' "$out/stdout" || fail "--accept kept seeds' scripted accept()"
expect_exit 0 "$BIN" lab seeds --clients 3 --model linux --json -
python3 - "$out/stdout" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
starts = [c["start_s"] for c in j["clients"]]
# The seeds script starts clients at 0, 0.25, 0.5, ...; --clients 3 on a burst arrival
# (seeds' arrival is every:0.25) starts them by the arrival process instead.
assert len(starts) == 3, starts
assert "scripted" not in j["description"], j["description"]
print("--clients drops the scripted start times:", starts)
PY

# --set takes one value: the positional after it is still the scenario.
expect_exit 0 "$BIN" lab --set net.ipv4.tcp_syncookies=0 no-accept --quiet --duration 1
grep -q '^=== no-accept on linux: .*net.ipv4.tcp_syncookies=0' "$out/stdout" ||
  fail "--set swallowed the positional: $(grep '^===' "$out/stdout")"

# Every subcommand honours its positional; the sweep's default stays workers.
expect_exit 0 "$BIN" lab sweep no-accept --vary backlog=1,2 --duration 2 --json -
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['scenario']=='no-accept', j['scenario']" "$out/stdout"
expect_exit 0 "$BIN" lab sweep seeds --vary backlog=1,2 --duration 2 --json -
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['scenario']=='seeds', j['scenario']" "$out/stdout"
says "a sweep runs one scenario: the linux run of seeds"
expect_exit 0 "$BIN" lab sweep --vary backlog=1,2 --clients 50 --duration 1 --json -
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['scenario']=='workers', j['scenario']" "$out/stdout"
echo "flags mean what they say"

# --- 2. Contradictions are usage errors (64) --------------------------------
expect_exit 64 "$BIN" lab --workers 2 --accept never;            says "--workers and --accept both say"
expect_exit 64 "$BIN" lab --service fixed:0.1;                   says "has no workers: --service needs --workers N"
expect_exit 64 "$BIN" lab --workers 0 --service fixed:0.1;       says "--workers 0 has none"
expect_exit 64 "$BIN" lab no-accept --service exp:0.01;          says "no-accept has no workers"
expect_exit 0 "$BIN" lab workers --service fixed:0.001 --clients 20 --duration 1 --quiet  # workers has workers
expect_exit 64 "$BIN" lab --connect-timeout -1;                  says "--connect-timeout: expected a finite number >= 0"
expect_exit 64 "$BIN" lab --accept at:20 --duration 10;          says "after the run ends (10 s)"
expect_exit 64 "$BIN" lab sweep --vary model=linux,solaris;      says "got 'solaris'"
expect_exit 64 "$BIN" lab --set backlog=4 --backlog 8;           says "'backlog' is also given as --backlog"
expect_exit 64 "$BIN" lab --set net.ipv4.tcp_syncookies=0 --set net.ipv4.tcp_syncookies=1; says "set twice"
expect_exit 64 "$BIN" lab --json - --report -;                   says "both write to stdout"
expect_exit 64 "$BIN" lab --json "$out/a" --pcap "$out/a";       says "--json and --pcap both write"
expect_exit 64 "$BIN" lab --pcap -;                              says "pcap goes to a file"
expect_exit 64 "$BIN" lab --list seeds;                          says "--list"
printf '0.1\n0.2\n' >"$out/trace.txt"
expect_exit 64 "$BIN" lab --arrival "trace:$out/trace.txt" --clients 5; says "each line of FILE is a client"
expect_exit 64 "$BIN" lab sweep --vary backlog=1,2 --vary2 backlog=4,8; says "--vary already varies backlog"
expect_exit 64 "$BIN" lab sweep --vary backlog=1,2 --backlog 4;  says "backlog is both varied and fixed"
expect_exit 64 "$BIN" lab sweep --target 0;                      says "expected a drop rate in (0, 1]"
expect_exit 64 "$BIN" lab sweep --target nan;                    says "expected a drop rate in (0, 1]"
echo "contradictions: 64, each explained"

# --- 3. Bad values: 64, before anything runs, the valid range readable -------
bad_value() {  # bad_value MESSAGE ARGS...
  local msg=$1; shift
  expect_exit 64 "$BIN" lab "$@"
  says "$msg"
  ran_nothing
  ! grep -qE '[0-9]{40}' "$out/stderr" || fail "a 40-digit number in: $(cat "$out/stderr")"
}
for d in nan inf -1 0 -inf 1e400 10s; do  # --duration=VALUE: "-inf" is not an option
  bad_value "--duration: expected a finite number > 0 and <= 31536000, got '$d'" "--duration=$d"
done
bad_value "--seed: expected an integer from 0 to 18446744073709551615 (no sign), got '-1'" --seed -1
bad_value "--seed: expected an integer from 0 to 18446744073709551615 (it is out of range), got '18446744073709551616'" \
  --seed 18446744073709551616
bad_value "--backlog: expected an integer from -2147483648 to 2147483647, got '99999999999'" \
  --backlog 99999999999
bad_value "--backlog: expected an integer from -2147483648 to 2147483647, got '2147483648'" --backlog 2147483648
bad_value "--clients: expected an integer from 0 to 2147483647, got '-3'" --clients -3
bad_value "--workers: expected an integer from 0 to 2147483647, got '1.5'" --workers 1.5
for a in poisson:0 poisson:nan poisson:inf every:-1 every:0; do
  bad_value "--arrival: expected burst, every:SECONDS, poisson:PER_SECOND (finite numbers > 0) or trace:FILE, got '$a'" --arrival "$a"
done
bad_value "--accept: expected never, at:SECONDS (>= 0) or rate:PER_SECOND (> 0)" --accept rate:0
bad_value "--service: expected fixed:SECONDS (>= 0), exp:MEAN_SECONDS (> 0) or uniform:LOW:HIGH" \
  --workers 1 --service uniform:2:1
bad_value "--model: expected one of linux, bsd44, freebsd, xnu (the models built in), got 'solaris'" --model solaris
bad_value "--model: expected one of linux, bsd44" seeds --model solaris
bad_value "net.ipv4.tcp_syncookies: 7 is out of range [0, 2]" --set net.ipv4.tcp_syncookies=7
bad_value "unknown sysctl" --client-set net.ipv4.nosuch=1
bad_value "'nosuch' is neither a built-in scenario (seeds, no-accept, steady, workers, synflood, outage) nor a file" nosuch
expect_exit 64 "$BIN" lab sweep --vary duration=1,inf; says "bad value 'inf' for duration"
echo "bad values: 64 before any run, ranges in plain digits"

# --- 4. Input files: 66 missing/directory, 65 bad or empty ------------------
mkdir "$out/dir.toml"
expect_exit 66 "$BIN" lab "$out/dir.toml";             says "$out/dir.toml: the scenario file is a directory"
expect_exit 66 "$BIN" lab "$out/missing.toml";         says "$out/missing.toml: cannot open the scenario file: No such file or directory"
: >"$out/empty.toml"
expect_exit 65 "$BIN" lab "$out/empty.toml";           says "$out/empty.toml:1:1: the scenario file sets nothing"
printf 'name = "big"\n[server]\nbacklog = 99999999999\n' >"$out/big.toml"
expect_exit 65 "$BIN" lab "$out/big.toml"
says "$out/big.toml:3:11: 'backlog' must be an integer from -2147483648 to 2147483647, got 99999999999"
printf 'duration = nan\n' >"$out/nan.toml"
expect_exit 65 "$BIN" lab "$out/nan.toml";             says "$out/nan.toml:1:12: 'duration' must be a finite number"
expect_exit 66 "$BIN" lab --arrival "trace:$out";      says "$out: the arrival trace is a directory"
expect_exit 66 "$BIN" lab --arrival "trace:$out/none"; says "cannot open the arrival trace: No such file or directory"
printf '0.1\nsoon\n' >"$out/badtrace.txt"
expect_exit 65 "$BIN" lab --arrival "trace:$out/badtrace.txt"; says "$out/badtrace.txt:2:1: expected a time in seconds, got 'soon'"
: >"$out/emptytrace.txt"
expect_exit 65 "$BIN" lab --arrival "trace:$out/emptytrace.txt"; says "the arrival trace is empty"
expect_exit 0 "$BIN" lab --arrival "trace:$out/trace.txt" --accept at:0 --duration 2 --json -
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert len(j['clients'])==2" "$out/stdout"
expect_exit 66 "$BIN" lab --assets "$out/nowhere" --report "$out/r.html"; ran_nothing
echo "input files: 66 unreadable, 65 bad, each with its path"

# --- 5. Outputs: checked before the run, 73 with the errno's words ----------
expect_exit 73 "$BIN" lab --json /sys/x.json;                   says "/sys/x.json: cannot create: Permission denied"; ran_nothing
expect_exit 73 "$BIN" lab --json "$out/no/such/dir/x.json";     says "cannot create: No such file or directory"; ran_nothing
mkdir "$out/jsondir"
expect_exit 73 "$BIN" lab --json "$out/jsondir";                says "$out/jsondir: cannot create: Is a directory"
ls -A "$out/jsondir" | grep -q . && fail "--json DIR wrote into DIR"
ls "$out" | grep -q 'jsondir-' && fail "--json DIR wrote DIR-linux beside it"
# One bad output refuses the run and leaves the good ones unwritten.
expect_exit 73 "$BIN" lab --json "$out/good.json" --pcap /sys/x.pcap --quiet
[[ ! -e $out/good.json && ! -e $out/good-linux.json ]] || fail "a refused run left files behind"
ran_nothing
# Per-run outputs are checked too: seeds writes x-linux.json and x-bsd44.json.
mkdir "$out/x-bsd44.json"
expect_exit 73 "$BIN" lab seeds --json "$out/x.json";           says "$out/x-bsd44.json: cannot create: Is a directory"
[[ ! -e $out/x-linux.json ]] || fail "x-linux.json written before the check of x-bsd44.json"
touch "$out/ro"; chmod 444 "$out/ro"; mkdir "$out/rodir"; chmod 555 "$out/rodir"
if [[ $(id -u) != 0 ]]; then
  expect_exit 73 "$BIN" lab --json "$out/ro";                   says "$out/ro: cannot create: Permission denied"
  expect_exit 73 "$BIN" lab --out-dir "$out/rodir/sub";         says "cannot create: Permission denied"
fi
# A refused run leaves no --out-dir behind: neither the directory nor its parents.
expect_exit 73 "$BIN" lab --out-dir "$out/new/dir" --json /sys/x.json
[[ ! -e $out/new ]] || fail "a refused run left $out/new behind"
expect_exit 66 "$BIN" lab --out-dir "$out/new/dir" --assets "$out/nowhere"
[[ ! -e $out/new ]] || fail "a run refused for missing assets left $out/new behind"
touch "$out/afile"
expect_exit 73 "$BIN" lab --out-dir "$out/afile";               says "$out/afile: cannot create: Not a directory"
expect_exit 73 "$BIN" lab sweep --json /sys/sweep.json;         says "/sys/sweep.json: cannot create: Permission denied"
grep -q '^sweep of' "$out/stdout" && fail "the sweep ran before its output was checked"
# --out-dir with an explicit --json: the explicit file wins, the rest go to the dir.
expect_exit 0 "$BIN" lab no-accept --duration 1 --quiet --out-dir "$out/od" --json "$out/explicit.json"
[[ -s $out/explicit.json && -s $out/od/no-accept.pcap && -s $out/od/no-accept.html && ! -e $out/od/no-accept.json ]] ||
  fail "--out-dir with --json: $(ls "$out" "$out/od")"
# A write that fails after the run: 74 with the errno's words.
if [[ -w /dev/full ]]; then
  expect_exit 74 "$BIN" lab --clients 1 --duration 1 --quiet --json /dev/full
  says "/dev/full: write error: No space left on device"
fi
echo "outputs: 73 before the run, with the errno text, nothing left behind; 74 on a failed write"

# --- 6. --version, help with defaults, sysctl like sysctl(8) ----------------
expect_exit 0 "$BIN" --version
grep -qx 'synq 0.1.0' "$out/stdout" || fail "--version: $(cat "$out/stdout")"
expect_exit 0 "$BIN" --help;               grep -q 'Exit codes: 0 ok, 1 a run or check failed, 64 usage' "$out/stdout" || fail "--help footer"
expect_exit 0 "$BIN" lab sweep --help
grep -q -- '--vary TEXT=backlog=1..64 ' "$out/stdout" || fail "sweep --help lacks --vary's default"
grep -q -- '--target FLOAT=0.01 ' "$out/stdout" || fail "sweep --help lacks --target's default"
expect_exit 0 "$BIN" lab --help
grep -q -- '--backlog INT .*a custom run: 128' "$out/stdout" || fail "lab --help lacks --backlog's default"
expect_exit 0 "$BIN" script --help
grep -q -- '--jobs INT:.*=8$' "$out/stdout" || fail "script --help lacks --jobs's default: $(grep jobs "$out/stdout")"

expect_exit 0 "$BIN" sysctl net.ipv4.tcp_syncookies net/core/somaxconn
[[ $(cat "$out/stdout") == $'net.ipv4.tcp_syncookies = 1\nnet/core/somaxconn = 4096' ]] ||
  fail "sysctl NAME...: $(cat "$out/stdout")"
expect_exit 0 "$BIN" sysctl -n net.core.somaxconn
[[ $(cat "$out/stdout") == 4096 ]] || fail "sysctl -n: $(cat "$out/stdout")"
expect_exit 64 "$BIN" sysctl net.core.somaxconn net.ipv4.nosuch
says "unknown name 'net.ipv4.nosuch'"
grep -qx 'net.core.somaxconn = 4096' "$out/stdout" || fail "known names are printed before the error"
expect_exit 64 "$BIN" sysctl net.core.somaxconn=5; says "synq lab --set net.core.somaxconn=5"
expect_exit 0 "$BIN" sysctl -a
cp "$out/stdout" "$out/all.conf"
# Parse it back as sysctl -p does: every line `name = value`; each name
# round-trips through `synq sysctl NAME` to the same line.
n=0
while IFS= read -r line; do
  [[ $line =~ ^([a-z0-9_.]+)\ =\ (.+)$ ]] || fail "not a sysctl.conf line: '$line'"
  [[ $("$BIN" sysctl "${BASH_REMATCH[1]}") == "$line" ]] || fail "round trip of ${BASH_REMATCH[1]}"
  n=$((n + 1))
done <"$out/all.conf"
[[ $n -ge 30 ]] || fail "sysctl -a printed only $n knobs"
# The Linux knobs are the kernel's own names, where this kernel has them.
for k in net.core.somaxconn net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_synack_retries; do
  grep -q "^$k = " "$out/all.conf" || fail "sysctl -a lacks $k"
  [[ -e /proc/sys/${k//.//} ]] || fail "$k is not a Linux sysctl (/proc/sys/${k//.//})"
done
if command -v sysctl >/dev/null; then
  grep '^net\.' "$out/all.conf" | while IFS= read -r line; do
    name=${line%% =*}
    [[ -e /proc/sys/${name//.//} ]] || continue  # newer than this kernel
    sysctl -n "$name" >/dev/null || fail "sysctl(8) does not know $name"
  done
fi
echo "--version, help defaults, sysctl NAME/-a/-n"

# --- 7. synq script: 66 unreadable, 65 bad/empty, 1 FAIL --------------------
mkdir "$out/scripts"
expect_exit 66 "$BIN" script "$out/scripts";            says "$out/scripts: the script is a directory"
! grep -q PASS "$out/stdout" || fail "a directory PASSed"
expect_exit 66 "$BIN" script "$out/none.pkt";           says "cannot open the script: No such file or directory"
: >"$out/empty.pkt"
expect_exit 65 "$BIN" script "$out/empty.pkt";          says "$out/empty.pkt: the script is empty"
! grep -q PASS "$out/stdout" || fail "an empty script PASSed"
printf '// only a comment\n--tolerance_usecs=1000\n' >"$out/comment.pkt"
expect_exit 65 "$BIN" script "$out/comment.pkt";        says "the script has no events"
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 frobnicate\n' >"$out/bad.pkt"
expect_exit 65 "$BIN" script "$out/bad.pkt";            says "$out/bad.pkt:2:"
good=${SYNQ_SOURCE:-.}/tests/scripts/linux/accept-full-syn.pkt
expect_exit 66 "$BIN" script "$good" "$out/none.pkt";   ! grep -q PASS "$out/stdout" || fail "ran scripts before checking all files"
expect_exit 0 "$BIN" script "$good";                    grep -q "^PASS " "$out/stdout" || fail "good script: $(cat "$out/stdout")"
sed 's/ack 1 <mss 1460>$/ack 2 <mss 1460>/' "$good" >"$out/wrong.pkt"
expect_exit 1 "$BIN" script "$out/wrong.pkt";           grep -q "^FAIL " "$out/stdout" || fail "wrong script did not FAIL"
expect_exit 64 "$BIN" script --model solaris "$good";   says "solaris"
expect_exit 64 "$BIN" script --target linux --model bsd44 "$good"; says "cannot play the 'bsd44' model"
expect_exit 0 "$BIN" script -o tolerance_usecs=20000 "$good"  # -o takes one value, not the file too
echo "synq script: 66, 65, 1 and 0 as documented"
