// PcapngWriter: files checked block by block (drivers_pcapng_reader.hpp) and
// read back through libpcap, an independent reader: bytes, nanosecond
// timestamps, comments, truncation, and errors that name the file.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "drivers/pcap/pcapng_writer.hpp"
#include "drivers_pcapng_reader.hpp"
#include "drivers_test_support.hpp"

namespace synq::pcap {
namespace {

using sim::testing::ipv4_packet;
using sim::testing::ipv6_packet;
using sim::testing::temp_path;
using testing::NgPacket;
using testing::read_pcapng;

const IpAddr kA = IpAddr::v4(10, 0, 0, 1);
const IpAddr kB = IpAddr::v4(10, 0, 0, 2);

TEST(PcapngWriter, BlocksCarryBytesNanosecondsAndComments) {
  const std::string path = temp_path("synq_pcapng_roundtrip.pcap");
  const auto v4 = ipv4_packet(kA, kB, 1, 61);  // not a multiple of 4: padded
  const auto v6 = ipv6_packet(*IpAddr::parse("2001:db8::1"), *IpAddr::parse("2001:db8::2"), 2);
  {
    std::string error;
    auto w = PcapngWriter::open(path, &error);
    ASSERT_TRUE(w) << error;
    w->write(0ns, v4);
    w->write(1s + 123456789ns, v6, "lost by the link (a>b)");
    // Past 2^32 ns: the timestamp's high word is used.
    w->write(3600s + 1ns, v4, "µ: UTF-8 kept");
    EXPECT_EQ(w->packets_written(), 3u);
    EXPECT_EQ(w->comments_written(), 2u);
    EXPECT_TRUE(w->ok());
  }
  const auto f = read_pcapng(path);
  ASSERT_TRUE(f.valid);
  EXPECT_EQ(f.linktype, 101);  // LINKTYPE_RAW
  EXPECT_EQ(f.snaplen, PcapngWriter::kSnapLen);
  EXPECT_EQ(f.tsresol, 9);
  EXPECT_EQ(f.packets, (std::vector<NgPacket>{{0ns, 61, v4, ""},
                                              {1s + 123456789ns, 41, v6, "lost by the link (a>b)"},
                                              {3600s + 1ns, 61, v4, "µ: UTF-8 kept"}}));
}

TEST(PcapngWriter, LibpcapReadsTheSameTimestampsAndBytes) {
  const std::string path = temp_path("synq_pcapng_libpcap.pcap");
  const auto v4 = ipv4_packet(kA, kB, 7, 52);
  {
    auto w = PcapngWriter::open(path);
    ASSERT_TRUE(w);
    w->write(2s + 345678999ns, v4, "a comment libpcap skips");
    w->write(5000s + 7ns, v4);
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_RAW);
  std::vector<Time> times;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    times.push_back(Time(int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec));
    EXPECT_EQ(std::vector<uint8_t>(data, data + h->caplen), v4);
  }
  pcap_close(p);
  EXPECT_EQ(times, (std::vector<Time>{2s + 345678999ns, 5000s + 7ns}));
}

TEST(PcapngWriter, OversizedPacketIsTruncatedToTheSnapLength) {
  const std::string path = temp_path("synq_pcapng_snap.pcap");
  std::vector<uint8_t> big(70001, 0xab);
  big[0] = 0x45;
  {
    auto w = PcapngWriter::open(path);
    ASSERT_TRUE(w);
    w->write(0ns, big, "big");
  }
  const auto f = read_pcapng(path);
  ASSERT_TRUE(f.valid);
  ASSERT_EQ(f.packets.size(), 1u);
  EXPECT_EQ(f.packets[0].len, 70001u);
  EXPECT_EQ(f.packets[0].bytes.size(), size_t(PcapngWriter::kSnapLen));
  EXPECT_EQ(f.packets[0].comment, "big");
}

TEST(PcapngWriter, FlushMakesRecordsVisibleAndCloseEndsTheFile) {
  const std::string path = temp_path("synq_pcapng_flush.pcap");
  auto w = PcapngWriter::open(path);
  ASSERT_TRUE(w);
  w->write(5ms, ipv4_packet(kA, kB, 1));
  w->flush();
  EXPECT_EQ(read_pcapng(path).packets.size(), 1u);
  w->close();
  w->write(6ms, ipv4_packet(kA, kB, 2));  // ignored after close
  EXPECT_EQ(read_pcapng(path).packets.size(), 1u);
  EXPECT_EQ(w->packets_written(), 1u);
}

TEST(PcapngWriter, UnopenableFileIsAnErrorNamingTheFileAndTheReason) {
  std::string error;
  EXPECT_FALSE(PcapngWriter::open("/nonexistent-synq-dir/x.pcap", &error));
  EXPECT_NE(error.find("/nonexistent-synq-dir/x.pcap"), std::string::npos) << error;
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_FALSE(PcapngWriter::open("/nonexistent-synq-dir/x.pcap"));  // no error sink: no crash
}

TEST(PcapngWriter, AFullDiskIsSeen) {
  // /dev/full accepts the open and fails every write with ENOSPC.
  std::string error;
  EXPECT_FALSE(PcapngWriter::open("/dev/full", &error));
  EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
}

}  // namespace
}  // namespace synq::pcap
