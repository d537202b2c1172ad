// Segment arrival: RFC 9293 §3.10.7 with RFC 5961 and RFC 7323, in the order
// Linux applies the checks (tcp_rcv_synsent_state_process,
// tcp_validate_incoming, tcp_ack, tcp_data_queue, tcp_timewait_state_process).
//
// Every early return that drops a segment either counts what Linux counts at
// that spot or says that Linux counts nothing there (it only names an
// SKB_DROP_REASON_*, visible to tracing, not to nstat).
//
// ------------------------------------------------------------ state transitions
// Every change of state, what causes it and the function that makes it (all
// go through set_state; "finish" is Linux's tcp_done: error, then CLOSED;
// queue_fin serves close() and shutdown_write()).
//
//   from          event                               to            where
//   CLOSED        connect()                           SYN-SENT      Connection::connect
//   CLOSED        listener child (request, cookie)    ESTABLISHED   Connection::init_passive
//   SYN-SENT      SYN,ACK acknowledging our SYN       ESTABLISHED   on_syn_sent
//   SYN-SENT      SYN without ACK (simultaneous)      SYN-RECEIVED  on_syn_sent
//   SYN-SENT      RST with an acceptable ACK          CLOSED        on_syn_sent (finish)
//   SYN-SENT      close() / shutdown(SHUT_WR)         CLOSED        close, shutdown_write
//   SYN-SENT      SYN retries used up                 CLOSED        on_syn_timer (finish)
//   SYN-RECEIVED  acceptable ACK                      ESTABLISHED   on_synchronized
//   SYN-RECEIVED  acceptable ACK, FIN queued          FIN-WAIT-1    on_synchronized
//   SYN-RECEIVED  SYN-ACK retries used up             CLOSED        on_syn_timer (finish)
//   ESTABLISHED   close() / shutdown(SHUT_WR)         FIN-WAIT-1    queue_fin
//   ESTABLISHED   FIN                                 CLOSE-WAIT    take_fin
//   FIN-WAIT-1    ACK of our FIN                      FIN-WAIT-2    process_ack
//   FIN-WAIT-1    FIN, our FIN not acknowledged       CLOSING       take_fin
//   FIN-WAIT-1    FIN,ACK acknowledging our FIN       TIME-WAIT     process_ack, take_fin
//   FIN-WAIT-2    FIN                                 TIME-WAIT     take_fin
//   FIN-WAIT-2    orphan's tcp_fin_timeout            CLOSED        on_close_timer
//   CLOSE-WAIT    close() / shutdown(SHUT_WR)         LAST-ACK      queue_fin
//   CLOSING       ACK of our FIN                      TIME-WAIT     process_ack
//   LAST-ACK      ACK of our FIN                      CLOSED        process_ack
//   TIME-WAIT     2MSL timer                          CLOSED        on_close_timer
//   TIME-WAIT     RST at RCV.NXT                      CLOSED        on_time_wait
//   TIME-WAIT     new SYN, a listener exists          (freed)       StackImpl::tcp_input
//   (entering)    TIME-WAIT, tcp_max_tw_buckets full  CLOSED        enter_time_wait
//   synchronized  RST at RCV.NXT                      CLOSED        on_reset (finish)
//   FIN-WAIT-1/2  new data after close()/SHUT_RD      CLOSED        process_text (finish)
//   synchronized  data / persist retries used up      CLOSED        on_rtx/persist_timer
//   synchronized  close() unread data or linger 0     CLOSED        close (RST)
//   (any)         abort()                             CLOSED        Connection::abort
//
// Ordering: on_synchronized runs RFC 9293's fifth step (ACK, process_ack)
// before the eighth (FIN, take_fin), as the RFC and Linux's
// tcp_rcv_state_process do. So a FIN,ACK that also acknowledges our FIN moves
// FIN-WAIT-1 → FIN-WAIT-2 in process_ack, and take_fin then finds FIN-WAIT-2
// and enters TIME-WAIT. take_fin does not rely on that: in FIN-WAIT-1 it looks
// at fin_acked() itself and takes FIN-WAIT-2's path when our FIN is acknowledged.
#include <algorithm>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

using namespace wire::tcp_flags;

