// Connection: the public face (application calls, opens) and the bookkeeping
// every state change goes through (counters, timers, host notification).
#include "tcp/connection.hpp"

#include <algorithm>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

namespace {
bool is_synchronized(TcpState s) {
  return s != TcpState::closed && s != TcpState::listen && s != TcpState::syn_sent;
}
}  // namespace

Connection::Impl::Impl(Connection& self_, ConnectionHost& host_, const FourTuple& tuple_,
                       const ConnectionOptions& opts_)
    : self(self_), host(host_), tuple(tuple_), opts(opts_) {
  size_buffers();
  // At least a default-MTU IPv4 segment, so a later larger MSS still fits.
  scratch_len = std::max<size_t>(mss_from_mtu(tuple.local.addr.version, opts.mtu),
                                 mss_from_mtu(IpVersion::v4, kDefaultMtu));
  // The scratch buffer is allocated on first use (a segment whose payload
  // wraps the send ring): most connections never need it.
}

// Ring capacities from SO_RCVBUF/SO_SNDBUF. Called at construction and again
// at connect()/init_passive() (the rings are still empty and unallocated
// then), so options set between socket() and connect() take effect.
void Connection::Impl::size_buffers() {
  const Sysctls& s = sys();
  const int rcvbuf = opts.rcvbuf > 0 ? opts.rcvbuf : s.tcp_rmem[1];
  const int sndbuf = opts.sndbuf > 0 ? opts.sndbuf : s.tcp_wmem[1];
  // Half of SO_RCVBUF is payload (Linux's default scaling ratio: SO_RCVBUF is
  // stored doubled to cover overhead). The ring has room for one window-scale
  // granule more, because a never-shrinking window may be rounded up by it.
  rcv_space = std::max<uint32_t>(static_cast<uint32_t>(rcvbuf) / 2, 256);
  rcv_ring.reset(rcv_space + (1u << our_wscale(s)));
  snd_ring.reset(std::max(sndbuf, 1024));
  recompute_mss();
}

void Connection::Impl::recompute_mss() {
  const uint16_t mtu_mss = mss_from_mtu(tuple.local.addr.version, opts.mtu);
  adv_mss = mtu_mss;
  if (opts.user_mss && opts.user_mss < adv_mss) adv_mss = opts.user_mss;
  // Linux __tcp_mtu_to_mss: clamp to the peer's MSS and TCP_MAXSEG, then
  // subtract the options every segment carries (timestamps), floor TCP_MIN_SND_MSS.
  int m = std::min<int>(peer_mss, adv_mss);
  if (ts_ok) m -= wire::tcp_opt::LEN_TIMESTAMP_ALIGNED;
  smss = static_cast<uint16_t>(std::max(m, int{kMinSndMss}));
}

void Connection::Impl::set_state(TcpState to) {
  const TcpState from = state;
  if (from == to) return;
  state = to;
  // Linux tcp_set_state's accounting.
  const bool was_estab = from == TcpState::established || from == TcpState::close_wait;
  if (to == TcpState::established) {
    count(Counter::Tcp_CurrEstab);
  } else if (to == TcpState::close_wait) {
    if (from == TcpState::syn_received) count(Counter::Tcp_CurrEstab);
  } else if (was_estab) {
    host.counters().dec(Counter::Tcp_CurrEstab);
    if (to == TcpState::closed) count(Counter::Tcp_EstabResets);
  }
  if (to == TcpState::closed) {
    t_rtx = t_persist = t_delack = t_close = kNever;
  }
  if (to == TcpState::time_wait || to == TcpState::closed) {
    // No more data moves (Linux swaps in a small inet_timewait_sock): give the
    // buffers back unless the application still has bytes to read.
    snd_ring.release_if_empty();
    rcv_ring.release_if_empty();
  }
  host.state_changed(self, from, to);
}

void Connection::Impl::finish(Errno e) {
  // Linux tcp_done: a handshake that ends here is a failed attempt.
  if (state == TcpState::syn_sent || state == TcpState::syn_received)
    count(Counter::Tcp_AttemptFails);
  if (e != Errno::ok) err = e;
  done = true;
  set_state(TcpState::closed);
}

