#include "drivers/pcap/pcapng_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace synq::pcap {

namespace {

// Block types and option codes (draft-ietf-opsawg-pcapng §4, §3.5).
constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescription = 0x00000001;
constexpr uint32_t kEnhancedPacket = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kLinktypeRaw = 101;  // LINKTYPE_RAW: the record starts at the IP header

void u16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
// Bodies and option values are padded to 32 bits.
void pad4(std::vector<uint8_t>& b) {
  while (b.size() % 4) b.push_back(0);
}
void option(std::vector<uint8_t>& b, uint16_t code, std::span<const uint8_t> value) {
  u16(b, code);
  u16(b, static_cast<uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  pad4(b);
}
void option(std::vector<uint8_t>& b, uint16_t code, std::string_view text) {
  option(b, code, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// Starts a block: type and a placeholder for its length.
void begin(std::vector<uint8_t>& b, uint32_t type) {
  b.clear();
  u32(b, type);
  u32(b, 0);
}
// Ends a block: the total length goes both after the type and at the end
// (so readers can walk the file backwards).
void end(std::vector<uint8_t>& b) {
  const auto total = static_cast<uint32_t>(b.size() + 4);
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<uint8_t>(total >> (8 * i));
  u32(b, total);
}

std::string io_error(const std::string& path) {
  return "pcap: cannot write " + path + ": " + std::strerror(errno);
}

}  // namespace

std::unique_ptr<PcapngWriter> PcapngWriter::open(const std::string& path, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    if (error) *error = "pcap: cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  auto w = std::unique_ptr<PcapngWriter>(new PcapngWriter(path, f));
  std::vector<uint8_t> b;
  begin(b, kSectionHeader);
  u32(b, kByteOrderMagic);
  u16(b, 1);           // major version
  u16(b, 0);           // minor version
  u32(b, 0xffffffff);  // section length: not given (64 bits of -1)
  u32(b, 0xffffffff);
  option(b, kShbUserAppl, "synq");
  option(b, kOptEnd, std::string_view());
  end(b);
  w->put(b);

  begin(b, kInterfaceDescription);
  u16(b, kLinktypeRaw);
  u16(b, 0);  // reserved
  u32(b, kSnapLen);
  const uint8_t nanoseconds = 9;  // if_tsresol: 10^-9 s per timestamp unit
  option(b, kIfTsresol, std::span(&nanoseconds, 1));
  option(b, kOptEnd, std::string_view());
  end(b);
  w->put(b);
  w->flush();
  if (!w->ok()) {
    if (error) *error = io_error(path);
    return nullptr;
  }
  return w;
}

PcapngWriter::~PcapngWriter() {
  close();
}

void PcapngWriter::put(const std::vector<uint8_t>& block) {
  if (f_ && std::fwrite(block.data(), 1, block.size(), f_) != block.size()) ok_ = false;
}

void PcapngWriter::write(Time t, std::span<const uint8_t> ip_packet, std::string_view comment) {
  if (!f_) return;
  const uint64_t ns = t.count() < 0 ? 0 : static_cast<uint64_t>(t.count());
  const auto caplen = static_cast<uint32_t>(std::min<size_t>(ip_packet.size(), kSnapLen));
  auto& b = block_;
  begin(b, kEnhancedPacket);
  u32(b, 0);  // interface 0, the only one
  u32(b, static_cast<uint32_t>(ns >> 32));
  u32(b, static_cast<uint32_t>(ns));
  u32(b, caplen);
  u32(b, static_cast<uint32_t>(ip_packet.size()));
  b.insert(b.end(), ip_packet.begin(), ip_packet.begin() + caplen);
  pad4(b);
  if (!comment.empty()) {
    // An option's length field is 16 bits; a longer comment is cut (at a
    // byte boundary: comments here are ours and short).
    option(b, kOptComment, comment.substr(0, 0xfff0));
    option(b, kOptEnd, std::string_view());
    ++comments_;
  }
  end(b);
  put(b);
  ++packets_;
}

void PcapngWriter::flush() {
  if (f_ && std::fflush(f_) != 0) ok_ = false;
}

void PcapngWriter::close() {
  if (!f_) return;
  flush();
  if (std::fclose(f_) != 0) ok_ = false;
  f_ = nullptr;
}

}  // namespace synq::pcap