void Connection::Impl::on_segment(const wire::TcpSegment& seg) {
  switch (state) {
    case TcpState::closed:
    case TcpState::listen:
      // RFC 9293 §3.10.7.1: the stack answers for CLOSED (a closed connection
      // leaves the demux table); listeners live elsewhere. Not counted: Linux's
      // tcp_rcv_state_process drops with SKB_DROP_REASON_TCP_CLOSE, no counter.
      return;
    case TcpState::syn_sent:
      return on_syn_sent(seg);
    case TcpState::time_wait:
      return on_time_wait(seg);
    default:
      return on_synchronized(seg);
  }
}

void Connection::Impl::negotiate_from_syn(const wire::TcpOptions& o) {
  peer_mss = o.has_mss && o.mss ? o.mss : kDefaultPeerMss;
  // RFC 7323 §2.2: scaling only when both SYNs carried WS; shift ≤ 14 (§2.3).
  ws_ok = offered_ws && o.has_wscale;
  snd_wscale = ws_ok ? std::min(o.wscale, kMaxWscale) : 0;
  rcv_wscale = ws_ok ? our_wscale(sys()) : 0;
  sack_ok = offered_sack && o.sack_permitted;  // RFC 2018 §2
  ts_ok = offered_ts && o.has_timestamps;      // RFC 7323 §3.2
  if (ts_ok) {
    ts_recent = o.ts_val;
    ts_recent_stamp = now;
    ts_recent_valid = true;
  }
  recompute_mss();
}

// ------------------------------------------------------------ SYN-SENT (§3.10.7.3)

void Connection::Impl::on_syn_sent(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  const bool ack = h.has(ACK);
  if (ack) {
    // first: an ACK outside (ISS, SND.NXT] is unacceptable → <SEQ=SEG.ACK><CTL=RST>
    // (a RST is just dropped; Linux: SKB_DROP_REASON_TCP_INVALID_ACK_SEQUENCE, no counter).
    if (seq_le(h.ack, iss) || seq_gt(h.ack, snd_max)) {
      send_reset_reply(seg);
      return;
    }
    // Linux: a TSecr that echoes nothing we sent since the first SYN is
    // rejected the same way (LINUX_MIB_PAWSACTIVEREJECTED).
    if (offered_ts && h.options.has_timestamps && h.options.ts_ecr != 0) {
      const uint32_t nowts = ts_clock(now, ts_offset);
      if (seq_lt(h.options.ts_ecr, syn_tsval) || seq_gt(h.options.ts_ecr, nowts)) {
        count(Counter::TcpExt_PAWSActive);
        send_reset_reply(seg);
        return;
      }
    }
  }
  if (h.has(RST)) {
    // second: RST with an acceptable ACK → "connection refused"; without ACK →
    // drop (RFC 9293 §3.10.7.3; Linux: SKB_DROP_REASON_TCP_RESET, no counter).
    if (ack) finish(Errno::econnrefused);
    return;
  }
  // fifth: neither SYN nor RST → drop (Linux: SKB_DROP_REASON_TCP_FLAGS, no counter).
  if (!h.has(SYN)) return;

  // fourth: SYN.
  irs = h.seq;
  rcv_nxt = h.seq + 1;
  negotiate_from_syn(h.options);
  snd_wnd = h.window;  // RFC 7323 §2.2: the window in a SYN is never scaled
  max_window = snd_wnd;
  if (ack) {
    // SYN-ACK: our SYN is acknowledged → ESTABLISHED. Karn: the SYN is timed
    // only if it was never retransmitted; a TSecr times it in any case.
    our_syn_acked(h, syn_time, HandshakeRtt::tsecr_or_timer);
    establish_common();
    set_state(TcpState::established);
    if (!seg.payload.empty() || h.has(FIN)) process_text(seg);
    if (state == TcpState::closed) return;
    send_ack();  // Linux tcp_rcv_synsent_state_process: immediate ACK
    output();
    return;
  }
  // SYN without ACK: simultaneous open → SYN-RECEIVED, SYN-ACK with the same ISS.
  snd_wl1 = h.seq;
  snd_wl2 = snd_una;
  establish_common();
  set_state(TcpState::syn_received);
  send_synack();
}

