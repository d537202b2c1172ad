// Timers: retransmission (RFC 6298 with Linux's bounds and give-up rule),
// SYN / SYN-ACK retries, zero-window persist, delayed ACK, TIME-WAIT and the
// orphaned FIN-WAIT-2 timeout.
#include <algorithm>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

void Connection::Impl::on_timer(Time t) {
  now = t;
  // Each pass runs the earliest due timer; a handler may end the connection.
  for (int guard = 0; guard < 8; ++guard) {
    const Time due = earliest();
    if (due == kNever || due > now || state == TcpState::closed) return;
    if (t_close == due) {
      t_close = kNever;
      on_close_timer();
    } else if (t_rtx == due) {
      t_rtx = kNever;
      if (state == TcpState::syn_sent || state == TcpState::syn_received) {
        on_syn_timer();
      } else {
        on_rtx_timer();
      }
    } else if (t_persist == due) {
      t_persist = kNever;
      on_persist_timer();
    } else if (t_delack == due) {
      t_delack = kNever;
      on_delack_timer();
    }
  }
}

Duration Connection::Impl::current_rto() const {
  return backed_off(rto, backoff);
}

void Connection::Impl::restart_rtx() {
  rtx_start = now;
  t_rtx = now + current_rto();
}

void Connection::Impl::rtt_sample(Duration r) {
  // RFC 6298 §2.2–2.3 (alpha 1/8, beta 1/4). Linux's lower bound is on the
  // variance term: RTO = SRTT + max(4·RTTVAR, rto_min), at most 120 s.
  if (r <= Duration::zero()) r = std::chrono::microseconds(1);
  if (!have_rtt) {
    srtt = r;
    rttvar = r / 2;
    have_rtt = true;
  } else {
    const Duration delta = srtt > r ? srtt - r : r - srtt;
    rttvar = (3 * rttvar + delta) / 4;
    srtt = (7 * srtt + r) / 8;
  }
  const Duration rto_min = std::chrono::microseconds(sys().tcp_rto_min_us);
  rto = std::min(srtt + std::max(4 * rttvar, rto_min), kMaxRto);
}

void Connection::Impl::on_syn_timer() {
  // Linux tcp_retransmit_timer / tcp_write_timeout for SYN-SENT and
  // SYN-RECEIVED: TCPTimeouts on every firing; give up when the retries are
  // used (ETIMEDOUT, TCPAbortOnTimeout from tcp_write_err).
  count(Counter::TcpExt_TCPTimeouts);
  if (syn_timed_out()) {
    count(Counter::TcpExt_TCPAbortOnTimeout);
    finish(Errno::etimedout);
    return;
  }
  if (state == TcpState::syn_sent) {
    send_syn();
  } else {
    send_synack();
  }
  count(Counter::TcpExt_TCPSynRetrans);
  count(Counter::Tcp_RetransSegs);
  ++retransmits;
  // Linux 6.18 tcp_syn_linear_timeouts: an active open's first N
  // retransmissions keep the initial RTO; backoff starts after them. Measured
  // on 6.18 (docs/kernel-facts.md): defaults give 1, 2, 3, 4, 5, 7, 11, 19, 35,
  // 67 s and ETIMEDOUT at 131 s; with N = 0 it is 1, 3, 7, 15, 31, 63 s, 127 s.
  if (state != TcpState::syn_sent || retransmits > syn_linear_timeouts) ++backoff;
  t_rtx = now + current_rto();
}

bool Connection::Impl::syn_timed_out() const {
  if (retransmits == 0) return false;
  if (state != TcpState::syn_sent) return retransmits >= syn_retry_limit;
  // An active open gives up on time, not on a count (Linux tcp_write_timeout →
  // retransmits_timed_out(sk, syn_retries, TCP_TIMEOUT_INIT)): when the time
  // since the first SYN reaches (2^(N+1) - 1) s. tcp_syn_linear_timeouts only
  // packs more retransmissions into that budget. Measured on Linux 6.18
  // (docs/kernel-facts.md): (6, 4) → ETIMEDOUT at 131 s after 10
  // retransmissions; (1, 2) → 2 retransmissions, ETIMEDOUT at 3 s.
  return now - syn_time >= model_timeout(syn_retry_limit, kInitialRto);
}

bool Connection::Impl::data_write_timed_out() const {
  // Linux retransmits_timed_out + tcp_model_timeout: tcp_retries2 is turned
  // into the time exponential backoff from TCP_RTO_MIN (200 ms) would take
  // (924.6 s for 15), measured from the first retransmitted transmission.
  if (retransmits == 0) return false;
  return now - retrans_stamp >= model_timeout(sys().tcp_retries2, kLinuxRtoMinConst);
}

void Connection::Impl::on_rtx_timer() {
  if (snd_max == snd_una) return;  // nothing outstanding
  count(Counter::TcpExt_TCPTimeouts);
  if (retransmits == 0) retrans_stamp = rtx_start;
  if (data_write_timed_out()) {
    count(Counter::TcpExt_TCPAbortOnTimeout);  // Linux tcp_write_err: no RST
    finish(Errno::etimedout);
    return;
  }
  cc_on_timeout();
  // Go-back-N from SND.UNA; the first segment goes out even into a closed window.
  snd_nxt = snd_una;
  timing = false;
  retransmit_head();
  ++retransmits;
  ++backoff;
  t_rtx = now + current_rto();
  loss_head_pending = false;
  output();
}

void Connection::Impl::arm_persist() {
  if (t_persist != kNever) return;
  // Linux tcp_probe0_base: max(RTO, TCP_RTO_MIN), backed off per probe.
  t_persist = now + backed_off(std::max(rto, kLinuxRtoMinConst), probes);
}

void Connection::Impl::on_persist_timer() {
  if (!can_send_data() || !seq_lt(snd_nxt, data_end()) || snd_nxt != snd_una) {
    probes = 0;
    return;
  }
  // Linux tcp_write_wakeup: send new data if the window allows some (even a
  // fragment SWS avoidance held back), else a zero-window probe.
  const uint32_t wnd_edge = snd_una + snd_wnd;
  if (seq_lt(snd_nxt, wnd_edge)) {
    const uint32_t len = std::min<uint32_t>({wnd_edge - snd_nxt, data_end() - snd_nxt, smss});
    const bool fin = wr_shut && snd_nxt + len == data_end();
    send_data(snd_nxt, len, fin);
    snd_nxt += len + (fin ? 1 : 0);
    snd_max = seq_max(snd_max, snd_nxt);
    probes = 0;
    restart_rtx();
    return;
  }
  ++probes;
  if (probes > sys().tcp_retries2) {
    // Linux tcp_probe_timer: the peer kept a zero window through all probes.
    count(Counter::TcpExt_TCPAbortOnTimeout);
    finish(Errno::etimedout);
    return;
  }
  send_probe();
  arm_persist();
}

void Connection::Impl::on_delack_timer() {
  if (state == TcpState::closed || state == TcpState::syn_sent) return;
  count(Counter::TcpExt_DelayedACKs);
  // Linux tcp_delack_timer_handler: a delayed ACK that fired found no reply
  // to ride on — leave interactive mode.
  pingpong = false;
  send_ack();
}

void Connection::Impl::on_close_timer() {
  if (state == TcpState::time_wait) {
    set_state(TcpState::closed);
  } else if (state == TcpState::fin_wait_2) {
    set_state(TcpState::closed);  // orphan gave up waiting for the peer's FIN
  }
}

}  // namespace synq::tcp