// Common to every way into ESTABLISHED: windows, congestion state.
void Connection::Impl::establish_common() {
  recompute_mss();
  cwnd = kInitialCwndSegments * smss;  // RFC 6928 / Linux: 10 segments
  ssthresh = UINT32_MAX;
  recover = snd_una;
  rcv_wup = rcv_nxt;
  rcv_adv = rcv_nxt + syn_window;
  rcv_ssthresh = syn_window;
  rcv_mss = std::min<uint32_t>(kDefaultPeerMss, adv_mss);
  snd_buf_seq = iss + 1;
  snd_sml = snd_una;
}

void Connection::Impl::queue_fin() {
  // RFC 9293 §3.10.4 CLOSE (and shutdown(SHUT_WR)): our FIN follows the queued
  // data. In SYN-RECEIVED it waits for ESTABLISHED (on_synchronized sends it);
  // in FIN-WAIT-*, CLOSING, LAST-ACK and TIME-WAIT it is already queued.
  switch (state) {
    case TcpState::syn_received:
      wr_shut = true;
      break;
    case TcpState::established:
      wr_shut = true;
      set_state(TcpState::fin_wait_1);
      output();
      break;
    case TcpState::close_wait:
      wr_shut = true;
      set_state(TcpState::last_ack);
      output();
      break;
    default:
      break;
  }
}

Time Connection::Impl::earliest() const {
  return std::min({t_rtx, t_persist, t_delack, t_close});
}

void Connection::Impl::sync_timer() {
  const Time d = earliest();
  if (d != reported_deadline) {
    reported_deadline = d;
    host.timer_changed(self, d);
  }
}

// ============================================================ Connection

Connection::Connection(ConnectionHost& host, const FourTuple& tuple, const ConnectionOptions& opts)
    : impl_(new Impl(*this, host, tuple, opts)) {}

Connection::~Connection() {
  delete impl_;
}

void Connection::connect(Time now, uint32_t iss, uint32_t ts_offset) {
  Impl& c = *impl_;
  c.now = now;
  c.size_buffers();
  c.iss = iss;
  c.ts_offset = ts_offset;
  c.snd_una = iss;
  c.snd_nxt = c.snd_max = iss + 1;
  c.snd_buf_seq = iss + 1;
  // Linux tcp_write_timeout: TCP_SYNCNT or tcp_syn_retries sets the time
  // budget (see syn_timed_out); the first tcp_syn_linear_timeouts
  // retransmissions do not back off.
  c.syn_linear_timeouts = c.sys().tcp_syn_linear_timeouts;
  c.syn_retry_limit = c.opts.syn_retries >= 0 ? c.opts.syn_retries : c.sys().tcp_syn_retries;
  c.count(Counter::Tcp_ActiveOpens);
  c.syn_time = now;
  c.syn_tsval = ts_clock(now, ts_offset);
  c.rto = kInitialRto;
  c.set_state(TcpState::syn_sent);
  c.send_syn();
  c.rtx_start = now;
  c.t_rtx = now + c.rto;
  c.sync_timer();
}

void Connection::init_passive(Time now, const PassiveOpen& p) {
  Impl& c = *impl_;
  c.now = now;
  c.size_buffers();
  c.iss = p.iss;
  c.irs = p.irs;
  c.rcv_nxt = p.irs + 1;
  c.ts_offset = p.ts_offset;
  c.peer_mss = p.peer_mss ? p.peer_mss : kDefaultPeerMss;
  c.ws_ok = c.offered_ws = p.wscale_ok;
  c.snd_wscale = p.wscale_ok ? std::min(p.snd_wscale, kMaxWscale) : 0;
  c.rcv_wscale = p.wscale_ok ? p.rcv_wscale : 0;
  c.sack_ok = c.offered_sack = p.sack_ok;
  c.ts_ok = c.offered_ts = p.ts_ok;
  if (p.ts_ok) {
    c.ts_recent = p.ts_recent;
    c.ts_recent_stamp = now;
    c.ts_recent_valid = true;
  }
  c.recompute_mss();
  // The window our SYN-ACK carried (Linux tcp_openreq_init_rwin: MSS less
  // timestamps), or the one a cookie's ACK implies (cookie_v4_check).
  const uint16_t window_mss =
      p.window_mss
          ? p.window_mss
          : static_cast<uint16_t>(c.adv_mss - (c.ts_ok ? wire::tcp_opt::LEN_TIMESTAMP_ALIGNED : 0));
  c.syn_window = initial_rcv_window(c.sys(), window_mss, c.opts.rcvbuf);
  c.snd_una = p.iss + 1;  // the ACK that completed the handshake acknowledged our SYN
  c.snd_nxt = c.snd_max = p.iss + 1;
  c.snd_wnd = c.max_window = p.snd_wnd;
  c.snd_wl1 = p.irs + 1;
  c.snd_wl2 = p.iss + 1;
  c.establish_common();
  c.set_state(TcpState::established);
  c.sync_timer();
}