void Connection::Impl::our_syn_acked(const wire::TcpHeader& h, Time timed_from, HandshakeRtt rtt) {
  // RFC 9293 §3.10.7.3 / §3.10.7.4 fifth: SND.UNA = SEG.ACK, and window
  // updates are measured from this segment (SND.WL1 = SEG.SEQ, SND.WL2 = SEG.ACK).
  snd_una = h.ack;
  snd_wl1 = h.seq;
  snd_wl2 = h.ack;
  // RFC 6298 §3 / RFC 7323 §4: the handshake's RTT sample.
  if (rtt == HandshakeRtt::tsecr_or_timer && ts_ok && h.options.ts_ecr != 0) {
    rtt_sample(std::chrono::milliseconds(
        std::max<int32_t>(1, static_cast<int32_t>(ts_clock(now, ts_offset) - h.options.ts_ecr))));
  } else if (retransmits == 0) {
    rtt_sample(now - timed_from);
  }
  // The SYN / SYN-ACK timer stops and forgets its backoff (RFC 6298 §5.7 starts data afresh).
  t_rtx = kNever;
  backoff = 0;
  retransmits = 0;
}

// ------------------------------------------------------------ synchronized states (§3.10.7.4)

bool Connection::Impl::seq_acceptable(uint32_t seq, uint32_t len) const {
  // Linux tcp_sequence: the segment must end at or after the last ACK we sent
  // and begin no later than the right edge of our window. Equivalent to the
  // RFC's four-case table, but lenient for data we have not ACKed yet.
  const uint32_t wnd = seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
  return !seq_lt(seq + len, rcv_wup) && !seq_gt(seq, rcv_nxt + wnd);
}

bool Connection::Impl::paws_rejects(const wire::TcpHeader& h) const {
  // RFC 7323 §5.3 with Linux's tcp_paws_check (TCP_PAWS_WINDOW = 1) and the
  // 24-day idle exception (§5.5).
  if (!ts_ok || !h.options.has_timestamps || !ts_recent_valid) return false;
  if (static_cast<int32_t>(ts_recent - h.options.ts_val) <= 1) return false;
  if (now - ts_recent_stamp >= kPawsIdle) return false;
  return true;
}

void Connection::Impl::maybe_update_ts_recent(const wire::TcpHeader& h) {
  // RFC 7323 §4.3 (3): TS.Recent = SEG.TSval if SEG.SEQ <= Last.ACK.sent.
  if (!ts_ok || !h.options.has_timestamps) return;
  if (seq_gt(h.seq, rcv_wup)) return;
  if (ts_recent_valid && static_cast<int32_t>(h.options.ts_val - ts_recent) < 0) return;
  ts_recent = h.options.ts_val;
  ts_recent_stamp = now;
  ts_recent_valid = true;
}

