// One named builder for the TCP segments tests talk about, smoltcp-style:
//
//   peer.send(now, Seg().from(40001).to(80).syn().seq(0x1000).mss(1460));
//   expect(Seg().ack(kIss + 1).seq(kIrs + 1).win(502).payload("hi"));
//
// A test names each field it cares about, so a port never reads like a
// sequence number. The same value says what a fake peer sends (fields not
// stated take the sender's defaults) and what a test expects to be sent
// (fields not stated are not compared; every stated one is).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "wire/tcp_header.hpp"
#include "wire/wire.hpp"

namespace synq::test {

/// Fake peers' ports are 40000 and up; the ISNs tests choose (1000, 5000,
/// 90000, ...) stay outside [40000, 65535], so a number in a failure message
/// says whether it is a port or a sequence number.
inline constexpr uint16_t kPeerPort = 40000;

struct Seg {
  /// Which fields a test stated (the rest are defaults, never compared).
  enum Field : uint16_t {
    kSport = 1 << 0,
    kDport = 1 << 1,
    kSeq = 1 << 2,
    kAck = 1 << 3,
    kFlags = 1 << 4,
    kPsh = 1 << 5,  // PSH is compared only when stated (senders set it by heuristics)
    kWindow = 1 << 6,
    kOptions = 1 << 7,
    kPayload = 1 << 8,  // the bytes
    kLength = 1 << 9,   // only how many
  };

  wire::TcpHeader h;
  std::vector<uint8_t> data;
  size_t length = 0;
  uint16_t stated = 0;

  bool has(Field f) const { return (stated & f) != 0; }

  Seg& from(uint16_t port) { return set(kSport, h.sport, port); }
  Seg& to(uint16_t port) { return set(kDport, h.dport, port); }
  Seg& seq(uint32_t s) { return set(kSeq, h.seq, s); }
  /// Sets ACK and the acknowledgment number.
  Seg& ack(uint32_t a) {
    h.flags |= wire::tcp_flags::ACK;
    stated |= kFlags;
    return set(kAck, h.ack, a);
  }
  /// The control bits exactly (PSH aside, see kPsh): `flags(0)` states "none".
  Seg& flags(uint8_t f) {
    h.flags = f;
    stated |= kFlags;
    if (f & wire::tcp_flags::PSH) stated |= kPsh;
    return *this;
  }
  Seg& syn() { return flag(wire::tcp_flags::SYN); }
  Seg& fin() { return flag(wire::tcp_flags::FIN); }
  Seg& rst() { return flag(wire::tcp_flags::RST); }
  Seg& psh() {
    stated |= kPsh;
    return flag(wire::tcp_flags::PSH);
  }
  /// The ACK bit without stating the number (a SYN|ACK whose number a test
  /// cannot know, say).
  Seg& ack_flag() { return flag(wire::tcp_flags::ACK); }
  Seg& win(uint16_t w) { return set(kWindow, h.window, w); }

  Seg& mss(uint16_t m) {
    h.options.has_mss = true;
    h.options.mss = m;
    stated |= kOptions;
    return *this;
  }
  Seg& ws(uint8_t s) {
    h.options.has_wscale = true;
    h.options.wscale = s;
    stated |= kOptions;
    return *this;
  }
  Seg& sack_ok() {
    h.options.sack_permitted = true;
    stated |= kOptions;
    return *this;
  }
  Seg& ts(uint32_t val, uint32_t ecr) {
    h.options.has_timestamps = true;
    h.options.ts_val = val;
    h.options.ts_ecr = ecr;
    stated |= kOptions;
    return *this;
  }
  /// One more SACK block, in the order the test lists them.
  Seg& sack(uint32_t left, uint32_t right) {
    if (h.options.sack_count < h.options.sack.size())
      h.options.sack[h.options.sack_count++] = wire::SackBlock{left, right};
    stated |= kOptions;
    return *this;
  }
  /// All options at once; `options({})` states "no options".
  Seg& options(const wire::TcpOptions& o) { return set(kOptions, h.options, o); }

  Seg& payload(std::span<const uint8_t> bytes) {
    data.assign(bytes.begin(), bytes.end());
    length = data.size();
    stated |= kPayload | kLength;
    return *this;
  }
  Seg& payload(const std::string& s) {
    return payload(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  Seg& payload(size_t n, uint8_t fill = 'x') { return payload(std::vector<uint8_t>(n, fill)); }
  /// Only the payload's length (an expectation about bytes a test did not choose).
  Seg& len(size_t n) {
    length = n;
    stated |= kLength;
    return *this;
  }

 private:
  template <typename T, typename V>
  Seg& set(Field f, T& field, V v) {
    field = v;
    stated |= f;
    return *this;
  }
  Seg& flag(uint8_t f) {
    h.flags |= f;
    stated |= kFlags;
    return *this;
  }
};

inline std::string options_text(const wire::TcpOptions& o) {
  std::ostringstream s;
  s << "<";
  const char* sep = "";
  if (o.has_mss) s << sep << "mss " << o.mss, sep = ",";
  if (o.sack_permitted) s << sep << "sackOK", sep = ",";
  if (o.has_timestamps) s << sep << "TS val " << o.ts_val << " ecr " << o.ts_ecr, sep = ",";
  if (o.has_wscale) s << sep << "wscale " << int(o.wscale), sep = ",";
  for (uint8_t i = 0; i < o.sack_count; ++i)
    s << sep << "sack " << o.sack[i].left << ":" << o.sack[i].right, sep = ",";
  s << ">";
  return s.str();
}

/// A segment in one line, every field: what a failed comparison prints.
inline std::string segment_text(const wire::TcpHeader& h, size_t len) {
  std::ostringstream s;
  s << h.sport << ">" << h.dport << " [" << wire::tcp_flags_text(h.flags) << "] seq " << h.seq
    << " ack " << h.ack << " win " << h.window << " len " << len << " " << options_text(h.options);
  return s.str();
}

/// Every field `want` states, compared with a segment that was sent.
inline ::testing::AssertionResult same_segment(const wire::TcpHeader& got,
                                               std::span<const uint8_t> payload, const Seg& want) {
  std::ostringstream diff;
  auto differs = [&](const char* field, auto g, auto w) {
    if (g != w) diff << "\n  " << field << ": sent " << g << ", expected " << w;
  };
  if (want.has(Seg::kSport)) differs("source port", got.sport, want.h.sport);
  if (want.has(Seg::kDport)) differs("destination port", got.dport, want.h.dport);
  if (want.has(Seg::kFlags)) {
    const uint8_t mask = want.has(Seg::kPsh) ? 0xff : uint8_t(~wire::tcp_flags::PSH);
    differs("flags", wire::tcp_flags_text(got.flags & mask),
            wire::tcp_flags_text(want.h.flags & mask));
  }
  if (want.has(Seg::kSeq)) differs("seq", got.seq, want.h.seq);
  if (want.has(Seg::kAck)) differs("ack", got.ack, want.h.ack);
  if (want.has(Seg::kWindow)) differs("window", got.window, want.h.window);
  if (want.has(Seg::kOptions))
    differs("options", options_text(got.options), options_text(want.h.options));
  if (want.has(Seg::kLength)) differs("payload length", payload.size(), want.length);
  if (want.has(Seg::kPayload) && payload.size() == want.data.size() &&
      !std::equal(payload.begin(), payload.end(), want.data.begin()))
    diff << "\n  payload: other bytes of the same length";
  if (diff.str().empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "sent " << segment_text(got, payload.size()) << diff.str();
}

}  // namespace synq::test
