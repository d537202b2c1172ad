#include "listen/passive_open.hpp"

#include <algorithm>

#include "listen/backlog_model.hpp"
#include "stack/dcheck.hpp"
#include "tcp/rto.hpp"
#include "tcp/segment_builder.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::SYN;

Duration synack_timeout(unsigned n) {
  // TCP_TIMEOUT_INIT doubled per firing, capped at TCP_RTO_MAX (Linux
  // reqsk_timeout). The cap is reached long before the shift could overflow.
  return tcp::backed_off(tcp::kInitialRto, static_cast<int>(std::min(n, 64u)));
}

namespace {

// The window field of our SYN-ACK: never scaled (RFC 7323 §2.2). Linux
// tcp_openreq_init_rwin rounds it to the MSS less the timestamp option.
uint16_t synack_window(const Sysctls& s, uint16_t mss, bool ts_ok, int rcvbuf) {
  const uint16_t seg =
      static_cast<uint16_t>(mss - (ts_ok ? wire::tcp_opt::LEN_TIMESTAMP_ALIGNED : 0));
  return static_cast<uint16_t>(
      std::min(tcp::initial_rcv_window(s, seg, rcvbuf), tcp::kMaxWindowField));
}

}  // namespace

// ------------------------------------------------------------------ dispatch

void PassiveOpener::on_listener_segment(Listener& l, const FourTuple& t,
                                        const wire::TcpSegment& seg,
                                        std::optional<uint32_t> time_wait_isn) {
  l.model().on_listener_segment(*this, l, t, seg, time_wait_isn);
}

void PassiveOpener::on_request_segment(Listener& l, uint32_t req, const wire::TcpSegment& seg) {
  l.model().on_request_segment(*this, l, req, seg);
}

void PassiveOpener::on_request_timer(Listener& l, uint32_t req) {
  l.model().on_request_timer(*this, l, req);
}

void PassiveOpener::close_listener(Listener& l) {
  l.model().on_listener_close(*this, l);
}

void PassiveOpener::drop_all_requests(Listener& l) {
  // passive-open.md §2 "Closing a listener": requests vanish; their later ACKs find no
  // socket and get a RST.
  while (l.first_request() != kNoRequest) remove_request(l, l.first_request());
}

// ------------------------------------------------------------------ toolkit

int PassiveOpener::synack_retries(const Listener& l) const {
  int n = host_.listener_options(l.fd()).synack_retries;
  return n > 0 ? n : host_.sysctls().tcp_synack_retries;
}

void PassiveOpener::negotiate(Request& r, const Listener& l, const FourTuple& t,
                              const wire::TcpSegment& syn) {
  const Sysctls& s = host_.sysctls();
  const ListenerOptions lo = host_.listener_options(l.fd());
  const wire::TcpOptions& o = syn.h.options;
  r.tuple = t;
  r.listener_fd = l.fd();
  r.irs = syn.h.seq;
  r.iss = host_.isn(t);
  r.ts_offset = host_.ts_offset(t);
  r.peer_mss = o.has_mss ? o.mss : l.model().default_peer_mss(t.local.addr.version);
  r.wscale_ok = s.tcp_window_scaling && o.has_wscale;
  r.snd_wscale = r.wscale_ok ? std::min(o.wscale, tcp::kMaxWscale) : 0;
  r.sack_ok = s.tcp_sack && o.sack_permitted;
  r.ts_ok = s.tcp_timestamps && o.has_timestamps;
  r.ts_recent = o.ts_val;
  r.our_mss = host_.path_mss(t);
  if (lo.user_mss && lo.user_mss < r.our_mss) r.our_mss = lo.user_mss;
  r.window = synack_window(s, r.our_mss, r.ts_ok, lo.rcvbuf);
}

uint32_t PassiveOpener::new_request(Listener& l, const FourTuple& t, const wire::TcpSegment& syn) {
  uint32_t idx = requests_.create(t, l.fd());
  negotiate(requests_.at(idx), l, t, syn);
  l.syn_queue_add(requests_, idx);
  send_synack(requests_.at(idx));
  return idx;
}

uint32_t PassiveOpener::new_request_with_iss(Listener& l, const FourTuple& t,
                                             const wire::TcpSegment& syn, uint32_t iss) {
  uint32_t idx = requests_.create(t, l.fd());
  negotiate(requests_.at(idx), l, t, syn);
  requests_.at(idx).iss = iss;
  l.syn_queue_add(requests_, idx);
  send_synack(requests_.at(idx));
  return idx;
}