void Connection::Impl::on_synchronized(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  const uint32_t len = seg.seg_len();

  // PAWS first (Linux tcp_validate_incoming). A RST is accepted even if it fails PAWS.
  if (paws_rejects(h) && !h.has(RST)) {
    count(Counter::TcpExt_PAWSEstab);  // RFC 7323 §5.3: drop, ACK
    send_dupack(seg, Counter::TcpExt_TCPACKSkippedPAWS);
    return;
  }

  // first: sequence number.
  if (!seq_acceptable(h.seq, len)) {
    if (!h.has(RST)) {
      if (h.has(SYN)) return syn_challenge();  // RFC 5961 §4.2 (Linux: syn_challenge)
      // RFC 9293 §3.10.7.4: unacceptable → ACK (rate limited) and drop.
      send_dupack(seg, Counter::TcpExt_TCPACKSkippedSeq);
    } else if (h.seq == rcv_nxt - 1 &&
               (state == TcpState::close_wait || state == TcpState::last_ack ||
                state == TcpState::closing)) {
      on_reset();  // Linux tcp_reset_check: RST just before our FIN-adjusted rcv_nxt
    }
    // RST out of window: drop, never answered (Linux: SKB_DROP_REASON_TCP_INVALID_SEQUENCE
    // or TCP_OLD_SEQUENCE, no counter).
    return;
  }

  // second: RST (RFC 5961 §3.2): exactly at RCV.NXT resets, else challenge ACK.
  if (h.has(RST)) {
    if (h.seq == rcv_nxt) {
      on_reset();
    } else {
      send_challenge_ack();
    }
    return;
  }

  maybe_update_ts_recent(h);

  // A retransmission of the SYN that created an embryonic SYN-RECEIVED
  // connection: the peer missed our SYN-ACK, so resend it (as Linux's request
  // sockets and FreeBSD's syncache do) rather than a challenge ACK.
  if (state == TcpState::syn_received && h.has(SYN) && !h.has(ACK) && h.seq == irs) {
    send_synack();
    return;
  }

  // fourth: SYN (RFC 5961 §4.2) → challenge ACK. Linux lets through the one
  // legitimate case: the peer's SYN-ACK of a simultaneous open in SYN-RECEIVED.
  if (h.has(SYN)) {
    const bool simultaneous_synack =
        state == TcpState::syn_received && h.has(ACK) && h.seq + 1 == rcv_nxt && h.ack == snd_nxt;
    if (!simultaneous_synack) return syn_challenge();
  }

  // fifth: ACK. RFC 9293 §3.10.7.4: no ACK → drop (Linux tcp_rcv_state_process:
  // SKB_DROP_REASON_TCP_FLAGS, no counter).
  if (!h.has(ACK)) return;
  if (state == TcpState::syn_received) {
    if (!(seq_gt(h.ack, snd_una) && seq_le(h.ack, snd_max))) {
      send_reset_reply(seg);  // §3.10.7.4: unacceptable ACK in SYN-RECEIVED → RST
      return;
    }
    snd_buf_seq = iss + 1;
    snd_wnd = static_cast<uint32_t>(h.window) << snd_wscale;
    max_window = std::max(max_window, snd_wnd);
    // Timed from the last fresh start of the SYN-ACK timer (Karn as above; no TSecr sample).
    our_syn_acked(h, rtx_start, HandshakeRtt::timer_only);
    set_state(TcpState::established);
    if (wr_shut) {  // shutdown/close while SYN-RECEIVED: now send the FIN
      set_state(TcpState::fin_wait_1);
    }
  } else if (!process_ack(seg)) {
    return;
  }
  if (state == TcpState::closed) return;

  // The peer's SYN-ACK of a simultaneous open carries a SYN at an old sequence
  // number: Linux (tcp_data_queue) treats it as a retransmission and ACKs at once.
  if (h.has(SYN) && seg.payload.empty() && !h.has(FIN)) {
    send_ack();
    return;
  }

  // seventh: segment text, eighth: FIN.
  if (!seg.payload.empty() || h.has(FIN)) process_text(seg);
  if (state == TcpState::closed || state == TcpState::time_wait) return;
  output();
}

bool Connection::Impl::process_ack(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  const uint32_t ack = h.ack;
  // RFC 5961 §5.2: an ACK older than what the peer could have seen → challenge ACK.
  if (seq_lt(ack, snd_una - max_window)) {
    send_challenge_ack();
    return false;
  }
  // RFC 9293 §3.10.7.4: an ACK for something not yet sent → ACK, drop.
  if (seq_gt(ack, snd_max)) {
    send_dupack(seg, Counter::TcpExt_TCPACKSkippedSeq);
    return false;
  }
  if (seq_lt(ack, snd_una)) return true;  // old duplicate: ignore the ACK, keep the text

  if (seg.payload.empty() && !h.has(FIN) && !h.has(SYN)) count(Counter::TcpExt_TCPPureAcks);
  const uint32_t new_wnd = static_cast<uint32_t>(h.window) << snd_wscale;
  const bool may_update = seq_lt(snd_wl1, h.seq) || (snd_wl1 == h.seq && seq_le(snd_wl2, ack));
  const bool same_window = new_wnd == snd_wnd;
  if (may_update) {
    const bool opened = snd_wnd == 0 && new_wnd > 0;
    snd_wnd = new_wnd;
    snd_wl1 = h.seq;
    snd_wl2 = ack;
    max_window = std::max(max_window, snd_wnd);
    if (opened) {  // Linux tcp_ack_probe: the window opened, stop probing
      t_persist = kNever;
      probes = 0;
      backoff = 0;
    }
  }

  if (ack == snd_una) {
    // RFC 5681 §2 duplicate ACK: no data, no SYN/FIN, same window, data outstanding.
    const bool dup =
        seg.payload.empty() && !h.has(FIN) && !h.has(SYN) && same_window && snd_max != snd_una;
    if (dup) cc_on_dupack();
    return true;
  }

  on_new_ack(seg);

  if (fin_acked()) {
    switch (state) {
      case TcpState::fin_wait_1:
        set_state(TcpState::fin_wait_2);
        t_rtx = kNever;
        if (app_closed) arm_orphan_fin_wait_2();
        break;
      case TcpState::closing:
        enter_time_wait();
        return false;
      case TcpState::last_ack:
        set_state(TcpState::closed);
        return false;
      default:
        break;
    }
  }
  return true;
}

