// Connection::Impl — one connection's complete state (fixed size; the two
// byte rings allocate their storage once, on first use) and the engine's
// internal operations. Split by concern over several .cpp files:
//   connection.cpp  application calls (send/recv/close/...), opens, state changes
//   input.cpp       segment arrival, RFC 9293 §3.10.7 in Linux's order
//   output.cpp      building and sending segments, windows, ACK policy
//   timers.cpp      RTO (RFC 6298), SYN retries, persist, delayed ACK, TIME-WAIT
//   congestion.cpp  slow start / congestion avoidance / NewReno (RFC 5681, 6582)
#pragma once

#include <cstdint>
#include <memory>

#include "tcp/byte_ring.hpp"
#include "tcp/connection.hpp"
#include "tcp/ooo_ranges.hpp"
#include "tcp/rto.hpp"
#include "tcp/segment_builder.hpp"
#include "tcp/seq.hpp"
#include "tcp/tcp_limits.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::tcp {

struct Connection::Impl {
  Impl(Connection& self, ConnectionHost& host, const FourTuple& tuple,
       const ConnectionOptions& opts);

  // ------------------------------------------------------------ environment
  Connection& self;
  ConnectionHost& host;
  FourTuple tuple;
  ConnectionOptions opts;
  Time now{};  // time of the current entry point
  const Sysctls& sys() const { return host.sysctls(); }
  void count(Counter c) { host.counters().inc(c); }

  // ------------------------------------------------------------ state
  TcpState state = TcpState::closed;
  Errno err = Errno::ok;
  bool app_closed = false;    // close() was called: the connection is an orphan
  bool rd_shut = false;       // RCV_SHUTDOWN: shutdown(SHUT_RD) or close()
  bool wr_shut = false;       // a FIN follows the queued data
  bool fin_received = false;  // the peer's FIN was taken in order
  bool done = false;          // ended by reset/timeout/abort (Linux: sk_shutdown = SHUTDOWN_MASK)
  bool ooo_fin = false;       // a FIN arrived beyond a hole
  bool tw_counted = false;    // TcpExt.TW already counted for this connection
  uint32_t ooo_fin_seq = 0;

  // ------------------------------------------------------------ send side (RFC 9293 §3.3.1)
  uint32_t iss = 0;
  uint32_t snd_una = 0;
  uint32_t snd_nxt = 0;
  uint32_t snd_max = 0;  // one past the highest sequence number ever sent
  uint32_t snd_wnd = 0;  // scaled
  uint32_t snd_wl1 = 0;
  uint32_t snd_wl2 = 0;
  uint32_t max_window = 0;   // largest window the peer offered (RFC 5961 §5.2, SWS)
  uint32_t snd_buf_seq = 0;  // sequence number of snd_ring's first byte
  uint32_t snd_sml = 0;      // end of the last small segment sent (Minshall's Nagle)
  ByteRing snd_ring;
  std::unique_ptr<uint8_t[]> scratch;  // one segment's payload when the ring wraps
  size_t scratch_len = 0;

  // ------------------------------------------------------------ receive side
  uint32_t irs = 0;
  uint32_t rcv_nxt = 0;
  uint32_t rcv_wup =
      0;  // rcv_nxt when we last sent a window (Linux rcv_wup; RFC 7323 Last.ACK.sent)
  uint32_t rcv_adv = 0;       // right edge of the window we advertised
  uint32_t rcv_space = 0;     // receive buffer payload capacity (the most we ever advertise)
  uint32_t rcv_ssthresh = 0;  // window growth clamp, as Linux's rcv_ssthresh
  uint32_t rcv_mss = kDefaultPeerMss;  // estimate of the peer's segment size (delayed ACK)
  // Linux's quick-ACK mode (icsk_ack): ACK data at once while `quick` > 0,
  // unless the connection is interactive (pingpong), where ACKs wait to ride
  // on the reply.
  uint8_t quick = 0;        // quick ACKs left
  bool ato_set = false;     // data was received before (Linux: icsk_ack.ato != 0)
  bool pingpong = false;    // replies follow requests within the delayed-ACK time
  Time lrcvtime{};          // when data last arrived
  uint32_t syn_window = 0;  // the unscaled window we put in our SYN/SYN-ACK
  ByteRing rcv_ring;        // readable bytes, then out-of-order bytes at their offsets
  OooRanges ooo;

