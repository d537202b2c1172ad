// Building and sending segments: data (with Nagle and sender SWS avoidance),
// SYN / SYN-ACK, ACKs (delayed, rate limited, challenge), RSTs, probes, and
// the receive window we advertise.
#include <algorithm>
#include <climits>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

using namespace wire::tcp_flags;

void Connection::Impl::emit(const wire::TcpHeader& h, std::span<const uint8_t> payload) {
  if (h.has(RST)) count(Counter::Tcp_OutRsts);
  // Linux tcp_event_ack_sent: every segment that carries an ACK uses up one
  // quick ACK. tcp_event_data_sent: data that answers received data within
  // the delayed-ACK time marks the connection interactive (pingpong).
  if (h.has(ACK) && quick > 0) --quick;
  if (!payload.empty() && ato_set &&
      now - lrcvtime < std::chrono::milliseconds(sys().tcp_delack_min_ms))
    pingpong = true;
  host.send_segment(tuple, h, payload);
}

void Connection::Impl::fill_options(wire::TcpOptions& o, bool with_sack) const {
  if (ts_ok) set_timestamps(o, ts_clock(now, ts_offset), ts_recent);
  // RFC 2018 §4: SACK blocks for out-of-order data, most recent first; 3 fit
  // beside timestamps, 4 without.
  if (with_sack && sack_ok && !ooo.empty()) o.sack_count = ooo.sack_blocks(o.sack, ts_ok ? 3 : 4);
}

uint32_t Connection::Impl::window_available() const {
  const uint32_t used = static_cast<uint32_t>(rcv_ring.size());
  const uint32_t free_space = rcv_space > used ? rcv_space - used : 0;
  return std::min(free_space, std::max(rcv_ssthresh, syn_window));
}

uint16_t Connection::Impl::select_window() {
  // Linux __tcp_select_window with receiver SWS avoidance (RFC 9293
  // §3.8.6.2.2): move the right edge only by at least min(buffer/2, MSS).
  // A kept edge that no longer fits the buffer is rounded down to the scale
  // granule (RFC 7323 §2.4 lets it shrink by less than one granule; the ring
  // has a granule of slack for a peer that still sends up to the old edge).
  const uint32_t cur = seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
  const uint32_t want = window_available();
  const uint32_t sws = std::min<uint32_t>(rcv_space / 2, adv_mss);
  const uint8_t shift = rcv_wscale;
  uint32_t field;
  if (want <= cur || want - cur < sws) {
    // Keep the edge: rounded up to the granule when the space is there (as
    // Linux's ALIGN: 64240 → 502 << 7), else down.
    const uint32_t up = (cur + (1u << shift) - 1) >> shift;
    const uint32_t used = static_cast<uint32_t>(rcv_ring.size());
    const uint32_t free_space = rcv_space > used ? rcv_space - used : 0;
    field = (up << shift) <= free_space ? up : cur >> shift;
  } else {
    field = want >> shift;
  }
  field = std::min(field, kMaxWindowField);
  rcv_adv = seq_max(rcv_adv, rcv_nxt + (field << shift));
  rcv_wup = rcv_nxt;
  return static_cast<uint16_t>(field);
}

bool Connection::Impl::can_send_data() const {
  switch (state) {
    case TcpState::established:
    case TcpState::close_wait:
    case TcpState::fin_wait_1:
    case TcpState::closing:
    case TcpState::last_ack:
      return true;
    default:
      return false;
  }
}

void Connection::Impl::send_data(uint32_t seq, uint32_t len, bool fin) {
  wire::TcpHeader h = header_for(tuple);
  h.seq = seq;
  h.flags = ACK;
  if (len > 0 && seq + len == data_end()) h.flags |= PSH;
  if (fin) h.flags |= FIN;
  h.ack = rcv_nxt;
  h.window = select_window();
  fill_options(h.options, true);
  std::span<const uint8_t> payload;
  if (len > 0) {
    const size_t off = seq - snd_buf_seq;
    payload = snd_ring.contiguous(off, len);
    if (payload.empty()) {
      if (!scratch) scratch = std::make_unique_for_overwrite<uint8_t[]>(scratch_len);
      const size_t n = snd_ring.copy_out(off, {scratch.get(), std::min<size_t>(len, scratch_len)});
      payload = {scratch.get(), n};
    }
  }
  t_delack = kNever;  // every segment carries the ACK
  emit(h, payload);
}