void Connection::Impl::on_new_ack(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  const uint32_t ack = h.ack;
  const uint32_t acked = ack - snd_una;
  if (seq_gt(ack, snd_buf_seq)) {
    const size_t n = std::min<size_t>(ack - snd_buf_seq, snd_ring.size());
    snd_ring.consume(n);
    snd_buf_seq += static_cast<uint32_t>(n);
  }
  snd_una = ack;
  if (seq_lt(snd_nxt, snd_una)) snd_nxt = snd_una;

  // RTT (RFC 6298 §3 / RFC 7323 §4): TSecr when timestamps are on (valid even
  // for retransmissions), else the one timed segment (Karn).
  if (ts_ok && h.options.has_timestamps && h.options.ts_ecr != 0) {
    const int32_t ms = static_cast<int32_t>(ts_clock(now, ts_offset) - h.options.ts_ecr);
    if (ms >= 0) rtt_sample(std::chrono::milliseconds(std::max(ms, 1)));
  } else if (timing && seq_gt(ack, rtt_seq)) {
    rtt_sample(now - rtt_time);
  }
  if (timing && seq_gt(ack, rtt_seq)) timing = false;
  backoff = 0;
  retransmits = 0;

  cc_on_ack(acked);

  // RFC 6298 §5.2/5.3: stop the timer when all is acked, else restart it.
  if (snd_max == snd_una) {
    t_rtx = kNever;
  } else if (!in_recovery) {
    restart_rtx();
  }
}

// ------------------------------------------------------------ text and FIN

void Connection::Impl::process_text(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  SegmentText t{h.seq + (h.has(SYN) ? 1 : 0), seg.payload, h.has(FIN)};

  switch (state) {
    case TcpState::established:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::syn_received:
      break;
    default:
      // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN; new text is
      // ignored (RFC 9293 §3.10.7.4 seventh; Linux tcp_rcv_state_process
      // discards it, no counter). A retransmission gets an ACK.
      if (seq_lt(t.seq, rcv_nxt) && (!t.data.empty() || t.fin)) send_ack();
      return;
  }

  // Linux: data after close()/SHUT_RD in FIN-WAIT-1/2 → RST (RFC 1122
  // §4.2.2.13), TCPAbortOnData.
  if ((state == TcpState::fin_wait_1 || state == TcpState::fin_wait_2) && rd_shut &&
      !t.data.empty() && seq_gt(t.seq + static_cast<uint32_t>(t.data.size()), rcv_nxt)) {
    count(Counter::TcpExt_TCPAbortOnData);
    send_reset_reply(seg);
    finish(Errno::econnreset);
    return;
  }

  if (!trim_received(t)) return;
  // Unreachable while take_fin leaves these four states, kept as the rule:
  // nothing follows a FIN in sequence space (RFC 9293 §3.10.7.4 eighth).
  if (fin_received) return;
  if (t.seq != rcv_nxt) return queue_out_of_order(t);
  deliver_in_order(t);
}

bool Connection::Impl::trim_received(SegmentText& t) {
  // Cut what we already have (before RCV.NXT); false: nothing new is left.
  if (!seq_lt(t.seq, rcv_nxt)) return true;
  const uint32_t dup = rcv_nxt - t.seq;
  const bool fin_is_new = t.fin && !fin_received;
  if (dup > t.data.size() || (dup == t.data.size() && !fin_is_new)) {
    send_ack();  // a complete duplicate: ACK at once (Linux: DSACK + quick ACK)
    return false;
  }
  t.data = t.data.subspan(dup);
  t.seq = rcv_nxt;
  return true;
}

