// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/* Per-listener evidence of the kernel's passive-open path, for `synq doctor`.
 *
 * CO-RE against the running kernel's BTF (vmlinux.h is generated at build
 * time). Hooks that exist without CONFIG_KPROBES and without BPF trampolines
 * (fentry/fexit/tp_btf/lsm are refused on kernels like the 6.18 this was
 * measured on): tracepoints, raw tracepoints and one cgroup_skb ingress
 * program on the cgroup v2 root.
 *
 *  - The ingress program runs in tcp_filter() → sk_filter_trim_cap() with the
 *    listener as skb->sk, for every segment that reaches a listener (SYNs;
 *    third ACKs of request sockets, whose listener net/ipv4/tcp_ipv4.c,
 *    tcp_v4_rcv passes to tcp_filter; cookie ACKs), just before the kernel's
 *    own checks run, so it sees the queues those checks will see.
 *  - skb:kfree_skb with SKB_DROP_REASON_TCP_LISTEN_OVERFLOW is the kernel's
 *    own word for an ACK-time overflow; tcp:tcp_send_reset for the same skb
 *    before it is an abort_on_overflow RST.
 *  - sock:sk_data_ready on a listener is a child ready to accept
 *    (net/ipv4/tcp_minisocks.c, tcp_child_process wakes the parent once the
 *    child left SYN-RECV).
 *  - tcp:tcp_retransmit_synack names the listener (tcp_output.c, tcp_rtx_synack).
 *  - syscalls accept/accept4: the listener's fd at entry, success at exit.
 *
 * Dual-licensed: bpf_probe_read_kernel is a GPL-only helper, so the kernel
 * must see a GPL-compatible licence ("Dual MIT/GPL" is one, per
 * include/linux/license.h, license_is_gpl_compatible). */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "listen_evidence.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Macros vmlinux.h cannot carry. */
#define SYNQ_AF_INET 2
#define SYNQ_AF_INET6 10
#define SYNQ_ETH_P_IP 0x0800
#define SYNQ_ETH_P_IPV6 0x86DD
#define SYNQ_IPPROTO_TCP 6
#define SYNQ_TCP_LISTEN 10
#define SYNQ_TH_SYN 0x02
#define SYNQ_TH_RST 0x04
#define SYNQ_TH_ACK 0x10

/* include/net/dropreason-core.h, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW, read
 * from this kernel's BTF so a renumbered enum still matches. */
#define OVERFLOW_REASON \
  bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW)

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, LISTEN_EVIDENCE_MAX_LISTENERS);
  __type(key, struct listen_evidence_key);
  __type(value, struct listen_evidence_value);
} listeners SEC(".maps");

/* Per-CPU state between the hooks that one segment passes. Receive
 * processing of one segment runs on one CPU with bottom halves disabled
 * (softirq, or process context inside local_bh_disable()), so what the
 * ingress program saw for an ACK is still this CPU's latest when the kernel
 * resets or frees that ACK. */
struct cpu_state {
  /* The listener of the last ACK (no SYN) seen at ingress on this CPU, and
   * the listener's SYN queue then (see child_ready). */
  struct listen_evidence_key ack_key;
  __u64 ack_skb; /* that ACK's struct sk_buff (the ingress program's context) */
  __u32 ack_valid;
  __u32 ack_syn_queue;
  __u32 ack_accept_full; /* the accept queue was full when it arrived */
  __u32 pad;
  /* The last RST the kernel sent on behalf of a listener on this CPU, and
   * the segment it answered (tcp:tcp_send_reset). */
  __u64 reset_skb;
  /* The last SYN seen at ingress, until the kernel frees it: what
   * tcp_conn_request's checks will decide (enum syn_fate). A SYN that matches
   * an existing request socket never reaches tcp_conn_request: tcp_check_req
   * answers it by retransmitting the SYN-ACK (tcp_minisocks.c), so a
   * tcp_retransmit_synack meanwhile cancels it. */
  struct listen_evidence_key syn_key;
  __u64 syn_skb;
  __u32 syn_fate;
  __u32 pad2;
};

