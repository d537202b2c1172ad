#!/usr/bin/env bash
# Measures the host kernel's active-open SYN schedule in a private netns.
# usage: sudo tools/probe_syn_schedule.sh TAG [sysctl=value ...]   (takes up to ~135 s)
# usage: synprobe2.sh TAG SYSCTL_ARGS...
set -e
tag=$1; shift
ns=synq-probe-$tag; ns2=synq-probe2-$tag
trap 'ip netns del $ns 2>/dev/null; ip netns del $ns2 2>/dev/null; true' EXIT
ip netns add $ns; ip netns add $ns2
ip -n $ns link set lo up
ip -n $ns link add v0 type veth peer name v1 netns $ns2
ip -n $ns link set v0 up; ip -n $ns2 link set v1 up
ip -n $ns addr add 10.99.0.1/24 dev v0
ip -n $ns neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent
for kv in "$@"; do ip netns exec $ns sysctl -q -w "$kv"; done
ip netns exec $ns2 tshark -q -i v1 -w /tmp/synprobe-$tag.pcap -f tcp >/dev/null 2>&1 &
sleep 2
ip netns exec $ns python3 -c '
import socket,time,errno
s=socket.socket(); t=time.monotonic()
try:
    s.connect(("10.99.0.2",80))
except OSError as e:
    print("errno",errno.errorcode[e.errno],"after %.2f s"%(time.monotonic()-t))
'
sleep 1; kill %1 || true; sleep 1
tshark -r /tmp/synprobe-$tag.pcap -t r -T fields -e frame.time_relative 2>/dev/null | tr '\n' ' '; echo
