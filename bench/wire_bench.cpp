// Per-packet cost of the wire layer for a full-sized data segment:
// parse_ip + parse_tcp (checksum verified) and build_tcp of 1460 bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "wire/wire.hpp"

namespace {

using namespace synq::wire;

TcpHeader data_header() {
  TcpHeader h;
  h.sport = 40000;
  h.dport = 80;
  h.seq = 123456789;
  h.ack = 987654321;
  h.flags = tcp_flags::ACK | tcp_flags::PSH;
  h.window = 502;
  h.options.has_timestamps = true;
  h.options.ts_val = 1000;
  h.options.ts_ecr = 2000;
  return h;
}

const synq::IpAddr kSrc = synq::IpAddr::v4(10, 0, 0, 2);
const synq::IpAddr kDst = synq::IpAddr::v4(10, 0, 0, 1);

std::vector<uint8_t> payload_1460() {
  std::vector<uint8_t> p(1460);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 31 + 7);
  return p;
}

void BM_ParseIpTcp1460(benchmark::State& state) {
  const auto payload = payload_1460();
  std::vector<uint8_t> pkt(1600);
  pkt.resize(build_tcp(pkt, kSrc, kDst, data_header(), payload));
  for (auto _ : state) {
    auto ip = parse_ip(pkt);
    auto seg = parse_tcp(ip.value());
    benchmark::DoNotOptimize(seg);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(pkt.size()));
}
BENCHMARK(BM_ParseIpTcp1460);

void BM_BuildTcp1460(benchmark::State& state) {
  const auto payload = payload_1460();
  const auto h = data_header();
  std::vector<uint8_t> out(1600);
  for (auto _ : state) {
    size_t n = build_tcp(out, kSrc, kDst, h, payload);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 1512);
}
BENCHMARK(BM_BuildTcp1460);

void BM_Checksum1460(benchmark::State& state) {
  const auto payload = payload_1460();
  for (auto _ : state) {
    benchmark::DoNotOptimize(checksum_finish(checksum_add(0, payload)));
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(payload.size()));
}
BENCHMARK(BM_Checksum1460);

}  // namespace