  // ------------------------------------------------------------ options
  bool offered_ts = false, offered_ws = false, offered_sack = false;
  bool ts_ok = false, ws_ok = false, sack_ok = false;
  uint8_t snd_wscale = 0;  // applied to windows the peer sends
  uint8_t rcv_wscale = 0;  // applied to windows we send
  uint16_t peer_mss = kDefaultPeerMss;
  uint16_t adv_mss = 0;             // the MSS we announce
  uint16_t smss = kDefaultPeerMss;  // payload bytes per segment we send
  uint32_t ts_offset = 0;
  uint32_t ts_recent = 0;
  Time ts_recent_stamp{};
  bool ts_recent_valid = false;
  uint32_t syn_tsval = 0;  // TSval of our first SYN (Linux PAWSActive check)

  // ------------------------------------------------------------ RTO (RFC 6298)
  Duration srtt{};
  Duration rttvar{};
  Duration rto = kInitialRto;
  bool have_rtt = false;
  int backoff = 0;      // exponential backoff shift of the running timer
  int retransmits = 0;  // timeouts of the same data (Linux icsk_retransmits)
  int syn_retry_limit = 0;
  int syn_linear_timeouts =
      0;                 // SYN-SENT: retransmissions before backoff (tcp_syn_linear_timeouts)
  Time retrans_stamp{};  // when the data now retransmitted was first sent (approximation: timer
                         // start)
  Time rtx_start{};      // when the retransmission timer was last started fresh
  Time syn_time{};       // when our first SYN was sent
  bool timing = false;   // a segment is being timed (no timestamps)
  uint32_t rtt_seq = 0;
  Time rtt_time{};

  // ------------------------------------------------------------ congestion control
  uint32_t cwnd = 0;
  uint32_t ssthresh = UINT32_MAX;
  uint32_t ca_acked = 0;  // bytes acked toward the next congestion-avoidance increase
  uint32_t recover = 0;   // RFC 6582 "recover"
  int dupacks = 0;
  bool in_recovery = false;  // NewReno fast recovery
  bool in_loss = false;      // after an RTO until snd_max at that time is acked
  uint32_t loss_recover = 0;
  bool loss_head_pending = false;  // next go-back-N segment is the timer's own retransmission

  // ------------------------------------------------------------ timers
  Time t_rtx = kNever;      // retransmission (SYN, SYN-ACK, data, FIN)
  Time t_persist = kNever;  // zero-window probe
  Time t_delack = kNever;   // delayed ACK
  Time t_close = kNever;    // TIME-WAIT end, or orphan FIN-WAIT-2 timeout
  int probes = 0;
  Time reported_deadline = kNever;

  // ------------------------------------------------------------ rate limits (RFC 5961 §7, Linux)
  bool have_oow = false;
  Time last_oow_ack{};
  Time challenge_window_start{};
  uint32_t challenge_count = 0;

  // ------------------------------------------------------------ connection.cpp
  void set_state(TcpState to);
  void finish(Errno e);  // Linux tcp_done: error, CLOSED
  void establish_common();
  void queue_fin();  // close() / shutdown(SHUT_WR): ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK
  void recompute_mss();
  void size_buffers();
  void sync_timer();
  Time earliest() const;