void Connection::on_segment(Time now, const wire::TcpSegment& seg) {
  impl_->now = now;
  impl_->on_segment(seg);
  impl_->sync_timer();
}

void Connection::on_timer(Time now) {
  impl_->on_timer(now);
  impl_->sync_timer();
}

Time Connection::deadline() const {
  return impl_->earliest();
}

std::optional<uint32_t> Connection::time_wait_syn_isn(const wire::TcpSegment& seg) const {
  return impl_->time_wait_syn_isn(seg);
}

Result<size_t> Connection::send(Time now, std::span<const uint8_t> data) {
  Impl& c = *impl_;
  c.now = now;
  // Linux tcp_sendmsg: a pending error first (and cleared), then EPIPE.
  if (c.err != Errno::ok) return take_error();
  if (c.state == TcpState::syn_sent || c.state == TcpState::syn_received) {
    return c.wr_shut ? Errno::epipe : Errno::eagain;  // sk_stream_wait_connect, non-blocking
  }
  if ((c.state != TcpState::established && c.state != TcpState::close_wait) || c.wr_shut)
    return Errno::epipe;
  if (data.empty()) return size_t{0};
  const size_t n = c.snd_ring.append(data);
  if (n == 0) return Errno::eagain;
  c.output();
  c.sync_timer();
  return n;
}

Result<size_t> Connection::recv(Time now, std::span<uint8_t> buf) {
  Impl& c = *impl_;
  c.now = now;
  if (c.rcv_ring.size() > 0 && !buf.empty()) {
    const size_t n = c.rcv_ring.copy_out(0, buf);
    c.rcv_ring.consume(n);
    // Linux tcp_cleanup_rbuf: ACK at once if reading at least doubled the window.
    if (is_synchronized(c.state) && c.state != TcpState::time_wait && !c.fin_received) {
      const uint32_t cur = seq_gt(c.rcv_adv, c.rcv_nxt) ? c.rcv_adv - c.rcv_nxt : 0;
      const uint32_t could = c.window_available();
      const uint32_t sws = std::min<uint32_t>(c.rcv_space / 2, c.smss);
      if (could >= 2 * cur && could - cur >= sws) c.send_ack();
    }
    c.sync_timer();
    return n;
  }
  // Linux tcp_recvmsg order: EOF (FIN taken), pending error, shutdown, never connected.
  if (c.fin_received) return size_t{0};
  if (c.err != Errno::ok) return take_error();
  if (c.rd_shut || c.done) return size_t{0};
  if (c.state == TcpState::closed) return Errno::enotconn;
  return Errno::eagain;
}

size_t Connection::readable_bytes() const {
  return impl_->rcv_ring.size();
}

bool Connection::at_eof() const {
  return impl_->fin_received && impl_->rcv_ring.size() == 0;
}

size_t Connection::send_space() const {
  return impl_->snd_ring.free_space();
}

size_t Connection::send_queued() const {
  return impl_->snd_ring.size();
}

Errno Connection::shutdown_write(Time now) {
  Impl& c = *impl_;
  c.now = now;
  switch (c.state) {
    case TcpState::closed:
    case TcpState::listen:
      return Errno::enotconn;
    case TcpState::syn_sent:
      // Linux tcp_close_state: SYN-SENT → CLOSE, no FIN.
      c.set_state(TcpState::closed);
      break;
    default:
      c.queue_fin();
      break;
  }
  c.sync_timer();
  return Errno::ok;
}

void Connection::shutdown_read() {
  impl_->rd_shut = true;
}

