#include "drivers/pcap/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <utility>

namespace synq::pcap {

// Both libpcap handles of one open file: the "dead" capture handle fixes the
// link type and snap length, the dumper is the file itself.
struct PcapWriter::Handles {
  pcap_t* dead = nullptr;
  pcap_dumper_t* dumper = nullptr;

  ~Handles() {
    if (dumper) pcap_dump_close(dumper);
    if (dead) pcap_close(dead);
  }
};

std::unique_ptr<PcapWriter> PcapWriter::open(const std::string& path, std::string* error,
                                             TimestampPrecision precision) {
  auto h = std::make_unique<Handles>();
  const unsigned libpcap_precision = precision == TimestampPrecision::nano
                                         ? PCAP_TSTAMP_PRECISION_NANO
                                         : PCAP_TSTAMP_PRECISION_MICRO;
  h->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, kSnapLen, libpcap_precision);
  if (!h->dead) {
    if (error) *error = "pcap: cannot create a capture handle for " + path;
    return nullptr;
  }
  h->dumper = pcap_dump_open(h->dead, path.c_str());
  if (!h->dumper) {
    if (error) *error = "pcap: cannot open " + path + ": " + pcap_geterr(h->dead);
    return nullptr;
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(path, std::move(h), precision));
}

PcapWriter::PcapWriter(std::string path, std::unique_ptr<Handles> h, TimestampPrecision precision)
    : path_(std::move(path)), h_(std::move(h)), precision_(precision) {}

PcapWriter::~PcapWriter() {
  close();
}

void PcapWriter::write(Time t, std::span<const uint8_t> ip_packet) {
  if (!h_) return;
  const auto ns = t.count() < 0 ? 0 : static_cast<uint64_t>(t.count());
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
  // With the nanosecond magic libpcap stores the tv_usec field as nanoseconds.
  const uint64_t frac = ns % 1'000'000'000u;
  hdr.ts.tv_usec =
      static_cast<suseconds_t>(precision_ == TimestampPrecision::nano ? frac : frac / 1000u);
  hdr.len = static_cast<bpf_u_int32>(ip_packet.size());
  hdr.caplen = static_cast<bpf_u_int32>(std::min<size_t>(ip_packet.size(), kSnapLen));
  pcap_dump(reinterpret_cast<u_char*>(h_->dumper), &hdr, ip_packet.data());
  ++packets_;
}

void PcapWriter::flush() {
  if (h_) pcap_dump_flush(h_->dumper);
}

void PcapWriter::close() {
  if (!h_) return;
  pcap_dump_flush(h_->dumper);
  h_.reset();
}

}  // namespace synq::pcap
