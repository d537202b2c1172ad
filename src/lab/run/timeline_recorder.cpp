// Packet, decision and snapshot lines of a lab run's timeline (timeline_recorder.hpp).
#include "lab/run/timeline_recorder.hpp"

#include "wire/wire.hpp"

namespace synq::lab {

void TimelineRecorder::on_tap(const sim::TapRecord& t) {
  if (t.event == sim::TapEvent::deliver) {
    note_delivery(t);
    return;
  }
  if (packet_lines_ >= w_.options.timeline_limit) return;
  if (w_.attacker && (t.from == w_.attacker_host || t.to == w_.attacker_host))
    return;  // a flood would drown the story
  auto ip = wire::parse_ip(t.packet);
  if (!ip.ok()) return;
  auto seg = wire::parse_tcp(ip.value(), false);
  if (!seg.ok()) return;
  ++packet_lines_;
  const bool from_client = t.from == w_.client;
  const wire::TcpHeader& h = seg.value().h;
  const Endpoint client_end =
      from_client ? Endpoint{ip.value().src, h.sport} : Endpoint{ip.value().dst, h.dport};
  TimelineEntry e;
  e.t = to_seconds(t.time);
  e.kind = TimelineEntry::Kind::packet;
  e.text = wire::format_tcp(ip.value(), seg.value());
  e.direction = from_client ? "client>server" : "server>client";
  e.lost = t.event != sim::TapEvent::transmit;
  e.sport = h.sport;
  e.dport = h.dport;
  e.flags = h.flags;
  e.seq = h.seq;
  e.ack = h.ack;
  e.len = static_cast<uint32_t>(seg.value().payload.size());
  e.client = directory_.client_at(client_end);
  if (!e.lost) undelivered_[from_client ? 0 : 1].push_back(timeline_.size());
  timeline_.push_back(std::move(e));
}

// Packet lines are stamped when sent; a ladder diagram also needs when each
// arrived. A link delivers in send order (no reordering), so the oldest
// recorded packet still in flight in that direction is this one — if its
// header matches (packets past the timeline limit were never recorded, and
// then nothing waits).
void TimelineRecorder::note_delivery(const sim::TapRecord& t) {
  const int dir = t.from == w_.client && t.to == w_.server   ? 0
                  : t.from == w_.server && t.to == w_.client ? 1
                                                             : -1;
  if (dir < 0 || undelivered_[dir].empty()) return;
  TimelineEntry& e = timeline_[undelivered_[dir].front()];
  // The checksum was right when the packet was sent; the link does not corrupt.
  auto ip = wire::parse_ip(t.packet);
  if (!ip.ok()) return;
  auto seg = wire::parse_tcp(ip.value(), false);
  if (!seg.ok()) return;
  const wire::TcpHeader& h = seg.value().h;
  if (e.seq != h.seq || e.sport != h.sport || e.flags != h.flags) return;
  e.t_delivered = to_seconds(t.time);
  undelivered_[dir].pop_front();
}

void TimelineRecorder::note_decision(const Decision& d) {
  if (!enabled() || (d.client < 0 && decision_lines_++ >= 50)) return;
  TimelineEntry te;
  te.t = d.t;
  te.kind = TimelineEntry::Kind::decision;
  te.text = fmt::format("listener: {} for {}: {}{}", d.decision, d.peer, d.reason,
                        d.counter.empty() ? "" : " [" + d.counter + "]");
  te.client = d.client;
  timeline_.push_back(std::move(te));
}

void TimelineRecorder::snapshot(const std::string& why) {
  if (!enabled()) return;
  std::string text = fmt::format("ss -lnt on the server ({}):\n", why);
  text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", "State", "Recv-Q", "Send-Q", "Local",
                      "Peer", "Model");
  size_t lines = 0;
  for (const auto& i : w_.server_stack().sockets()) {
    if (i.type != SockType::stream) continue;
    if (++lines > 40) {
      text += "  ...\n";
      break;
    }
    text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", tcp_state_name(i.state), i.recv_q,
                        i.send_q, i.local.to_string(),
                        i.state == TcpState::listen ? "*:*" : i.remote.to_string(), i.model);
  }
  note(TimelineEntry::Kind::snapshot, -1, "{}", text);
}

}  // namespace synq::lab