void Connection::close(Time now) {
  Impl& c = *impl_;
  c.now = now;
  if (c.app_closed) return;
  c.app_closed = true;
  c.rd_shut = true;
  switch (c.state) {
    case TcpState::closed:
    case TcpState::listen:
      break;
    case TcpState::syn_sent:
      c.set_state(TcpState::closed);
      break;
    default:
      if (c.rcv_ring.size() > 0) {
        // RFC 2525 §2.17 / Linux tcp_close: unread data → RST, not FIN.
        c.count(Counter::TcpExt_TCPAbortOnClose);
        if (c.state != TcpState::time_wait) c.send_active_reset();
        c.set_state(TcpState::closed);
      } else if (c.opts.linger.on && c.opts.linger.seconds == 0) {
        // Linux tcp_close: zero linger → tcp_disconnect (RST if tcp_need_reset);
        // Linux counts this as TCPAbortOnData, not TCPAbortOnLinger (that one
        // is for TCP_LINGER2 < 0 in FIN-WAIT-2).
        c.count(Counter::TcpExt_TCPAbortOnData);
        switch (c.state) {
          case TcpState::established:
          case TcpState::close_wait:
          case TcpState::fin_wait_1:
          case TcpState::fin_wait_2:
          case TcpState::syn_received:
            c.send_active_reset();
            break;
          default:
            break;
        }
        c.set_state(TcpState::closed);
      } else if (c.state == TcpState::fin_wait_2) {
        c.arm_orphan_fin_wait_2();
      } else {
        c.queue_fin();
      }
      break;
  }
  c.sync_timer();
}

void Connection::abort(Time now, Errno error) {
  Impl& c = *impl_;
  c.now = now;
  if (is_synchronized(c.state) && c.state != TcpState::time_wait) c.send_active_reset();
  if (c.state != TcpState::closed) {
    if (error != Errno::ok) c.err = error;
    c.done = true;
    c.set_state(TcpState::closed);
  }
  c.sync_timer();
}

void Connection::set_nodelay(bool on) {
  impl_->opts.nodelay = on;
  // Linux pushes pending segments when TCP_NODELAY is set.
  if (on) {
    impl_->output();
    impl_->sync_timer();
  }
}

void Connection::set_user_mss(uint16_t mss) {
  impl_->opts.user_mss = mss;
  impl_->recompute_mss();
}

void Connection::set_syn_retries(int n) {
  impl_->opts.syn_retries = n;
}

ConnectionOptions& Connection::options() {
  return impl_->opts;
}
const ConnectionOptions& Connection::options() const {
  return impl_->opts;
}
TcpState Connection::state() const {
  return impl_->state;
}
const FourTuple& Connection::tuple() const {
  return impl_->tuple;
}
Errno Connection::error() const {
  return impl_->err;
}

Errno Connection::take_error() {
  const Errno e = impl_->err;
  impl_->err = Errno::ok;
  return e;
}

uint16_t Connection::mss() const {
  return impl_->smss;
}
bool Connection::closed_by_app() const {
  return impl_->app_closed;
}

TcpInfo Connection::info() const {
  const Impl& c = *impl_;
  TcpInfo i;
  i.state = c.state;
  i.snd_una = c.snd_una;
  i.snd_nxt = c.snd_nxt;
  i.rcv_nxt = c.rcv_nxt;
  i.snd_wnd = c.snd_wnd;
  i.rcv_wnd = seq_gt(c.rcv_adv, c.rcv_nxt) ? c.rcv_adv - c.rcv_nxt : 0;
  i.cwnd = c.cwnd;
  i.ssthresh = c.ssthresh;
  i.mss = c.smss;
  i.peer_mss = c.peer_mss;
  i.snd_wscale = c.snd_wscale;
  i.rcv_wscale = c.rcv_wscale;
  i.ts_ok = c.ts_ok;
  i.sack_ok = c.sack_ok;
  i.ws_ok = c.ws_ok;
  i.rto = c.current_rto();
  i.srtt = c.srtt;
  i.rttvar = c.rttvar;
  i.backoff = c.backoff;
  i.retransmits = c.retransmits;
  i.in_recovery = c.in_recovery;
  i.ooo_ranges = static_cast<uint32_t>(c.ooo.size());
  i.buffers_allocated = c.snd_ring.has_storage() || c.rcv_ring.has_storage();
  return i;
}

}  // namespace synq::tcp
