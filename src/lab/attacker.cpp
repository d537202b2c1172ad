#include "lab/attacker.hpp"

#include <algorithm>

#include "wire/wire.hpp"

namespace synq::lab {

SynFloodNode::SynFloodNode(std::vector<IpAddr> sources, Endpoint target, double rate, Time start,
                           Time stop)
    : sources_(std::move(sources)),
      target_(target),
      gap_(std::max(Duration(1), from_seconds(1.0 / rate))),
      next_(start),
      stop_(stop),
      buf_(128) {}

void SynFloodNode::advance(Time now) {
  while (next_ <= now && next_ < stop_) {
    ++pending_;
    next_ += gap_;
  }
}

void SynFloodNode::drain_output(const sim::PacketSink& sink) {
  for (; pending_ > 0; --pending_, ++sent_) {
    // A different source port and ISN per SYN, like flood tools: every SYN
    // is a new request for the listener.
    wire::TcpHeader h;
    h.sport = static_cast<uint16_t>(1024 + (sent_ * 7919) % 64000);
    h.dport = target_.port;
    h.seq = static_cast<uint32_t>(sent_ * 2654435761u);
    h.flags = wire::tcp_flags::SYN;
    h.window = 64240;
    h.options.has_mss = true;
    h.options.mss = 1460;
    const IpAddr& src = sources_[sent_ % sources_.size()];
    const size_t n = wire::build_tcp(buf_, src, target_.addr, h, {});
    sink(std::span<const uint8_t>(buf_.data(), n));
  }
}

}  // namespace synq::lab
