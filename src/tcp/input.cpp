// Segment arrival: RFC 9293 §3.10.7 with RFC 5961 and RFC 7323, in the order
// Linux applies the checks (tcp_rcv_synsent_state_process,
// tcp_validate_incoming, tcp_ack, tcp_data_queue, tcp_timewait_state_process).
#include <algorithm>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

using namespace wire::tcp_flags;

void Connection::Impl::on_segment(const wire::TcpSegment& seg) {
  switch (state) {
    case TcpState::closed:
    case TcpState::listen:
      return;  // RFC 9293 §3.10.7.1: the stack answers for CLOSED; listeners live elsewhere
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
  snd_wscale = ws_ok ? std::min<uint8_t>(o.wscale, 14) : 0;
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
    // first: an ACK outside (ISS, SND.NXT] is unacceptable → <SEQ=SEG.ACK><CTL=RST>.
    if (seq_le(h.ack, iss) || seq_gt(h.ack, snd_max)) {
      if (!h.has(RST)) send_reset_reply(h.ack);
      return;
    }
    // Linux: a TSecr that echoes nothing we sent since the first SYN is
    // rejected the same way (LINUX_MIB_PAWSACTIVEREJECTED).
    if (offered_ts && h.options.has_timestamps && h.options.ts_ecr != 0) {
      const uint32_t nowts = ts_clock(now, ts_offset);
      if (seq_lt(h.options.ts_ecr, syn_tsval) || seq_gt(h.options.ts_ecr, nowts)) {
        count(Counter::TcpExt_PAWSActive);
        if (!h.has(RST)) send_reset_reply(h.ack);
        return;
      }
    }
  }
  if (h.has(RST)) {
    // second: RST with an acceptable ACK → "connection refused"; without ACK → drop.
    if (ack) finish(Errno::econnrefused);
    return;
  }
  if (!h.has(SYN)) return;  // fifth: neither SYN nor RST → drop

  // fourth: SYN.
  irs = h.seq;
  rcv_nxt = h.seq + 1;
  negotiate_from_syn(h.options);
  snd_wnd = h.window;  // RFC 7323 §2.2: the window in a SYN is never scaled
  max_window = snd_wnd;
  snd_wl1 = h.seq;
  if (ack) {
    // SYN-ACK: our SYN is acknowledged → ESTABLISHED.
    snd_una = h.ack;
    snd_wl2 = h.ack;
    if (ts_ok && h.options.ts_ecr != 0) {
      rtt_sample(std::chrono::milliseconds(
          std::max<int32_t>(1, static_cast<int32_t>(ts_clock(now, ts_offset) - h.options.ts_ecr))));
    } else if (retransmits == 0) {
      rtt_sample(now - syn_time);  // Karn: only an SYN that was never retransmitted
    }
    t_rtx = kNever;
    backoff = 0;
    retransmits = 0;
    establish_common();
    set_state(TcpState::established);
    if (!seg.payload.empty() || h.has(FIN)) process_text(seg);
    if (state == TcpState::closed) return;
    send_ack();  // Linux tcp_rcv_synsent_state_process: immediate ACK
    output();
    return;
  }
  // SYN without ACK: simultaneous open → SYN-RECEIVED, SYN-ACK with the same ISS.
  snd_wl2 = snd_una;
  establish_common();
  set_state(TcpState::syn_received);
  send_synack();
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
    return;  // RST out of window: drop, never answered
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

  // fifth: ACK.
  if (!h.has(ACK)) return;  // RFC 9293 §3.10.7.4: no ACK → drop
  if (state == TcpState::syn_received) {
    if (!(seq_gt(h.ack, snd_una) && seq_le(h.ack, snd_max))) {
      send_reset_reply(h.ack);  // §3.10.7.4: unacceptable ACK in SYN-RECEIVED → RST
      return;
    }
    snd_una = h.ack;
    snd_buf_seq = iss + 1;
    snd_wnd = static_cast<uint32_t>(h.window) << snd_wscale;
    max_window = std::max(max_window, snd_wnd);
    snd_wl1 = h.seq;
    snd_wl2 = h.ack;
    t_rtx = kNever;
    if (retransmits == 0) rtt_sample(now - rtx_start);
    backoff = 0;
    retransmits = 0;
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
  uint32_t seq = h.seq + (h.has(SYN) ? 1 : 0);
  std::span<const uint8_t> data = seg.payload;
  bool fin = h.has(FIN);

  switch (state) {
    case TcpState::established:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::syn_received:
      break;
    default:
      // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN; new text is
      // ignored (RFC 9293 §3.10.7.4 seventh). A retransmission gets an ACK.
      if (seq_lt(seq, rcv_nxt) && (!data.empty() || fin)) send_ack();
      return;
  }

  // Linux: data after close()/SHUT_RD in FIN-WAIT-1/2 → RST (RFC 1122
  // §4.2.2.13), TCPAbortOnData.
  if ((state == TcpState::fin_wait_1 || state == TcpState::fin_wait_2) && rd_shut &&
      !data.empty() && seq_gt(seq + static_cast<uint32_t>(data.size()), rcv_nxt)) {
    count(Counter::TcpExt_TCPAbortOnData);
    send_reset_reply(h.ack);
    finish(Errno::econnreset);
    return;
  }

  // Trim what we already have.
  if (seq_lt(seq, rcv_nxt)) {
    const uint32_t dup = rcv_nxt - seq;
    const bool fin_is_new = fin && !fin_received;
    if (dup > data.size() || (dup == data.size() && !fin_is_new)) {
      send_ack();  // a complete duplicate: ACK at once (Linux: DSACK + quick ACK)
      return;
    }
    data = data.subspan(dup);
    seq = rcv_nxt;
  }
  if (fin_received) return;

  const size_t room = rcv_ring.capacity() - rcv_ring.size();  // bytes storable past rcv_nxt
  if (seq != rcv_nxt) {
    // Out of order (RFC 9293 §3.10.7.4 seventh; RFC 5681 §4.2: ACK at once).
    const uint32_t off = seq - rcv_nxt;
    if (!data.empty()) {
      if (off >= room || app_closed) {
        count(Counter::TcpExt_TCPOFODrop);  // beyond the receive buffer
        send_ack();
        return;
      }
      if (data.size() > room - off) {
        data = data.first(room - off);
        fin = false;
      }
      if (!ooo.add(seq, seq + static_cast<uint32_t>(data.size()))) {
        count(Counter::TcpExt_TCPOFODrop);  // more holes than synq keeps (kMaxRanges)
        send_ack();
        return;
      }
      rcv_ring.write_at(rcv_ring.size() + off, data);
      count(Counter::TcpExt_TCPOFOQueue);
    }
    if (fin) {
      ooo_fin = true;
      ooo_fin_seq = seq + static_cast<uint32_t>(data.size());
    }
    send_ack();
    return;
  }

  // In order.
  if (!data.empty()) {
    if (app_closed) {
      // After close() nobody reads: discarded but acknowledged. (SHUT_RD alone
      // keeps queueing: Linux tcp_data_queue does not look at RCV_SHUTDOWN.)
    } else {
      if (room == 0) {
        count(Counter::TcpExt_TCPZeroWindowDrop);  // RFC 9293 §3.8.6: no room → drop, ACK
        send_ack();
        return;
      }
      if (data.size() > room) {
        count(Counter::TcpExt_TCPRcvQDrop);  // the part beyond our buffer
        data = data.first(room);
        fin = false;
      }
      rcv_ring.write_at(rcv_ring.size(), data);
      rcv_ring.commit(data.size());
    }
    rcv_nxt += static_cast<uint32_t>(data.size());
    on_data_received();
    // Linux tcp_measure_rcv_mss / tcp_grow_window, simplified.
    rcv_mss = std::max<uint32_t>(rcv_mss, std::min<uint32_t>(data.size(), adv_mss));
    rcv_ssthresh = std::min(rcv_space, rcv_ssthresh + 2 * rcv_mss);
  }
  const bool filled_hole = !ooo.empty();
  if (filled_hole) {
    const uint32_t nxt = ooo.pop_contiguous(rcv_nxt);
    if (!app_closed) rcv_ring.commit(nxt - rcv_nxt);
    rcv_nxt = nxt;
  }
  if (ooo_fin && rcv_nxt == ooo_fin_seq) {
    fin = true;
    ooo_fin = false;
  }
  if (fin) {
    take_fin();
    return;
  }
  if (!data.empty() || filled_hole) schedule_ack(filled_hole);
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
      set_state(TcpState::closing);  // simultaneous close: our FIN not yet acked
      break;
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
