// ByteRing: storage grows on demand up to the capacity, and growing keeps
// every byte where the reader expects it — wrapped bytes and out-of-order
// bytes written ahead of the readable ones alike.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "tcp/byte_ring.hpp"

namespace synq::tcp {
namespace {

std::vector<uint8_t> seq_bytes(size_t n, uint8_t from) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<uint8_t> read_all(const ByteRing& r) {
  std::vector<uint8_t> out(r.size());
  EXPECT_EQ(r.copy_out(0, out), r.size());
  return out;
}

TEST(ByteRing, SmallDataTakesSmallStorage) {
  ByteRing r;
  r.reset(131072);
  EXPECT_EQ(r.storage(), 0u);
  EXPECT_EQ(r.append(seq_bytes(100, 0)), 100u);
  EXPECT_EQ(r.storage(), 512u);
  EXPECT_EQ(read_all(r), seq_bytes(100, 0));
}

TEST(ByteRing, GrowingUnwrapsWrappedBytes) {
  ByteRing r;
  r.reset(4096);
  ASSERT_EQ(r.append(seq_bytes(400, 0)), 400u);
  r.consume(300);                                  // head at 300 of 512
  ASSERT_EQ(r.append(seq_bytes(300, 100)), 300u);  // wraps: 212 at the end, 88 at the front
  EXPECT_EQ(r.storage(), 512u);
  ASSERT_EQ(r.append(seq_bytes(200, 200)), 200u);  // 600 queued: grows to 1024
  EXPECT_EQ(r.storage(), 1024u);
  std::vector<uint8_t> want = seq_bytes(100, 44);  // bytes 300..399 of the first write
  for (uint8_t b : seq_bytes(300, 100)) want.push_back(b);
  for (uint8_t b : seq_bytes(200, 200)) want.push_back(b);
  EXPECT_EQ(read_all(r), want);
}

TEST(ByteRing, GrowingKeepsOutOfOrderBytesAtTheirOffsets) {
  ByteRing r;
  r.reset(65536);
  r.write_at(1000, seq_bytes(50, 7));  // a hole of 1000 bytes, then 50 out of order
  EXPECT_EQ(r.storage(), 2048u);
  EXPECT_EQ(r.size(), 0u);
  r.write_at(0, seq_bytes(1000, 1));  // the hole fills
  r.commit(1050);
  auto all = read_all(r);
  ASSERT_EQ(all.size(), 1050u);
  EXPECT_EQ(std::vector<uint8_t>(all.begin(), all.begin() + 1000), seq_bytes(1000, 1));
  EXPECT_EQ(std::vector<uint8_t>(all.begin() + 1000, all.end()), seq_bytes(50, 7));
}

TEST(ByteRing, StorageNeverExceedsTheCapacity) {
  ByteRing r;
  r.reset(3000);  // not a power of two
  EXPECT_EQ(r.append(seq_bytes(255, 0)), 255u);
  EXPECT_EQ(r.append(std::vector<uint8_t>(5000, 9)), 2745u);
  EXPECT_EQ(r.storage(), 3000u);
  EXPECT_EQ(r.free_space(), 0u);
  r.consume(2000);
  EXPECT_EQ(r.append(std::vector<uint8_t>(2000, 4)), 2000u);  // wraps in a full-size store
  auto all = read_all(r);
  EXPECT_EQ(all.front(), 9);
  EXPECT_EQ(all.back(), 4);
}

TEST(ByteRing, ReleaseGivesStorageBackOnlyWhenEmpty) {
  ByteRing r;
  r.reset(8192);
  r.append(seq_bytes(10, 0));
  r.release_if_empty();
  EXPECT_TRUE(r.has_storage());
  r.consume(10);
  r.release_if_empty();
  EXPECT_FALSE(r.has_storage());
  EXPECT_EQ(r.storage(), 0u);
  EXPECT_EQ(r.append(seq_bytes(3, 5)), 3u);
  EXPECT_EQ(read_all(r), seq_bytes(3, 5));
}

}  // namespace
}  // namespace synq::tcp
