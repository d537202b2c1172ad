// Connection rate: a client and a server Stack in one process; per iteration
// connect, accept, close on both sides and let TIME-WAIT end. Reported as
// items_per_second = connections per second.
//  - BM_HandshakeDirect: packets go straight from one stack to the other (StackPair).
//  - BM_HandshakeSim:    the same through a SimNetwork link with no delay, so
//                        the difference is the simulator's per-event cost.
#include <benchmark/benchmark.h>

#include "drivers/sim/sim_network.hpp"
#include "drivers/sim/stack_pair.hpp"
#include "synq/stack.hpp"

namespace {

using namespace synq;

const IpAddr kServer = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClient = IpAddr::v4(10, 0, 0, 2);
constexpr uint16_t kPort = 80;

StackConfig bench_config(const IpAddr& addr, const char* name, uint64_t seed) {
  StackConfig c;
  c.addresses = {addr};
  c.name = name;
  c.seed = seed;
  // A 60 s TIME-WAIT would pin one ephemeral port per connection for the
  // whole run; 1 ms lets every iteration end with both sides clean.
  c.sysctls.tcp_time_wait_ms = 1;
  return c;
}

void BM_HandshakeDirect(benchmark::State& state) {
  sim::StackPair pair(bench_config(kClient, "client", 1), bench_config(kServer, "server", 2));
  Stack& c = pair.a();
  Stack& s = pair.b();
  const int lfd = *s.socket(SockType::stream);
  if (s.bind(lfd, {kServer, kPort}) != Errno::ok || s.listen(lfd, 4096) != Errno::ok) {
    state.SkipWithError("listen failed");
    return;
  }
  for (auto _ : state) {
    const int fd = *c.socket(SockType::stream);
    c.connect(fd, {kServer, kPort});
    pair.exchange();  // SYN, SYN-ACK, ACK
    const auto accepted = s.accept(lfd);
    if (!accepted) {
      state.SkipWithError("accept failed: the handshake did not complete");
      break;
    }
    c.close(fd);
    s.close(*accepted);
    pair.exchange();                    // FIN, ACK / FIN, ACK
    pair.advance_to(pair.now() + 2ms);  // TIME-WAIT ends
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandshakeDirect);

void BM_HandshakeSim(benchmark::State& state) {
  sim::SimNetwork net(1);
  const auto ch = net.add_host(bench_config(kClient, "client", 1));
  const auto sh = net.add_host(bench_config(kServer, "server", 2));
  net.connect(ch, sh, sim::LinkParams{});
  Stack& c = net.stack(ch);
  Stack& s = net.stack(sh);
  int lfd = -1;
  int accepted = -1;
  net.at(0s, [&] {
    lfd = *s.socket(SockType::stream);
    s.bind(lfd, {kServer, kPort});
    s.listen(lfd, 4096);
  });
  net.on_event(sh, [&](sim::HostId) {
    if (accepted < 0 && lfd >= 0)
      if (auto a = s.accept(lfd)) accepted = *a;
  });
  net.run_until_idle();
  for (auto _ : state) {
    int fd = -1;
    net.at(net.now(), [&] {
      fd = *c.socket(SockType::stream);
      c.connect(fd, {kServer, kPort});
    });
    if (!net.run_until([&] { return accepted >= 0; }, net.now() + 1s)) {
      state.SkipWithError("accept failed: the handshake did not complete");
      break;
    }
    net.at(net.now(), [&] {
      c.close(fd);
      s.close(accepted);
    });
    net.run_until_idle();  // FINs and TIME-WAIT
    accepted = -1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandshakeSim);

}  // namespace