enum syn_fate {
  SYN_NONE = 0,
  SYN_ANSWERED,
  SYN_COOKIE,
  SYN_DROP_SYN_QUEUE,
  SYN_DROP_ACCEPT_QUEUE,
  SYN_DROP_OTHER,
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cpu_state);
} cpu_states SEC(".maps");

/* accept()/accept4() in progress: the listener fd, by thread. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __u32);
} accepting SEC(".maps");

static __always_inline struct cpu_state* this_cpu(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&cpu_states, &zero);
}

static __always_inline void key_of(const struct sock* sk, struct listen_evidence_key* k) {
  __builtin_memset(k, 0, sizeof(*k));
  /* Set by sock_gen_cookie() (net/core/sock_diag.c) when inet_diag dumps the
   * socket or bpf_get_socket_cookie() asks; 0 before that. */
  k->cookie = (__u64)BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
  k->netns_inum = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  k->port = BPF_CORE_READ(sk, __sk_common.skc_num);
  if (k->family == SYNQ_AF_INET) {
    __u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __builtin_memcpy(k->addr, &a, sizeof(a));
  } else {
    BPF_CORE_READ_INTO(&k->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
  }
}

static __always_inline struct listen_evidence_value* entry_of(const struct listen_evidence_key* k) {
  struct listen_evidence_value* v = bpf_map_lookup_elem(&listeners, k);
  if (v) return v;
  struct listen_evidence_value zero = {};
  bpf_map_update_elem(&listeners, k, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&listeners, k);
}

/* The accept queue now (include/net/sock.h, sk_acceptq_is_full compares it
 * with sk_max_ack_backlog). */
static __always_inline __u32 accept_queue_len(const struct sock* sk) {
  return BPF_CORE_READ(sk, sk_ack_backlog);
}
static __always_inline __u32 backlog_of(const struct sock* sk) {
  return BPF_CORE_READ(sk, sk_max_ack_backlog);
}
/* The SYN queue: the listener's request sockets
 * (include/net/inet_connection_sock.h, inet_csk_reqsk_queue_len). */
static __always_inline __u32 syn_queue_len(const struct sock* sk) {
  const struct inet_connection_sock* icsk = (const void*)sk;
  return (__u32)BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
}

/* High-water marks at event time. */
static __always_inline void note_queues(struct listen_evidence_value* v, const struct sock* sk) {
  __u32 aq = accept_queue_len(sk);
  __u32 sq = syn_queue_len(sk);
  if (aq > v->accept_queue_max) v->accept_queue_max = aq;
  if (sq > v->syn_queue_max) v->syn_queue_max = sq;
  v->backlog = backlog_of(sk);
}

static __always_inline struct listen_evidence_value* listener_event(const struct sock* sk,
                                                                    struct listen_evidence_key* k) {
  key_of(sk, k);
  struct listen_evidence_value* v = entry_of(k);
  if (v) note_queues(v, sk);
  return v;
}

static __always_inline int is_tcp_listener(const struct sock* sk) {
  return sk && BPF_CORE_READ(sk, __sk_common.skc_state) == SYNQ_TCP_LISTEN &&
         BPF_CORE_READ(sk, sk_protocol) == SYNQ_IPPROTO_TCP;
}

/* The TCP flags byte of the segment at ingress; skb data starts at the
 * network header there (kernel/bpf/cgroup.c, __cgroup_bpf_run_filter_skb). */
static __always_inline int tcp_flags_of(struct __sk_buff* skb, __u8* flags) {
  __u32 l4 = 0;
  if (skb->protocol == bpf_htons(SYNQ_ETH_P_IP)) {
    __u8 vihl;
    if (bpf_skb_load_bytes(skb, 0, &vihl, 1)) return -1;
    l4 = (vihl & 0x0f) * 4;
  } else if (skb->protocol == bpf_htons(SYNQ_ETH_P_IPV6)) {
    __u8 next;
    if (bpf_skb_load_bytes(skb, 6, &next, 1) || next != SYNQ_IPPROTO_TCP) return -1;
    l4 = 40; /* tcp_v6_rcv gets here with no extension header left in front of TCP */
  } else {
    return -1;
  }
  return bpf_skb_load_bytes(skb, l4 + 13, flags, 1);
}

