/* The key and value of the per-listener evidence map, shared by the BPF
 * program (listen_evidence.bpf.c) and its loader (doctor/evidence_probe.cpp).
 * C-compatible, fixed-width, no implicit padding: the BPF side hashes the key
 * bytes, so every byte of it must be written. */
#ifndef SYNQ_DOCTOR_BPF_LISTEN_EVIDENCE_H
#define SYNQ_DOCTOR_BPF_LISTEN_EVIDENCE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Entries in the listener map (LRU: a host with more listeners than this
 * forgets the least recently active ones first). */
#define LISTEN_EVIDENCE_MAX_LISTENERS 16384

/* Identity of one listening socket. The socket cookie is set when inet_diag
 * first dumps the socket (sock_gen_cookie via inet_diag_msg_common_fill), so
 * a listener doctor has not dumped yet has cookie 0; user space then matches
 * it by (netns, family, addr, port). */
struct listen_evidence_key {
  __u64 cookie;     /* sk->__sk_common.skc_cookie, 0 if not generated yet */
  __u32 netns_inum; /* sock_net(sk)->ns.inum */
  __u16 family;     /* AF_INET or AF_INET6 */
  __u16 port;       /* skc_num: local port, host order */
  __u8 addr[16];    /* skc_rcv_saddr (first 4 bytes) or skc_v6_rcv_saddr */
};

/* Counters of one listener on one CPU (the map is per-CPU: user space sums
 * the counts and takes the maximum of the high-water marks). */
struct listen_evidence_value {
  __u64 syns;                   /* SYNs that reached the listener (cgroup ingress) */
  __u64 syn_drops_accept_queue; /* of those, dropped by tcp_conn_request's accept-queue check */
  __u64 syn_drops_syn_queue;    /* dropped: SYN queue full with cookies off */
  __u64 syn_drops_other;        /* dropped: tcp_max_syn_backlog's last quarter, cookies off */
  __u64 ack_overflows;          /* kfree_skb reason TCP_LISTEN_OVERFLOW */
  __u64 rst_on_overflow;        /* of those, answered by a RST (tcp_abort_on_overflow) */
  __u64 synack_retransmits;     /* tcp:tcp_retransmit_synack */
  __u64 cookies_sent;           /* SYNs answered with a cookie */
  __u64 cookies_validated;      /* cookie ACKs that completed or overflowed */
  __u64 completions;            /* sock:sk_data_ready on the listener: a child to accept */
  __u64 accepts;                /* accept()/accept4() returning a connection */
  __u32 accept_queue_max;       /* max sk_ack_backlog seen (after an added child) */
  __u32 syn_queue_max;          /* max icsk_accept_queue.qlen seen */
  __u32 backlog;                /* sk_max_ack_backlog at the last event */
  __u32 pad;
};

#endif