  // ------------------------------------------------------------ input.cpp
  void on_segment(const wire::TcpSegment& seg);
  void on_syn_sent(const wire::TcpSegment& seg);
  void on_synchronized(const wire::TcpSegment& seg);
  void on_time_wait(const wire::TcpSegment& seg);
  void negotiate_from_syn(const wire::TcpOptions& o);
  bool seq_acceptable(uint32_t seq, uint32_t len) const;
  bool paws_rejects(const wire::TcpHeader& h) const;
  void maybe_update_ts_recent(const wire::TcpHeader& h);
  bool process_ack(const wire::TcpSegment& seg);  // false: stop processing the segment
  void on_new_ack(const wire::TcpSegment& seg);
  void process_text(const wire::TcpSegment& seg);
  /// The part of a segment that occupies receive sequence space.
  struct SegmentText {
    uint32_t seq;                   // first byte (after a SYN's slot)
    std::span<const uint8_t> data;  // payload still to take
    bool fin;                       // a FIN follows the data
  };
  bool trim_received(SegmentText& t);       // false: a complete duplicate, ACKed
  void queue_out_of_order(SegmentText& t);  // may shorten t
  void deliver_in_order(SegmentText& t);    // may shorten t
  /// How the handshake's RTT is sampled when our SYN is acknowledged.
  enum class HandshakeRtt : uint8_t {
    tsecr_or_timer,  // SYN-SENT: the SYN-ACK's TSecr if any, else the SYN's send time
    timer_only,      // SYN-RECEIVED: from the SYN-ACK timer's last fresh start
  };
  /// Our SYN (or SYN-ACK) is acknowledged by `h`: SND.UNA, SND.WL1/WL2, the
  /// RTT sample, the SYN timer and its backoff (RFC 9293 §3.10.7.3/§3.10.7.4).
  void our_syn_acked(const wire::TcpHeader& h, Time timed_from, HandshakeRtt rtt);
  void take_fin();
  void on_reset();
  void enter_time_wait();
  void arm_orphan_fin_wait_2();
  std::optional<uint32_t> time_wait_syn_isn(const wire::TcpSegment& seg) const;

  // ------------------------------------------------------------ output.cpp
  uint32_t data_end() const { return snd_buf_seq + static_cast<uint32_t>(snd_ring.size()); }
  uint32_t fin_seq() const { return data_end(); }  // meaningful once wr_shut
  bool fin_acked() const { return wr_shut && seq_gt(snd_una, fin_seq()); }
  bool can_send_data() const;
  void output();
  void send_data(uint32_t seq, uint32_t len, bool fin);
  bool retransmit_head();
  void send_syn();
  void send_synack();
  void send_ack();
  /// A segment with only ACK set at `seq`, our window and timestamps (and SACK blocks if asked).
  void send_bare_ack(uint32_t seq, bool with_sack);
  void send_probe();
  void send_active_reset();
  void send_reset_reply(const wire::TcpSegment& seg);  // nothing for a RST
  void send_dupack(const wire::TcpSegment& seg, Counter skipped);
  void send_challenge_ack();
  void syn_challenge();
  bool oow_rate_limited();
  void schedule_ack(bool immediate);
  void incr_quickack(unsigned max_quickacks);
  void on_data_received();
  bool in_quickack_mode() const { return quick > 0 && !pingpong; }
  uint16_t select_window();
  uint32_t window_available() const;
  void fill_options(wire::TcpOptions& o, bool with_sack) const;
  void emit(const wire::TcpHeader& h, std::span<const uint8_t> payload);

  // ------------------------------------------------------------ timers.cpp
  void on_timer(Time t);
  void on_rtx_timer();
  void on_syn_timer();
  bool syn_timed_out() const;
  void on_persist_timer();
  void on_delack_timer();
  void on_close_timer();
  void rtt_sample(Duration r);
  Duration current_rto() const;
  void restart_rtx();
  void arm_persist();
  bool data_write_timed_out() const;

  // ------------------------------------------------------------ congestion.cpp
  void cc_on_ack(uint32_t acked);
  void cc_on_dupack();
  void cc_enter_recovery();
  void cc_on_timeout();
};

}  // namespace synq::tcp