void Connection::Impl::queue_out_of_order(SegmentText& t) {
  // Out of order (RFC 9293 §3.10.7.4 seventh; RFC 5681 §4.2: ACK at once).
  const size_t room = rcv_ring.capacity() - rcv_ring.size();  // bytes storable past rcv_nxt
  const uint32_t off = t.seq - rcv_nxt;
  if (!t.data.empty()) {
    if (off >= room || app_closed) {
      count(Counter::TcpExt_TCPOFODrop);  // beyond the receive buffer
      send_ack();
      return;
    }
    if (t.data.size() > room - off) {
      t.data = t.data.first(room - off);
      t.fin = false;
    }
    if (!ooo.add(t.seq, t.seq + static_cast<uint32_t>(t.data.size()))) {
      count(Counter::TcpExt_TCPOFODrop);  // more holes than synq keeps (kMaxRanges)
      send_ack();
      return;
    }
    rcv_ring.write_at(rcv_ring.size() + off, t.data);
    count(Counter::TcpExt_TCPOFOQueue);
  }
  if (t.fin) {
    ooo_fin = true;
    ooo_fin_seq = t.seq + static_cast<uint32_t>(t.data.size());
  }
  send_ack();
}

void Connection::Impl::deliver_in_order(SegmentText& t) {
  // At RCV.NXT: into the receive queue, then whatever out-of-order data (and
  // FIN) it makes contiguous.
  if (!t.data.empty()) {
    if (app_closed) {
      // After close() nobody reads: discarded but acknowledged. (SHUT_RD alone
      // keeps queueing: Linux tcp_data_queue does not look at RCV_SHUTDOWN.)
    } else {
      const size_t room = rcv_ring.capacity() - rcv_ring.size();
      if (room == 0) {
        count(Counter::TcpExt_TCPZeroWindowDrop);  // RFC 9293 §3.8.6: no room → drop, ACK
        send_ack();
        return;
      }
      if (t.data.size() > room) {
        count(Counter::TcpExt_TCPRcvQDrop);  // the part beyond our buffer
        t.data = t.data.first(room);
        t.fin = false;
      }
      rcv_ring.write_at(rcv_ring.size(), t.data);
      rcv_ring.commit(t.data.size());
    }
    rcv_nxt += static_cast<uint32_t>(t.data.size());
    on_data_received();
    // Linux tcp_measure_rcv_mss / tcp_grow_window, simplified.
    rcv_mss = std::max<uint32_t>(rcv_mss, std::min<uint32_t>(t.data.size(), adv_mss));
    rcv_ssthresh = std::min(rcv_space, rcv_ssthresh + 2 * rcv_mss);
  }
  const bool filled_hole = !ooo.empty();
  if (filled_hole) {
    const uint32_t nxt = ooo.pop_contiguous(rcv_nxt);
    if (!app_closed) rcv_ring.commit(nxt - rcv_nxt);
    rcv_nxt = nxt;
  }
  if (ooo_fin && rcv_nxt == ooo_fin_seq) {
    t.fin = true;
    ooo_fin = false;
  }
  if (t.fin) {
    take_fin();
    return;
  }
  if (!t.data.empty() || filled_hole) schedule_ack(filled_hole);
}

void Connection::Impl::take_fin() {
  rcv_nxt += 1;
  fin_received = true;
  ooo.clear();
  switch (state) {
    case TcpState::syn_received:
    case TcpState::established:
      set_state(TcpState::close_wait);
      break;
    case TcpState::fin_wait_1:
      if (!fin_acked()) {
        set_state(TcpState::closing);  // simultaneous close: our FIN not yet acked
        break;
      }
      // Our FIN is acknowledged too: FIN-WAIT-2's rule. process_ack normally
      // got there first (see "Ordering" at the top); this keeps the outcome
      // independent of that order.
      [[fallthrough]];
    case TcpState::fin_wait_2:
      send_ack();
      enter_time_wait();
      return;
    default:
      break;
  }
  send_ack();  // FIN is acknowledged at once
}

