// The one place TCP headers are put together: every segment synq sends (the
// engine's, a listener's request's, the stack's reply for no connection)
// starts from one of these. They hold no connection state; the caller passes
// sequence numbers, the window and options.
#pragma once

#include <cstdint>

#include "synq/address.hpp"
#include "wire/tcp_header.hpp"

namespace synq::tcp {

/// A header from t.local to t.remote: the ports filled, everything else zero.
inline wire::TcpHeader header_for(const FourTuple& t) {
  wire::TcpHeader h;
  h.sport = t.local.port;
  h.dport = t.remote.port;
  return h;
}

/// RFC 9293 §3.10.7.2/§3.10.7.3: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. The
/// window is the raw field (a SYN-ACK's is never scaled, RFC 7323 §2.2).
inline wire::TcpHeader syn_ack(const FourTuple& t, uint32_t iss, uint32_t rcv_nxt, uint16_t window,
                               const wire::TcpOptions& options) {
  wire::TcpHeader h = header_for(t);
  h.seq = iss;
  h.ack = rcv_nxt;
  h.flags = wire::tcp_flags::SYN | wire::tcp_flags::ACK;
  h.window = window;
  h.options = options;
  return h;
}

/// A segment with only ACK set: <SEQ=seq><ACK=ack><CTL=ACK>, no options (the
/// caller adds timestamps or SACK blocks).
inline wire::TcpHeader bare_ack(const FourTuple& t, uint32_t seq, uint32_t ack, uint16_t window) {
  wire::TcpHeader h = header_for(t);
  h.seq = seq;
  h.ack = ack;
  h.flags = wire::tcp_flags::ACK;
  h.window = window;
  return h;
}

/// RFC 9293 §3.10.7.1 (and §3.10.7.3/§3.10.7.4 for an unacceptable ACK): the
/// RST answering `seg`. If SEG carried ACK, <SEQ=SEG.ACK><CTL=RST>; else
/// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Window 0, no options. The
/// caller makes sure `seg` is not itself a RST (a RST is never answered).
inline wire::TcpHeader reset_reply(const FourTuple& t, const wire::TcpSegment& seg) {
  wire::TcpHeader h = header_for(t);
  if (seg.h.has(wire::tcp_flags::ACK)) {
    h.seq = seg.h.ack;
    h.flags = wire::tcp_flags::RST;
  } else {
    h.ack = seg.h.seq + seg.seg_len();
    h.flags = wire::tcp_flags::RST | wire::tcp_flags::ACK;
  }
  return h;
}

/// A RST we decide to send on our own (abort, close with unread data; Linux
/// tcp_send_active_reset): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, window 0.
inline wire::TcpHeader active_reset(const FourTuple& t, uint32_t snd_nxt, uint32_t rcv_nxt) {
  wire::TcpHeader h = header_for(t);
  h.seq = snd_nxt;
  h.ack = rcv_nxt;
  h.flags = wire::tcp_flags::RST | wire::tcp_flags::ACK;
  return h;
}

/// RFC 7323 §3: the timestamps option, TSval and TSecr.
inline void set_timestamps(wire::TcpOptions& o, uint32_t ts_val, uint32_t ts_ecr) {
  o.has_timestamps = true;
  o.ts_val = ts_val;
  o.ts_ecr = ts_ecr;
}

}  // namespace synq::tcp