/* SYN time. The kernel's checks in net/ipv4/tcp_input.c, tcp_conn_request,
 * in their order, on the same inputs, just before it runs them:
 *   syncookies == 2 or inet_csk_reqsk_queue_is_full (qlen > backlog):
 *       with cookies off (tcp_syn_flood_action) the SYN is dropped;
 *       otherwise it will be answered with a cookie;
 *   sk_acceptq_is_full (accept queue > backlog): dropped, ListenOverflows;
 *   without a cookie and with cookies off, the last quarter of
 *   tcp_max_syn_backlog is kept for proven peers: dropped (counted "other").
 * Evaluated at ingress, counted when the kernel frees the SYN. */
static __always_inline __u32 syn_fate_of(const struct sock* sk) {
  __u32 backlog = backlog_of(sk);
  __u32 qlen = syn_queue_len(sk);
  const struct net* net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
  __u8 cookies = BPF_CORE_READ(net, ipv4.sysctl_tcp_syncookies);
  int want_cookie = 0;
  if (cookies == 2 || qlen > backlog) {
    if (!cookies) return SYN_DROP_SYN_QUEUE;
    want_cookie = 1;
  }
  if (accept_queue_len(sk) > backlog) return SYN_DROP_ACCEPT_QUEUE;
  if (want_cookie) return SYN_COOKIE;
  if (!cookies) {
    __s32 max_syn = BPF_CORE_READ(net, ipv4.sysctl_max_syn_backlog);
    if (max_syn - (__s32)qlen < (max_syn >> 2)) return SYN_DROP_OTHER;
  }
  return SYN_ANSWERED;
}

/* Counts the pending SYN once the kernel let go of it; `dropped`: it was
 * freed as a drop (kfree_skb) although the checks would have answered it. */
static __always_inline void syn_done(struct cpu_state* st, int dropped) {
  if (st->syn_fate == SYN_NONE) return;
  struct listen_evidence_value* v = entry_of(&st->syn_key);
  if (v) {
    v->syns++;
    switch (st->syn_fate) {
      case SYN_COOKIE:
        if (dropped)
          v->syn_drops_other++;
        else
          v->cookies_sent++;
        break;
      case SYN_DROP_SYN_QUEUE:
        v->syn_drops_syn_queue++;
        break;
      case SYN_DROP_ACCEPT_QUEUE:
        v->syn_drops_accept_queue++;
        break;
      case SYN_DROP_OTHER:
        v->syn_drops_other++;
        break;
      default:
        if (dropped) v->syn_drops_other++;
    }
  }
  st->syn_fate = SYN_NONE;
  st->syn_skb = 0;
}

SEC("cgroup_skb/ingress")
int listener_ingress(struct __sk_buff* skb) {
  struct bpf_sock* bsk = skb->sk;
  if (!bsk) return 1;
  bsk = bpf_sk_fullsock(bsk); /* a listener is a full socket */
  if (!bsk || bsk->state != BPF_TCP_LISTEN || bsk->protocol != SYNQ_IPPROTO_TCP) return 1;
  __u8 flags = 0;
  if (tcp_flags_of(skb, &flags)) return 1;
  if (flags & SYNQ_TH_RST) return 1;
  /* Generates the listener's cookie if nobody did yet, as inet_diag would. */
  bpf_get_socket_cookie(skb);
  /* The listener as a kernel pointer (BTF), so the queue fields that
   * struct bpf_sock does not carry can be read. */
  const struct sock* sk = (const struct sock*)bpf_skc_to_tcp_sock(bsk);
  if (!sk) return 1;
  struct listen_evidence_key k;
  struct listen_evidence_value* v = listener_event(sk, &k);
  if (!v) return 1;
  if ((flags & SYNQ_TH_SYN) && !(flags & SYNQ_TH_ACK)) {
    struct cpu_state* st = this_cpu();
    if (st) {
      syn_done(st, 0); /* never seen freed: count it as decided */
      st->syn_key = k;
      st->syn_skb = (__u64)(unsigned long)skb;
      st->syn_fate = syn_fate_of(sk);
    }
  } else if ((flags & SYNQ_TH_ACK) && !(flags & SYNQ_TH_SYN)) {
    struct cpu_state* st = this_cpu();
    if (st) {
      st->ack_key = k;
      st->ack_valid = 1;
      st->ack_syn_queue = syn_queue_len(sk);
      st->ack_accept_full = accept_queue_len(sk) > backlog_of(sk);
      /* A cgroup_skb program's context is the struct sk_buff itself. */
      st->ack_skb = (__u64)(unsigned long)skb;
    }
  }
  return 1;
}

