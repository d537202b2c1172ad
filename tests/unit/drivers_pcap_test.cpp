// PcapWriter: files read back through libpcap, byte for byte and timestamp
// for timestamp; and the simulator's captures (pcapng, lost packets marked).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <memory>
#include <string>
#include <vector>

#include "drivers/pcap/pcap_writer.hpp"
#include "drivers/sim/sim_network.hpp"
#include "drivers_pcapng_reader.hpp"
#include "drivers_test_support.hpp"

namespace synq::pcap {
namespace {

using sim::testing::ipv4_packet;
using sim::testing::ipv6_packet;
using sim::testing::ScriptedNode;
using sim::testing::temp_path;
using testing::NgPacket;
using testing::read_pcapng;

struct Record {
  Time time;
  uint32_t len;
  std::vector<uint8_t> bytes;  // the captured part
  friend bool operator==(const Record&, const Record&) = default;
};

struct ReadBack {
  int linktype = -1;
  int snaplen = -1;
  std::vector<Record> records;
};

ReadBack read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  EXPECT_NE(p, nullptr) << err;
  ReadBack out;
  if (!p) return out;
  out.linktype = pcap_datalink(p);
  out.snaplen = pcap_snapshot(p);
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    out.records.push_back({Time(int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec), h->len,
                           std::vector<uint8_t>(data, data + h->caplen)});
  }
  pcap_close(p);
  return out;
}

const IpAddr kA = IpAddr::v4(10, 0, 0, 1);
const IpAddr kB = IpAddr::v4(10, 0, 0, 2);

TEST(PcapWriter, RoundTripKeepsBytesAndNanosecondTimestamps) {
  const std::string path = temp_path("synq_pcap_roundtrip.pcap");
  const auto v4 = ipv4_packet(kA, kB, 1, 60);
  const auto v6 = ipv6_packet(*IpAddr::parse("2001:db8::1"), *IpAddr::parse("2001:db8::2"), 2);
  {
    std::string error;
    auto w = PcapWriter::open(path, &error);
    ASSERT_TRUE(w) << error;
    w->write(0ns, v4);
    w->write(1s + 123456789ns, v6);
    w->write(3600s + 1ns, v4);
    EXPECT_EQ(w->packets_written(), 3u);
  }
  const ReadBack r = read_pcap(path);
  EXPECT_EQ(r.linktype, DLT_RAW);
  EXPECT_EQ(r.snaplen, PcapWriter::kSnapLen);
  EXPECT_EQ(r.records, (std::vector<Record>{
                           {0ns, 60, v4}, {1s + 123456789ns, 41, v6}, {3600s + 1ns, 60, v4}}));
}

TEST(PcapWriter, MicrosecondFilesTruncateToMicroseconds) {
  const std::string path = temp_path("synq_pcap_micro.pcap");
  const auto v4 = ipv4_packet(kA, kB, 1);
  {
    auto w = PcapWriter::open(path, nullptr, TimestampPrecision::micro);
    ASSERT_TRUE(w);
    w->write(2s + 345678999ns, v4);
  }
  const ReadBack r = read_pcap(path);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].time, 2s + 345678000ns);
}

TEST(PcapWriter, OversizedPacketIsTruncatedToTheSnapLength) {
  const std::string path = temp_path("synq_pcap_snap.pcap");
  std::vector<uint8_t> big(70000, 0xab);
  big[0] = 0x45;
  {
    auto w = PcapWriter::open(path);
    ASSERT_TRUE(w);
    w->write(0ns, big);
  }
  const ReadBack r = read_pcap(path);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].len, 70000u);
  EXPECT_EQ(r.records[0].bytes.size(), size_t(PcapWriter::kSnapLen));
}

TEST(PcapWriter, FlushMakesRecordsVisibleBeforeClose) {
  const std::string path = temp_path("synq_pcap_flush.pcap");
  auto w = PcapWriter::open(path);
  ASSERT_TRUE(w);
  w->write(5ms, ipv4_packet(kA, kB, 1));
  w->flush();
  EXPECT_EQ(read_pcap(path).records.size(), 1u);
  w->close();
  w->write(6ms, ipv4_packet(kA, kB, 2));  // ignored after close
  EXPECT_EQ(read_pcap(path).records.size(), 1u);
}

TEST(PcapWriter, UnopenableFileIsAnErrorNamingTheFile) {
  std::string error;
  auto w = PcapWriter::open("/nonexistent-synq-dir/x.pcap", &error);
  EXPECT_FALSE(w);
  EXPECT_NE(error.find("/nonexistent-synq-dir/x.pcap"), std::string::npos) << error;
  EXPECT_FALSE(PcapWriter::open("/nonexistent-synq-dir/x.pcap"));  // no error sink: no crash
}

// ------------------------------------------------------------------ simulator captures

using sim::LinkParams;
using sim::SimNetwork;