void Connection::Impl::output() {
  if (!can_send_data()) return;
  for (;;) {
    const uint32_t end = data_end();
    if (seq_lt(snd_nxt, end)) {
      const uint32_t avail = end - snd_nxt;
      const uint32_t limit = seq_min(snd_una + snd_wnd, snd_una + cwnd);
      const uint32_t usable = seq_gt(limit, snd_nxt) ? limit - snd_nxt : 0;
      const uint32_t len = std::min({avail, static_cast<uint32_t>(smss), usable});
      if (len == 0) break;
      const bool retrans = seq_lt(snd_nxt, snd_max);
      if (!retrans && len < smss) {
        if (len < avail) {
          // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited
          // fragment only if it is at least half the largest window offered.
          if (len < max_window / 2) break;
        } else if (!opts.nodelay && !wr_shut && seq_gt(snd_sml, snd_una)) {
          // Nagle (RFC 896, RFC 9293 §3.7.4) in Linux's Minshall form: a small
          // segment waits while an earlier small segment is unacknowledged.
          break;
        }
      }
      const bool fin = wr_shut && snd_nxt + len == end;
      send_data(snd_nxt, len, fin);
      if (len < smss) snd_sml = snd_nxt + len;
      if (retrans) {
        timing = false;  // Karn
        count(Counter::Tcp_RetransSegs);
        if (in_loss && !loss_head_pending) count(Counter::TcpExt_TCPSlowStartRetrans);
        loss_head_pending = false;
      } else {
        count(Counter::TcpExt_TCPOrigDataSent);
        if (!timing && !ts_ok) {
          timing = true;
          rtt_seq = snd_nxt;
          rtt_time = now;
        }
      }
      snd_nxt += len + (fin ? 1 : 0);
      snd_max = seq_max(snd_max, snd_nxt);
      if (t_rtx == kNever) restart_rtx();
      continue;
    }
    if (wr_shut && snd_nxt == end) {
      // A bare FIN (its sequence slot needs no window; BSD and Linux send it anyway).
      const bool retrans = seq_lt(snd_nxt, snd_max);
      send_data(snd_nxt, 0, true);
      if (retrans) count(Counter::Tcp_RetransSegs);
      snd_nxt += 1;
      snd_max = seq_max(snd_max, snd_nxt);
      if (t_rtx == kNever) restart_rtx();
    }
    break;
  }
  // Data waits with nothing in flight: only the persist timer can move it
  // (zero window, or a window too small to be worth using).
  if (seq_lt(snd_nxt, data_end()) && snd_nxt == snd_una && t_rtx == kNever) arm_persist();
}

bool Connection::Impl::retransmit_head() {
  const uint32_t seq = snd_una;
  const uint32_t end = data_end();
  const uint32_t avail = seq_gt(end, seq) ? end - seq : 0;
  const uint32_t len = std::min<uint32_t>(avail, smss);
  const bool fin = wr_shut && seq + len == fin_seq() && seq_gt(snd_max, fin_seq());
  if (len == 0 && !fin) return false;
  send_data(seq, len, fin);
  timing = false;  // Karn
  count(Counter::Tcp_RetransSegs);
  if (seq_lt(snd_nxt, seq + len + (fin ? 1 : 0))) snd_nxt = seq + len + (fin ? 1 : 0);
  return true;
}

void Connection::Impl::send_syn() {
  const Sysctls& s = sys();
  wire::TcpHeader h = header_for(tuple);
  h.seq = iss;
  h.flags = SYN;
  // Linux tcp_connect_init: initial window from advmss (no timestamp deduction).
  syn_window = initial_rcv_window(s, adv_mss, opts.rcvbuf);
  h.window = static_cast<uint16_t>(std::min(syn_window, kMaxWindowField));
  h.options = make_syn_options(s, adv_mss, our_wscale(s), ts_clock(now, ts_offset), nullptr);
  offered_ts = h.options.has_timestamps;
  offered_ws = h.options.has_wscale;
  offered_sack = h.options.sack_permitted;
  emit(h, {});
}

void Connection::Impl::send_synack() {
  // Our SYN-ACK repeats what was negotiated (a listener's request builds its
  // options from the sysctls and the peer's SYN instead: make_syn_options).
  wire::TcpOptions o;
  o.has_mss = true;
  o.mss = adv_mss;
  o.sack_permitted = sack_ok;
  if (ts_ok) set_timestamps(o, ts_clock(now, ts_offset), ts_recent);
  if (ws_ok) {
    o.has_wscale = true;
    o.wscale = rcv_wscale;
  }
  const auto window = static_cast<uint16_t>(std::min(syn_window, kMaxWindowField));
  emit(syn_ack(tuple, iss, rcv_nxt, window, o), {});
}

void Connection::Impl::send_bare_ack(uint32_t seq, bool with_sack) {
  wire::TcpHeader h = bare_ack(tuple, seq, rcv_nxt, select_window());
  fill_options(h.options, with_sack);
  t_delack = kNever;
  emit(h, {});
}