static __always_inline int same_listener(const struct listen_evidence_key* a,
                                         const struct listen_evidence_key* b) {
  return a->cookie == b->cookie && a->netns_inum == b->netns_inum && a->port == b->port &&
         a->family == b->family;
}

/* A child is ready to accept: tcp_child_process (tcp_minisocks.c) wakes the
 * listener once the child left SYN-RECV; the child is already counted in
 * sk_ack_backlog (inet_connection_sock.c, inet_csk_reqsk_queue_add). */
SEC("raw_tp/sk_data_ready")
int BPF_PROG(child_ready, const struct sock* sk) {
  if (!is_tcp_listener(sk)) return 0;
  struct listen_evidence_key k;
  struct listen_evidence_value* v = listener_event(sk, &k);
  if (!v) return 0;
  v->completions++;
  struct cpu_state* st = this_cpu();
  if (st && st->ack_valid && same_listener(&st->ack_key, &k)) {
    /* A request socket's handshake takes the request out of the SYN queue
     * before the child is queued (inet_connection_sock.c,
     * inet_csk_complete_hashdance → inet_csk_reqsk_queue_drop); a cookie's
     * never had one there (syncookies.c, tcp_get_cookie_sock). A SYN queue
     * that did not shrink since the ACK arrived means a cookie (another
     * CPU's SYNs or timers meanwhile can blur this). */
    if (syn_queue_len(sk) >= st->ack_syn_queue) v->cookies_validated++;
    st->ack_valid = 0;
  }
  return 0;
}

/* trace_tcp_retransmit_synack(sk, req) with sk the listener
 * (net/ipv4/tcp_output.c, tcp_rtx_synack). */
SEC("raw_tp/tcp_retransmit_synack")
int BPF_PROG(synack_retransmit, const struct sock* sk) {
  struct listen_evidence_key k;
  struct listen_evidence_value* v = listener_event(sk, &k);
  if (v) v->synack_retransmits++;
  struct cpu_state* st = this_cpu();
  if (st && st->syn_fate != SYN_NONE && same_listener(&st->syn_key, &k)) {
    st->syn_fate = SYN_NONE; /* a duplicate of a SYN that has a request socket */
    st->syn_skb = 0;
  }
  return 0;
}

/* With tcp_abort_on_overflow=1, tcp_check_req (tcp_minisocks.c) answers the
 * overflowing ACK with req->rsk_ops->send_reset(listener, skb, ...), which
 * traces tcp_send_reset (tcp_ipv4.c, tcp_v4_send_reset) before the ACK is
 * freed. */
SEC("raw_tp/tcp_send_reset")
int BPF_PROG(reset_sent, const struct sock* sk, const struct sk_buff* skb) {
  struct cpu_state* st = this_cpu();
  if (!st) return 0;
  st->reset_skb = is_tcp_listener(sk) ? (__u64)(unsigned long)skb : 0;
  return 0;
}

/* ACK-time overflows, as the kernel frees the ACK:
 *  - a request socket's third ACK: SKB_DROP_REASON_TCP_LISTEN_OVERFLOW, set
 *    by tcp_check_req when syn_recv_sock found the accept queue full, with
 *    the listener as rx_sk (tcp_minisocks.c, tcp_check_req; tcp_ipv4.c,
 *    tcp_v4_rcv);
 *  - a cookie ACK: syn_recv_sock fails the same way from tcp_get_cookie_sock
 *    (syncookies.c) and counts ListenOverflows, but the ACK is freed with
 *    another reason (NO_SOCKET, measured on 6.18): counted when the freed skb
 *    is the ACK the ingress program saw reach a listener whose accept queue
 *    was full, unless the listener answered it with a RST (a cookie that did
 *    not check out: tcp_rcv_state_process resets an ACK to a listener). Its
 *    cookie was valid, so it counts as validated too (SyncookiesRecv). */