void Connection::Impl::on_reset() {
  // Linux tcp_reset: the error depends on the state.
  Errno e = Errno::econnreset;
  if (state == TcpState::close_wait) e = Errno::epipe;
  finish(e);
}

// Linux __inet_twsk_schedule counts TW when a timewait socket is first
// scheduled (TWKilled instead when its timeout is at most 4 s).
static constexpr Duration kTwKilledMax = std::chrono::seconds(4);

void Connection::Impl::enter_time_wait() {
  if (host.time_wait_full()) {
    // tcp_time_wait: inet_twsk_alloc finds tw_refcount at tcp_max_tw_buckets
    // ("TCP: time wait bucket table overflow") and the socket is just done:
    // closed, no TIME-WAIT, nothing sent.
    count(Counter::TcpExt_TCPTimeWaitOverflow);
    finish(Errno::ok);
    return;
  }
  set_state(TcpState::time_wait);
  t_rtx = t_persist = t_delack = kNever;
  const Duration len = std::chrono::milliseconds(sys().tcp_time_wait_ms);
  // An orphan FIN-WAIT-2 already is a timewait socket: Linux reschedules it.
  if (len > kTwKilledMax && !tw_counted) count(Counter::TcpExt_TW);
  tw_counted = true;
  t_close = now + len;
}

void Connection::Impl::arm_orphan_fin_wait_2() {
  // An orphan in FIN-WAIT-2 lives tcp_fin_timeout (Linux tcp_close /
  // tcp_rcv_state_process → tcp_time_wait(TCP_FIN_WAIT2): a timewait socket,
  // so it counts TW like TIME-WAIT does).
  const Duration len = std::chrono::seconds(sys().tcp_fin_timeout);
  if (len > kTwKilledMax && !tw_counted) count(Counter::TcpExt_TW);
  tw_counted = true;
  t_rtx = t_persist = kNever;
  t_close = now + len;
}

// ------------------------------------------------------------ TIME-WAIT (Linux
// tcp_timewait_state_process)

std::optional<uint32_t> Connection::Impl::time_wait_syn_isn(const wire::TcpSegment& seg) const {
  const wire::TcpHeader& h = seg.h;
  if (state != TcpState::time_wait) return std::nullopt;
  if (!h.has(SYN) || h.has(RST) || h.has(ACK)) return std::nullopt;
  if (paws_rejects(h)) return std::nullopt;
  const bool newer =
      seq_gt(h.seq, rcv_nxt) || (ts_ok && h.options.has_timestamps && ts_recent_valid &&
                                 static_cast<int32_t>(ts_recent - h.options.ts_val) < 0);
  if (!newer) return std::nullopt;
  // tcp_timewait_state_process: isn = tcptw_snd_nxt + 65535 + 2, and 0
  // means "none" to tcp_conn_request, so it is never 0.
  const uint32_t isn = snd_nxt + 65535 + 2;
  return isn == 0 ? 1 : isn;
}

void Connection::Impl::on_time_wait(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.h;
  const bool paws_reject = paws_rejects(h);
  // An in-window bare ACK or RST at rcv_nxt: RST ends TIME-WAIT (tcp_rfc1337 = 0).
  if (!paws_reject && h.seq == rcv_nxt && (seg.seg_len() == 0 || h.has(RST))) {
    if (h.has(RST)) {
      set_state(TcpState::closed);
    } else {
      maybe_update_ts_recent(h);
    }
    return;
  }
  if (time_wait_syn_isn(seg)) {
    // TCP_TW_SYN reaches the connection only when the stack found no
    // listener to open a new connection: Linux's tcp_v4_rcv then falls
    // through to TCP_TW_ACK and answers with the TIME-WAIT's ACK (no timer
    // restart).
    send_ack();
    return;
  }
  if (paws_reject) count(Counter::TcpExt_PAWSEstab);
  if (h.has(RST)) return;  // never answered
  // Anything else, e.g. a retransmitted FIN: re-ACK and restart the 2MSL timer.
  if (paws_reject || h.has(ACK)) t_close = now + std::chrono::milliseconds(sys().tcp_time_wait_ms);
  send_dupack(seg, Counter::TcpExt_TCPACKSkippedSeq);
}

}  // namespace synq::tcp