// a → b over `lp`, b → a with 1 ms latency; each side sends `n` packets.
struct CapturedPair {
  CapturedPair(uint64_t seed, LinkParams lp) : net(seed) {
    auto na = std::make_unique<ScriptedNode>();
    auto nb = std::make_unique<ScriptedNode>();
    a = na.get();
    b = nb.get();
    const auto ha = net.add_node(std::move(na), {kA}, "a");
    const auto hb = net.add_node(std::move(nb), {kB}, "b");
    link = net.connect(ha, hb, lp, LinkParams{.latency = 1ms});
  }
  void exchange(int n) {
    for (int i = 0; i < n; ++i) {
      net.at(Time(i * 1ms), [this, i] { a->out.push_back(ipv4_packet(kA, kB, uint8_t(i))); });
      net.at(Time(i * 1ms + 500us),
             [this, i] { b->out.push_back(ipv4_packet(kB, kA, uint8_t(i))); });
    }
  }
  SimNetwork net;
  ScriptedNode* a;
  ScriptedNode* b;
  sim::LinkId link;
};

TEST(SimCapture, PacketsAreStampedWhenSentAndLostOnesAreMarked) {
  const std::string all = temp_path("synq_sim_all.pcap");
  const std::string one = temp_path("synq_sim_link.pcap");
  CapturedPair p(1, LinkParams{.latency = 10ms, .loss = 1.0});
  ASSERT_TRUE(p.net.capture_all(all));
  ASSERT_TRUE(p.net.capture_link(p.link, one));
  p.exchange(3);
  p.net.run_until_idle();
  p.net.close_captures();
  // Every a → b packet was lost: all six are in the file at their send
  // times, a's three marked with the direction the link lost them in.
  const std::string lost = "lost by the link (a>b)";
  const std::vector<NgPacket> expected{
      {0us, 40, ipv4_packet(kA, kB, 0), lost},    {500us, 40, ipv4_packet(kB, kA, 0), ""},
      {1000us, 40, ipv4_packet(kA, kB, 1), lost}, {1500us, 40, ipv4_packet(kB, kA, 1), ""},
      {2000us, 40, ipv4_packet(kA, kB, 2), lost}, {2500us, 40, ipv4_packet(kB, kA, 2), ""}};
  for (const auto& path : {all, one}) {
    const auto f = read_pcapng(path);
    EXPECT_TRUE(f.valid) << path;
    EXPECT_EQ(f.tsresol, 9) << path;
    EXPECT_EQ(f.packets, expected) << path;
  }
  // libpcap, an independent reader, sees the same packets and times.
  std::vector<Record> by_libpcap;
  for (const auto& e : expected) by_libpcap.push_back({e.time, e.len, e.bytes});
  EXPECT_EQ(read_pcap(all).records, by_libpcap);
  EXPECT_EQ(p.net.link_stats(p.link, sim::Side::a_to_b).lost, 3u);
}

TEST(SimCapture, QueueDropsAreMarkedToo) {
  const std::string path = temp_path("synq_sim_queue.pcap");
  // 8 kbit/s: a 40-byte packet takes 40 ms to serialize; a queue of one.
  CapturedPair p(1, LinkParams{.latency = 1ms, .bandwidth_bps = 8000, .queue_limit = 1});
  ASSERT_TRUE(p.net.capture_all(path));
  p.net.at(0ns, [&] {
    for (uint8_t i = 0; i < 3; ++i) p.a->out.push_back(ipv4_packet(kA, kB, i));
  });
  p.net.run_until_idle();
  p.net.close_captures();
  const auto f = read_pcapng(path);
  ASSERT_TRUE(f.valid);
  const auto& st = p.net.link_stats(p.link, sim::Side::a_to_b);
  ASSERT_EQ(st.queue_drops, 2u);
  ASSERT_EQ(f.packets.size(), 3u);
  EXPECT_EQ(f.packets[0].comment, "");
  EXPECT_EQ(f.packets[1].comment, "dropped by the link's full queue (a>b)");
  EXPECT_EQ(f.packets[2].comment, "dropped by the link's full queue (a>b)");
}

TEST(SimCapture, CaptureErrorsAreReported) {
  CapturedPair p(1, LinkParams{});
  std::string error;
  EXPECT_FALSE(p.net.capture_all("/nonexistent-synq-dir/all.pcap", &error));
  EXPECT_NE(error.find("all.pcap"), std::string::npos);
  EXPECT_FALSE(p.net.capture_link(p.link + 1, temp_path("x.pcap"), &error));
}

std::vector<uint8_t> lossy_capture(uint64_t seed, const std::string& name) {
  const std::string path = temp_path(name);
  CapturedPair p(seed, LinkParams{.latency = 2ms,
                                  .jitter = 1ms,
                                  .loss = 0.3,
                                  .bandwidth_bps = 1'000'000,
                                  .queue_limit = 4});
  EXPECT_TRUE(p.net.capture_all(path));
  p.exchange(100);
  p.net.run_until_idle();
  p.net.close_captures();
  return sim::testing::read_file(path);
}

TEST(SimCapture, SameSeedGivesAByteIdenticalFileOtherSeedDoesNot) {
  const auto first = lossy_capture(11, "synq_sim_seed11_a.pcap");
  EXPECT_GT(first.size(), 24u + 100 * (16 + 40));  // header + b's 100 + some of a's
  EXPECT_EQ(lossy_capture(11, "synq_sim_seed11_b.pcap"), first);
  EXPECT_NE(lossy_capture(12, "synq_sim_seed12.pcap"), first);
}

}  // namespace
}  // namespace synq::pcap