SEC("raw_tp/kfree_skb")
int BPF_PROG(skb_dropped, struct sk_buff* skb, void* location, int reason, struct sock* rx_sk) {
  struct cpu_state* st = this_cpu();
  if (!st) return 0;
  if (st->syn_fate != SYN_NONE && st->syn_skb == (__u64)(unsigned long)skb) {
    syn_done(st, 1);
    return 0;
  }
  const int listen_overflow = reason == (int)OVERFLOW_REASON;
  const int reset = st->reset_skb == (__u64)(unsigned long)skb;
  const int seen_full =
      st->ack_valid && st->ack_skb == (__u64)(unsigned long)skb && st->ack_accept_full;
  const int cookie_overflow = !listen_overflow && seen_full && !reset;
  if (!listen_overflow && !cookie_overflow) return 0;
  struct listen_evidence_key k;
  struct listen_evidence_value* v = 0;
  if (is_tcp_listener(rx_sk)) {
    v = listener_event(rx_sk, &k);
  } else if (cookie_overflow) {
    k = st->ack_key; /* no rx_sk: the listener the ingress program saw this ACK reach */
    v = entry_of(&k);
  }
  if (v) {
    v->ack_overflows++;
    if (listen_overflow && reset) v->rst_on_overflow++;
    if (cookie_overflow) v->cookies_validated++;
  }
  st->reset_skb = 0;
  st->ack_valid = 0;
  return 0;
}

/* The SYN's usual end: tcp_rcv_state_process consumes a SYN once
 * conn_request returned, answered or dropped alike (tcp_input.c). */
SEC("raw_tp/consume_skb")
int BPF_PROG(skb_consumed, struct sk_buff* skb) {
  struct cpu_state* st = this_cpu();
  if (st && st->syn_fate != SYN_NONE && st->syn_skb == (__u64)(unsigned long)skb) syn_done(st, 0);
  return 0;
}

/* accept()/accept4(): the listener by its fd at entry, counted when the
 * call returns a connection. */
static __always_inline int accept_enter(long fd) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 f = (__u32)fd;
  bpf_map_update_elem(&accepting, &id, &f, BPF_ANY);
  return 0;
}

static __always_inline const struct sock* socket_of_fd(__u32 fd) {
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) return 0;
  struct file** fds = BPF_CORE_READ(fdt, fd);
  struct file* file = 0;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) return 0;
  struct socket* sock = BPF_CORE_READ(file, private_data);
  /* private_data is a struct socket only for socket files. */
  if (!sock || BPF_CORE_READ(sock, file) != file) return 0;
  return BPF_CORE_READ(sock, sk);
}

static __always_inline int accept_exit(long ret) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32* fd = bpf_map_lookup_elem(&accepting, &id);
  if (!fd) return 0;
  __u32 listen_fd = *fd;
  bpf_map_delete_elem(&accepting, &id);
  if (ret < 0) return 0;
  const struct sock* sk = socket_of_fd(listen_fd);
  if (!is_tcp_listener(sk)) return 0;
  struct listen_evidence_key k;
  struct listen_evidence_value* v = listener_event(sk, &k);
  if (v) v->accepts++;
  return 0;
}

SEC("tp/syscalls/sys_enter_accept4")
int accept4_enter(struct trace_event_raw_sys_enter* ctx) {
  return accept_enter(ctx->args[0]);
}
SEC("tp/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit* ctx) {
  return accept_exit(ctx->ret);
}
SEC("tp/syscalls/sys_enter_accept")
int accept_enter_plain(struct trace_event_raw_sys_enter* ctx) {
  return accept_enter(ctx->args[0]);
}
SEC("tp/syscalls/sys_exit_accept")
int accept_exit_plain(struct trace_event_raw_sys_exit* ctx) {
  return accept_exit(ctx->ret);
}
