// Writes IP packets to a pcapng file (the "PCAP Next Generation" format,
// draft-ietf-opsawg-pcapng), so that each packet can carry a comment: the
// simulator records the packets its links lost beside the ones they carried,
// each lost one marked, and tshark/Wireshark show the mark (frame.comment).
//
// One section, one interface: LINKTYPE_RAW (each record starts at the IP
// header, IPv4 and IPv6 alike), snap length kSnapLen, if_tsresol 9 — the
// timestamps are nanoseconds since the driver's epoch, so virtual time is
// kept exactly. Every field is written little-endian (the byte-order magic
// says so), so the same packets give the same bytes on every machine.
// Readers: tshark, Wireshark, tcpdump and libpcap ≥ 1.1 (whatever the file's
// extension).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synq/time.hpp"

namespace synq::pcap {

class PcapngWriter {
 public:
  static constexpr uint32_t kSnapLen = 65535;

  /// Creates (truncates) `path` and writes the section and interface
  /// headers. Returns null and sets `error` (if given) to "pcap: cannot open
  /// PATH: <errno text>" when the file cannot be created or written.
  static std::unique_ptr<PcapngWriter> open(const std::string& path, std::string* error = nullptr);

  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  /// Appends one packet stamped `t` (time since the driver's epoch, shown as
  /// 1970-01-01 00:00:00 plus `t`), with an optional comment (UTF-8).
  /// Packets longer than kSnapLen are truncated; the original length is kept.
  void write(Time t, std::span<const uint8_t> ip_packet, std::string_view comment = {});
  /// Pushes buffered records to the file.
  void flush();
  /// Flushes and closes; further writes are ignored. Also done by the destructor.
  void close();

  const std::string& path() const { return path_; }
  uint64_t packets_written() const { return packets_; }
  uint64_t comments_written() const { return comments_; }
  /// False once a write to the file failed (disk full...): the file is incomplete.
  bool ok() const { return ok_; }

 private:
  PcapngWriter(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  void put(const std::vector<uint8_t>& block);

  std::string path_;
  std::FILE* f_ = nullptr;
  std::vector<uint8_t> block_;  // reused for each packet block
  uint64_t packets_ = 0;
  uint64_t comments_ = 0;
  bool ok_ = true;
};

}  // namespace synq::pcap
