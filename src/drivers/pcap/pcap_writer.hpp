// Writes IP packets to a pcap file with timestamps from (virtual) time.
//
// The link type is LINKTYPE_RAW (DLT_RAW): each record starts at the IP
// header, so IPv4 and IPv6 packets share one file and no fake Ethernet header
// is needed. Timestamps are nanoseconds by default (the nanosecond pcap
// magic, read by tcpdump, tshark and libpcap ≥ 1.5), so virtual time is kept
// exactly; microsecond files are available for older readers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "synq/time.hpp"

namespace synq::pcap {

enum class TimestampPrecision : uint8_t { micro, nano };

class PcapWriter {
 public:
  static constexpr int kSnapLen = 65535;

  /// Creates (truncates) `path`. Returns null and sets `error` (if given) to a
  /// message naming the file and the reason when the file cannot be opened.
  static std::unique_ptr<PcapWriter> open(const std::string& path, std::string* error = nullptr,
                                          TimestampPrecision precision = TimestampPrecision::nano);

  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  /// Appends one packet stamped `t` (time since the driver's epoch, which the
  /// file shows as 1970-01-01 00:00:00 plus `t`). Packets longer than
  /// kSnapLen are truncated in the file; the original length is recorded.
  void write(Time t, std::span<const uint8_t> ip_packet);
  /// Pushes buffered records to the file.
  void flush();
  /// Flushes and closes; further writes are ignored. Also done by the destructor.
  void close();

  const std::string& path() const { return path_; }
  uint64_t packets_written() const { return packets_; }

 private:
  struct Handles;
  PcapWriter(std::string path, std::unique_ptr<Handles> h, TimestampPrecision precision);

  std::string path_;
  std::unique_ptr<Handles> h_;
  TimestampPrecision precision_;
  uint64_t packets_ = 0;
};

}  // namespace synq::pcap