void PassiveOpener::send_synack(const Request& r) {
  const Sysctls& s = host_.sysctls();
  wire::TcpOptions peer{};
  peer.has_mss = true;
  peer.mss = r.peer_mss;
  peer.has_wscale = r.wscale_ok;
  peer.wscale = r.snd_wscale;
  peer.sack_permitted = r.sack_ok;
  peer.has_timestamps = r.ts_ok;
  peer.ts_val = r.ts_recent;
  const wire::TcpOptions o =
      tcp::make_syn_options(s, r.our_mss, r.wscale_ok ? tcp::our_wscale(s) : 0,
                            tcp::ts_clock(host_.now(), r.ts_offset), &peer);
  host_.send_segment(r.tuple, tcp::syn_ack(r.tuple, r.iss, r.irs + 1, r.window, o), {});
}

void PassiveOpener::send_request_ack(const Request& r) {
  wire::TcpHeader h = tcp::bare_ack(r.tuple, r.iss + 1, r.irs + 1, r.window);
  if (r.ts_ok) tcp::set_timestamps(h.options, tcp::ts_clock(host_.now(), r.ts_offset), r.ts_recent);
  host_.send_segment(r.tuple, h, {});
}

void PassiveOpener::send_request_reset(const Request& r) {
  // tcp_drop() sets CLOSED and calls tcp_output(): tcp_outflags[CLOSED] is
  // RST|ACK, seq snd_max (ISS+1: the SYN was sent), ack rcv_nxt (IRS+1). BSD
  // tcp_output adds no timestamp to a RST, and the window it carries is the
  // receive window.
  wire::TcpHeader h = tcp::active_reset(r.tuple, r.iss + 1, r.irs + 1);
  h.window = r.window;
  counters().inc(Counter::Tcp_OutRsts);
  host_.send_segment(r.tuple, h, {});
}

void PassiveOpener::arm_timer(uint32_t req, Time deadline) {
  Request& r = requests_.at(req);
  r.deadline = deadline;
  host_.request_timer_changed(req, r.generation, deadline);
}

void PassiveOpener::remove_request(Listener& l, uint32_t req) {
  l.model().on_request_removed(req, requests_.at(req));
  l.syn_queue_remove(requests_, req);
  requests_.destroy(req);
}

void PassiveOpener::complete(Listener& l, uint32_t req, const wire::TcpSegment& ack) {
  const Sysctls& s = host_.sysctls();
  const Request& r = requests_.at(req);
  tcp::PassiveOpen p;
  p.iss = r.iss;
  p.irs = r.irs;
  p.peer_mss = r.peer_mss;
  p.wscale_ok = r.wscale_ok;
  p.snd_wscale = r.wscale_ok ? r.snd_wscale : 0;
  p.rcv_wscale = r.wscale_ok ? tcp::our_wscale(s) : 0;
  p.sack_ok = r.sack_ok;
  p.ts_ok = r.ts_ok;
  p.ts_recent = r.ts_recent;
  p.ts_offset = r.ts_offset;
  p.snd_wnd = static_cast<uint32_t>(ack.h.window) << p.snd_wscale;
  const FourTuple t = r.tuple;
  remove_request(l, req);
  complete_without_request(l, t, p, ack);
}

void PassiveOpener::complete_without_request(Listener& l, const FourTuple& t,
                                             const tcp::PassiveOpen& p,
                                             const wire::TcpSegment& ack) {
  uint32_t child = host_.create_child(l, t, p);
  record(l, t, ack.h.flags, ListenDecision::complete, ListenReason::handshake_complete);
  // The ACK may carry data (or a FIN): the child processes it as its first segment.
  host_.deliver_to_child(child, ack);
}

void PassiveOpener::record(const Listener& l, const FourTuple& t, uint8_t tcp_flags,
                           ListenDecision d, ListenReason r, std::string_view kernel_log) {
  const ListenReasonInfo& info = listen_reason_info(r);
  for (Counter c : info.counters()) host_.counters().inc(c);
  if (!host_.tracing()) return;
  ListenEvent e;
  e.time = host_.now();
  e.listener_fd = l.fd();
  e.tuple = t;
  e.tcp_flags = tcp_flags;
  e.decision = d;
  e.reason = r;
  if (!info.counters().empty()) e.counter = info.counters().front();
  e.model = l.model().name();
  e.log = kernel_log;
  host_.trace(e);
}

}  // namespace synq::listen