void Connection::Impl::send_ack() {
  if (state == TcpState::closed || state == TcpState::syn_sent) return;
  send_bare_ack(snd_nxt, true);
}

void Connection::Impl::send_probe() {
  // Linux tcp_xmit_probe_skb: a bare ACK with an old sequence number
  // (SND.UNA - 1) makes the receiver answer with its current window.
  send_bare_ack(snd_una - 1, false);
}

void Connection::Impl::send_active_reset() {
  // Linux tcp_send_active_reset: RST|ACK at SND.NXT, with timestamps.
  wire::TcpHeader h = active_reset(tuple, snd_nxt, rcv_nxt);
  fill_options(h.options, false);
  emit(h, {});
}

void Connection::Impl::send_reset_reply(const wire::TcpSegment& seg) {
  // RFC 9293 §3.10.7: a RST is never answered; anything else that must be
  // refused gets the reset_reply rule (<SEQ=SEG.ACK><CTL=RST> for an ACK).
  if (seg.h.has(RST)) return;
  emit(reset_reply(tuple, seg), {});
}

bool Connection::Impl::oow_rate_limited() {
  // Linux __tcp_oow_rate_limited: at most one out-of-window ACK per
  // tcp_invalid_ratelimit ms per connection.
  const Duration limit = std::chrono::milliseconds(sys().tcp_invalid_ratelimit);
  if (have_oow && now - last_oow_ack < limit) return true;
  have_oow = true;
  last_oow_ack = now;
  return false;
}

void Connection::Impl::send_dupack(const wire::TcpSegment& seg, Counter skipped) {
  // Linux tcp_oow_rate_limited: segments with data (and no SYN) are not part
  // of an ACK loop and are always answered.
  const bool exempt = seg.seg_len() != 0 && !seg.h.has(SYN);
  if (!exempt && oow_rate_limited()) {
    count(skipped);  // ACK suppressed by tcp_invalid_ratelimit
    return;
  }
  send_ack();
}

void Connection::Impl::send_challenge_ack() {
  // RFC 5961 §7 / Linux tcp_send_challenge_ack: the per-connection
  // out-of-window limit first, then tcp_challenge_ack_limit per second.
  // (Linux keeps that second limit per network namespace; synq per connection.)
  if (oow_rate_limited()) {
    count(Counter::TcpExt_TCPACKSkippedChallenge);  // Linux __tcp_oow_rate_limited's mib_idx
    return;
  }
  const int limit = sys().tcp_challenge_ack_limit;
  if (limit != INT_MAX) {
    if (now - challenge_window_start >= std::chrono::seconds(1)) {
      challenge_window_start = now;
      challenge_count = 0;
    }
    if (++challenge_count > static_cast<uint32_t>(std::max(limit, 0))) return;
  }
  count(Counter::TcpExt_TCPChallengeACK);
  send_ack();
}

void Connection::Impl::syn_challenge() {
  count(Counter::TcpExt_TCPSYNChallenge);  // RFC 5961 §4.2
  send_challenge_ack();
}

void Connection::Impl::incr_quickack(unsigned max_quickacks) {
  // Linux tcp_incr_quickack: as many quick ACKs as half the advertised window
  // holds full segments (at least 2), at most max_quickacks.
  const uint32_t wnd = rcv_adv - rcv_wup;
  unsigned n = rcv_mss ? wnd / (2 * rcv_mss) : 0;
  if (n == 0) n = 2;
  n = std::min(n, max_quickacks);
  if (n > quick) quick = static_cast<uint8_t>(n);
}

void Connection::Impl::on_data_received() {
  // Linux tcp_event_data_recv: the first data of a connection, and data after
  // an idle time longer than the RTO, start quick-ACK mode (TCP_MAX_QUICKACKS = 16).
  constexpr unsigned kMaxQuickacks = 16;
  if (!ato_set) {
    ato_set = true;
    incr_quickack(kMaxQuickacks);
  } else if (now - lrcvtime > current_rto()) {
    incr_quickack(kMaxQuickacks);
  }
  lrcvtime = now;
}

void Connection::Impl::schedule_ack(bool immediate) {
  // RFC 9293 §3.8.6.3 / RFC 5681 §4.2, as Linux __tcp_ack_snd_check: ACK at
  // once when more than one full-sized segment is unacknowledged, for
  // out-of-order data and hole filling; else within the delayed-ACK timeout.
  if (immediate || rcv_nxt - rcv_wup > rcv_mss || in_quickack_mode()) {
    send_ack();
    return;
  }
  if (t_delack == kNever) t_delack = now + std::chrono::milliseconds(sys().tcp_delack_min_ms);
}

}  // namespace synq::tcp
