// Test applications for stacks in a SimNetwork: a seeded byte pattern, a
// bulk sender/receiver that checks every byte, and a TCP trace from a tap.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "drivers/sim/rng.hpp"
#include "drivers/sim/sim_network.hpp"
#include "synq/stack.hpp"
#include "wire/wire.hpp"

namespace synq::sim::testing {

/// Byte i of a stream named by `seed`: random-looking, cheap at any offset.
inline void fill_pattern(uint64_t seed, uint64_t offset, std::span<uint8_t> out) {
  uint64_t word_index = ~0ull, word = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t at = offset + i;
    if ((at >> 3) != word_index) {
      word_index = at >> 3;
      uint64_t s = seed ^ word_index * 0x9e3779b97f4a7c15ull;
      word = splitmix64(s);
    }
    out[i] = static_cast<uint8_t>(word >> ((at & 7) * 8));
  }
}

/// One side of a two-way bulk transfer on a connected stream socket: sends
/// `total` bytes of pattern `send_seed`, then shuts down writing; reads until
/// EOF, checking every byte against pattern `recv_seed`.
class BulkPeer {
 public:
  BulkPeer(uint64_t send_seed, uint64_t recv_seed, uint64_t total)
      : send_seed_(send_seed), recv_seed_(recv_seed), total_(total) {}

  void attach(int fd) { fd_ = fd; }
  int fd() const { return fd_; }

  void pump(Stack& s) {
    if (fd_ < 0) return;
    while (sent_ < total_) {
      // The chunk holds pattern bytes [chunk_at_, chunk_at_ + chunk_len_); refill
      // only once it is all sent, so a full send buffer costs nothing.
      if (sent_ >= chunk_at_ + chunk_len_) {
        chunk_at_ = sent_;
        chunk_len_ = static_cast<size_t>(std::min<uint64_t>(chunk_.size(), total_ - sent_));
        fill_pattern(send_seed_, chunk_at_, std::span(chunk_).first(chunk_len_));
      }
      const size_t from = static_cast<size_t>(sent_ - chunk_at_);
      auto r = s.send(fd_, std::span(chunk_).subspan(from, chunk_len_ - from));
      if (!r) {
        if (r.error() != Errno::eagain) errors_.push_back(r.error());
        break;
      }
      sent_ += *r;
    }
    if (sent_ == total_ && !shut_) {
      shut_ = true;
      const Errno e = s.shutdown(fd_, ShutdownHow::wr);
      if (e != Errno::ok) errors_.push_back(e);
    }
    while (!eof_) {
      auto r = s.recv(fd_, buf_);
      if (!r) {
        if (r.error() != Errno::eagain) errors_.push_back(r.error());
        break;
      }
      if (*r == 0) {
        eof_ = true;
        break;
      }
      fill_pattern(recv_seed_, received_, std::span(expect_).first(*r));
      if (!std::equal(buf_.begin(), buf_.begin() + *r, expect_.begin())) ++corrupt_reads_;
      received_ += *r;
    }
  }

  bool done() const { return shut_ && eof_; }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }
  uint64_t corrupt_reads() const { return corrupt_reads_; }
  bool eof() const { return eof_; }
  const std::vector<Errno>& errors() const { return errors_; }

 private:
  uint64_t send_seed_, recv_seed_, total_;
  int fd_ = -1;
  uint64_t sent_ = 0, received_ = 0, corrupt_reads_ = 0;
  uint64_t chunk_at_ = 0;
  size_t chunk_len_ = 0;
  bool shut_ = false, eof_ = false;
  std::vector<Errno> errors_;
  std::array<uint8_t, 65536> chunk_{}, buf_{}, expect_{};
};

/// One TCP segment seen on a link, tcpdump-like flags ("S", "S.", ".", "R.", "P.", "F.").
struct Seen {
  Time time;
  HostId from;
  std::string flags;
  uint32_t length;  // payload bytes
  friend bool operator==(const Seen&, const Seen&) = default;
};

inline std::string tcpdump_flags(uint8_t f) {
  std::string s;
  if (f & wire::tcp_flags::SYN) s += 'S';
  if (f & wire::tcp_flags::FIN) s += 'F';
  if (f & wire::tcp_flags::RST) s += 'R';
  if (f & wire::tcp_flags::PSH) s += 'P';
  if (f & wire::tcp_flags::ACK) s += '.';
  return s;
}

/// Records every TCP segment a link accepts (TapEvent::transmit), at its send time.
inline void record_tcp(SimNetwork& net, std::vector<Seen>& out) {
  net.set_tap([&out](const TapRecord& r) {
    if (r.event != TapEvent::transmit) return;
    const auto ip = wire::parse_ip(r.packet);
    if (!ip.ok() || ip.value().protocol != wire::ip_proto::TCP) return;
    const auto seg = wire::parse_tcp(ip.value());
    if (!seg.ok()) return;
    out.push_back({r.time, r.from, tcpdump_flags(seg.value().h.flags),
                   static_cast<uint32_t>(seg.value().payload.size())});
  });
}

}  // namespace synq::sim::testing
