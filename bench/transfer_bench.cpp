// Bulk throughput between two stacks in one process: one established
// connection, each iteration moves state.range(0) bytes client → server
// (send, deliver, read, ACK). Reported as bytes_per_second.
//  - BM_TransferDirect: StackPair, packets handed straight across.
//  - BM_TransferSim:    a SimNetwork link with no delay and no bandwidth limit.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "drivers/sim/sim_network.hpp"
#include "drivers/sim/stack_pair.hpp"
#include "synq/stack.hpp"

namespace {

using namespace synq;

const IpAddr kServer = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClient = IpAddr::v4(10, 0, 0, 2);
constexpr uint16_t kPort = 5001;

StackConfig bench_config(const IpAddr& addr, const char* name, uint64_t seed) {
  StackConfig c;
  c.addresses = {addr};
  c.name = name;
  c.seed = seed;
  return c;
}

// Sends from `buf` and reads into `sink` until `total` bytes have arrived;
// `progress()` moves packets (and timers) when neither side can go on.
template <class Progress>
bool move_bytes(Stack& c, int cfd, Stack& s, int sfd, size_t total, std::vector<uint8_t>& buf,
                std::vector<uint8_t>& sink, Progress progress) {
  size_t sent = 0, received = 0;
  while (received < total) {
    const size_t before = sent + received;
    while (sent < total) {
      const auto r = c.send(cfd, std::span(buf).first(std::min(buf.size(), total - sent)));
      if (!r) break;
      sent += *r;
    }
    for (;;) {
      const auto r = s.recv(sfd, sink);
      if (!r || *r == 0) break;
      received += *r;
    }
    if (sent + received == before && !progress()) return false;
  }
  return true;
}

void BM_TransferDirect(benchmark::State& state) {
  const auto total = static_cast<size_t>(state.range(0));
  sim::StackPair pair(bench_config(kClient, "client", 1), bench_config(kServer, "server", 2));
  Stack& c = pair.a();
  Stack& s = pair.b();
  const int lfd = *s.socket(SockType::stream);
  s.bind(lfd, {kServer, kPort});
  s.listen(lfd, 16);
  const int cfd = *c.socket(SockType::stream);
  c.connect(cfd, {kServer, kPort});
  pair.exchange();
  const auto sfd = s.accept(lfd);
  if (!sfd) {
    state.SkipWithError("handshake did not complete");
    return;
  }
  std::vector<uint8_t> buf(64 * 1024, 0x5a), sink(64 * 1024);
  // Moving packets is the progress; with nothing to move, the next timer (delayed ACK).
  auto progress = [&] { return pair.exchange() > 0 || pair.run_next_timer(); };
  for (auto _ : state) {
    if (!move_bytes(c, cfd, s, *sfd, total, buf, sink, progress)) {
      state.SkipWithError("transfer stalled");
      break;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total));
}
BENCHMARK(BM_TransferDirect)->Arg(1 << 20);

void BM_TransferSim(benchmark::State& state) {
  const auto total = static_cast<size_t>(state.range(0));
  sim::SimNetwork net(1);
  const auto ch = net.add_host(bench_config(kClient, "client", 1));
  const auto sh = net.add_host(bench_config(kServer, "server", 2));
  net.connect(ch, sh, sim::LinkParams{});
  Stack& c = net.stack(ch);
  Stack& s = net.stack(sh);
  int lfd = -1, cfd = -1, sfd = -1;
  size_t to_send = 0, received = 0;
  std::vector<uint8_t> buf(64 * 1024, 0x5a), sink(64 * 1024);
  net.at(0s, [&] {
    lfd = *s.socket(SockType::stream);
    s.bind(lfd, {kServer, kPort});
    s.listen(lfd, 16);
    cfd = *c.socket(SockType::stream);
    c.connect(cfd, {kServer, kPort});
  });
  // The applications live in the hooks, as in any simulation: the client
  // writes while it has bytes to send, the server reads whatever arrived.
  net.on_event(ch, [&](sim::HostId) {
    while (to_send > 0) {
      const auto r = c.send(cfd, std::span(buf).first(std::min(buf.size(), to_send)));
      if (!r) break;
      to_send -= *r;
    }
  });
  net.on_event(sh, [&](sim::HostId) {
    if (sfd < 0 && lfd >= 0)
      if (auto a = s.accept(lfd)) sfd = *a;
    for (; sfd >= 0;) {
      const auto r = s.recv(sfd, sink);
      if (!r || *r == 0) break;
      received += *r;
    }
  });
  if (!net.run_until([&] { return sfd >= 0; }, 1s)) {
    state.SkipWithError("handshake did not complete");
    return;
  }
  for (auto _ : state) {
    to_send = total;
    received = 0;
    net.at(ch, net.now(), [] {});  // wakes the client's hook
    if (!net.run_until([&] { return received >= total; })) {
      state.SkipWithError("transfer stalled");
      break;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total));
}
BENCHMARK(BM_TransferSim)->Arg(1 << 20);

}  // namespace
