// The lab runner: one Scenario in the simulator. Per event it does O(1) work
// plus the sockets the event touched: each host's stack says which
// descriptors a packet or a timer touched (Stack::drain_ready), the hooks step
// those clients and served connections only, and the queues are read with
// Stack::listener_queues. Nothing walks the clients in flight.
#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>

#include <fmt/format.h>

#include "drivers/sim/sim_network.hpp"
#include "lab/attacker.hpp"
#include "lab/format_time.hpp"
#include "lab/lab_run.hpp"
#include "synq/stack.hpp"
#include "synq/trace.hpp"
#include "wire/wire.hpp"

namespace synq::lab {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::established:
      return "established";
    case Outcome::refused:
      return "refused";
    case Outcome::reset:
      return "reset";
    case Outcome::timed_out:
      return "timed_out";
    case Outcome::pending:
      return "pending";
  }
  return "?";
}

namespace {

constexpr uint16_t kServerPort = 80;
constexpr uint32_t kServerAddr = 0x0a000001;       // 10.0.0.1
constexpr uint32_t kFirstClientAddr = 0x0a000002;  // 10.0.0.2, .3, ...
constexpr uint32_t kSpoofBase = 0xc6120000;        // 198.18.0.0/15 (RFC 2544 benchmarking)
constexpr uint32_t kClientsPerAddress = 10000;     // a third of the ephemeral range
constexpr uint32_t kNone = UINT32_MAX;

// One client's socket and progress; `r` is what the result reports.
struct Client {
  ClientResult* r = nullptr;  // in Runner::results_, handed to the result without a copy
  int fd = -1;
  uint32_t addr = 0;       // index of its source address
  bool connected = false;  // the client saw the handshake complete
  bool done = false;       // outcome decided and socket closed
  bool decided = false;    // the listener has made a decision about it
  uint32_t sent = 0;
  uint32_t received = 0;
};

// A connection the server application accepted.
struct Served {
  int fd = -1;
  uint32_t received = 0;
  uint32_t sent = 0;
  bool respond = false;  // respond once the request is in (no workers, or service over)
  bool closed = false;
  bool dirty = false;
};

bool apply_sysctls(Sysctls& s, const std::vector<std::pair<std::string, std::string>>& sets,
                   std::string* error) {
  for (const auto& [k, v] : sets)
    if (!s.set(k, v, error)) return false;
  return true;
}

class Runner {
 public:
  Runner(const Scenario& s, const RunOptions& o) : s_(s), o_(o), net_(s.seed) {}

  LabResult run() {
    LabResult res;
    res.scenario = s_;
    if (!setup(res)) return res;
    const Time end = from_seconds(s_.duration_s);
    if (o_.progress) {
      for (int i = 1; i <= 100; ++i) {
        net_.run_until(from_seconds(s_.duration_s * i / 100.0));
        o_.progress(i / 100.0);
      }
    } else {
      net_.run_until(end);
    }
    flush_queue_bin();
    snapshot("end of run");
    net_.close_captures();

    Stack& srv = net_.stack(server_);
    res.server = srv.counters();
    res.client = net_.stack(client_).counters();
    res.clients = std::move(results_);
    res.queues = std::move(queues_);
    res.timeline = std::move(timeline_);
    res.decisions = std::move(decisions_);
    res.max_syn_queue = max_syn_;
    res.max_accept_queue = max_acc_;
    res.accepted = accepted_;
    res.queue_bin_s = queue_res_;
    if (auto q = srv.listener_queues(listener_); q.ok()) res.backlog_clamped = q->backlog;
    res.drops = std::move(drops_);
    res.attacker_syns = attacker_ ? attacker_->sent() : 0;
    res.events = net_.events_processed();
    res.max_clients_in_flight = max_in_flight_;
    res.story = find_story(res);
    return res;
  }

 private:
  bool setup(LabResult& res) {
    if (s_.arrival.kind == Arrival::Kind::trace) {
      auto times = load_arrival_trace(s_.arrival.trace_path, &res.error);
      if (!times) return false;
      s_.client_start_s = std::move(*times);
      s_.clients = static_cast<int>(s_.client_start_s.size());
    }
    const uint32_t n = static_cast<uint32_t>(std::max(0, s_.clients));
    const uint32_t addrs = std::max(1u, (n + kClientsPerAddress - 1) / kClientsPerAddress);
    StackConfig server_cfg{.addresses = {IpAddr::v4(kServerAddr)}, .seed = 1, .name = "server"};
    StackConfig client_cfg{.addresses = {}, .seed = 2, .name = "client"};
    for (uint32_t i = 0; i < addrs; ++i)
      client_cfg.addresses.push_back(IpAddr::v4(kFirstClientAddr + i));
    if (!apply_sysctls(server_cfg.sysctls, s_.server_sysctls, &res.error) ||
        !apply_sysctls(client_cfg.sysctls, s_.client_sysctls, &res.error))
      return false;
    server_ = net_.add_host(server_cfg);
    client_ = net_.add_host(client_cfg);
    sim::LinkParams link{.latency = from_seconds(s_.latency_ms / 1000.0),
                         .jitter = from_seconds(s_.jitter_ms / 1000.0),
                         .loss = s_.loss,
                         .bandwidth_bps = s_.bandwidth_bps};
    net_.connect(client_, server_, link);
    if (s_.attacker.rate > 0) {
      std::vector<IpAddr> spoofed;
      for (uint32_t i = 0; i < std::max(1u, s_.attacker.sources); ++i)
        spoofed.push_back(IpAddr::v4(kSpoofBase + 1 + i));
      const Time stop = s_.attacker.stop_s < 0 ? kNever : from_seconds(s_.attacker.stop_s);
      auto node =
          std::make_unique<SynFloodNode>(spoofed, Endpoint{IpAddr::v4(kServerAddr), kServerPort},
                                         s_.attacker.rate, from_seconds(s_.attacker.start_s), stop);
      attacker_ = node.get();
      attacker_host_ = net_.add_node(std::move(node), spoofed, "attacker");
      net_.connect(attacker_host_, server_, link);
    }
    if (!o_.pcap_path.empty() && !net_.capture_all(o_.pcap_path, &res.error)) return false;
    client_of_.assign(static_cast<size_t>(addrs) << 16, kNone);
    if (o_.record_timeline) net_.set_tap([this](const sim::TapRecord& t) { on_tap(t); });

    const double bins = 100;
    drops_.bin_s = std::max(s_.duration_s / bins, 1e-3);
    queue_res_ = o_.queue_resolution_s >= 0 ? o_.queue_resolution_s
                 : n > 5000                 ? s_.duration_s / 4000
                                            : 0;

    Stack& srv = net_.stack(server_);
    srv.set_listen_trace([this](const ListenEvent& e) { on_decision(e); });
    listener_ = *srv.socket(SockType::stream);
    srv.bind(listener_, {IpAddr::v4(kServerAddr), kServerPort});
    if (s_.model != srv.sysctls().listen_model) {
      if (Errno e = srv.set_listen_model(listener_, s_.model); e != Errno::ok) {
        res.error =
            fmt::format("listener model '{}' is not available: {}", s_.model, errno_name(e));
        return false;
      }
    }
    if (Errno e = srv.listen(listener_, s_.backlog); e != Errno::ok) {
      res.error = fmt::format("listen({}) failed: {}", s_.backlog, errno_name(e));
      return false;
    }
    note(TimelineEntry::Kind::server, -1, "server listens on {} with listen(fd, {}), model {}",
         Endpoint{IpAddr::v4(kServerAddr), kServerPort}.to_string(), s_.backlog, s_.model);
    clients_.resize(n);
    results_.resize(n);
    for (uint32_t i = 0; i < n; ++i) clients_[i].r = &results_[i];
    schedule_clients();
    schedule_accepts();
    workers_idle_ = static_cast<uint32_t>(std::max(0, s_.workers));
    net_.on_event(server_, [this](sim::HostId) { serve(); });
    net_.on_event(client_, [this](sim::HostId) { on_client_event(); });
    return true;
  }

  double now_s() const { return to_seconds(net_.now()); }

  // A timeline line; formatted only when a timeline is recorded (huge runs
  // must not pay a string per client).
  template <typename... Args>
  void note(TimelineEntry::Kind k, int client, fmt::format_string<Args...> format, Args&&... args) {
    if (!o_.record_timeline) return;
    TimelineEntry e;
    e.t = now_s();
    e.kind = k;
    e.text = fmt::format(format, std::forward<Args>(args)...);
    e.client = client;
    timeline_.push_back(std::move(e));
  }

  // Index in client_of_ for a client address and port, or kNone.
  uint32_t key_of(const IpAddr& a, uint16_t port) const {
    if (!a.is_v4()) return kNone;
    const uint32_t idx = a.v4_host_order() - kFirstClientAddr;
    if (a.v4_host_order() < kFirstClientAddr ||
        (static_cast<size_t>(idx) << 16) >= client_of_.size())
      return kNone;
    return idx << 16 | port;
  }

  // The timeline's packet lines (the tap runs only when a timeline is recorded).
  void on_tap(const sim::TapRecord& t) {
    if (t.event == sim::TapEvent::deliver) {
      note_delivery(t);
      return;
    }
    if (packet_lines_ >= o_.timeline_limit) return;
    if (attacker_ && (t.from == attacker_host_ || t.to == attacker_host_))
      return;  // a flood would drown the story
    auto ip = wire::parse_ip(t.packet);
    if (!ip.ok()) return;
    auto seg = wire::parse_tcp(ip.value(), false);
    if (!seg.ok()) return;
    ++packet_lines_;
    const bool from_client = t.from == client_;
    const Endpoint client_end = from_client ? Endpoint{ip.value().src, seg.value().h.sport}
                                            : Endpoint{ip.value().dst, seg.value().h.dport};
    const uint32_t key = key_of(client_end.addr, client_end.port);
    TimelineEntry e;
    e.t = to_seconds(t.time);
    e.kind = TimelineEntry::Kind::packet;
    e.text = wire::format_tcp(ip.value(), seg.value());
    e.direction = from_client ? "client>server" : "server>client";
    e.lost = t.event != sim::TapEvent::transmit;
    e.sport = seg.value().h.sport;
    e.dport = seg.value().h.dport;
    e.flags = seg.value().h.flags;
    e.seq = seg.value().h.seq;
    e.ack = seg.value().h.ack;
    e.len = static_cast<uint32_t>(seg.value().payload.size());
    e.client = key == kNone || client_of_[key] == kNone ? -1 : static_cast<int>(client_of_[key]);
    if (!e.lost) undelivered_[from_client ? 0 : 1].push_back(timeline_.size());
    timeline_.push_back(std::move(e));
  }

  // The timeline's packet lines are stamped when sent; a ladder diagram also
  // needs when each arrived. A link delivers in send order (no reordering),
  // so the oldest recorded packet still in flight in that direction is this
  // one — if its header matches (packets past the timeline limit were never
  // recorded, and then nothing waits).
  void note_delivery(const sim::TapRecord& t) {
    const int dir = t.from == client_ && t.to == server_   ? 0
                    : t.from == server_ && t.to == client_ ? 1
                                                           : -1;
    if (dir < 0 || undelivered_[dir].empty()) return;
    TimelineEntry& e = timeline_[undelivered_[dir].front()];
    const auto p = t.packet;
    if (p.size() < 20 || (p[0] >> 4) != 4) return;
    const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (p.size() < ihl + 20) return;
    const uint32_t seq = uint32_t(p[ihl + 4]) << 24 | uint32_t(p[ihl + 5]) << 16 |
                         uint32_t(p[ihl + 6]) << 8 | p[ihl + 7];
    const uint16_t sport = static_cast<uint16_t>(p[ihl] << 8 | p[ihl + 1]);
    if (e.seq != seq || e.sport != sport || e.flags != p[ihl + 13]) return;
    e.t_delivered = to_seconds(t.time);
    undelivered_[dir].pop_front();
  }

  void on_decision(const ListenEvent& e) {
    const uint32_t key = key_of(e.tuple.remote.addr, e.tuple.remote.port);
    const int client = key == kNone || client_of_[key] == kNone ? -1 : int(client_of_[key]);
    const bool syn = (e.tcp_flags & wire::tcp_flags::SYN) && !(e.tcp_flags & wire::tcp_flags::ACK);
    if (client >= 0) {
      Client& c = clients_[static_cast<size_t>(client)];
      if (e.decision == ListenDecision::drop && syn) {
        ++c.r->syn_drops;
        if (!c.decided) c.r->first_syn_dropped = true;
      } else if (e.decision == ListenDecision::drop && (e.tcp_flags & wire::tcp_flags::ACK)) {
        ++c.r->acks_dropped;  // its third ACK (or a later one) ignored: the child was not made
      } else if (e.decision == ListenDecision::rst) {
        c.r->reset = true;
      }
      c.decided = true;
    }
    const double t = to_seconds(e.time);
    if (e.decision == ListenDecision::drop) {
      auto& bins = drop_bins(e);
      const size_t bin = static_cast<size_t>(t / drops_.bin_s);
      if (bins.size() <= bin) bins.resize(bin + 1, 0);
      ++bins[bin];
    }
    if (decisions_.size() >= o_.decision_limit) return;
    Decision d;
    d.t = t;
    d.peer = e.tuple.remote.to_string();
    d.decision = std::string(listen_decision_name(e.decision));
    if (e.counter) d.counter = std::string(counter_display_name(*e.counter));
    d.reason =
        fmt::format("{} ({})", listen_reason_text(e.reason), listen_reason_info(e.reason).section);
    d.reason_key = std::string(listen_reason_key(e.reason));
    d.tcp_flags = e.tcp_flags;
    d.client = client;
    if (auto q = net_.stack(server_).listener_queues(listener_); q.ok()) {
      d.syn_queue = q->syn_queue;
      d.accept_queue = q->accept_queue;
    }
    if (o_.record_timeline && (client >= 0 || decision_lines_++ < 50)) {
      TimelineEntry te;
      te.t = d.t;
      te.kind = TimelineEntry::Kind::decision;
      te.text = fmt::format("listener: {} for {}: {}{}", d.decision, d.peer, d.reason,
                            d.counter.empty() ? "" : " [" + d.counter + "]");
      te.client = client;
      timeline_.push_back(std::move(te));
    }
    decisions_.push_back(std::move(d));
  }

  // The per-bin drop counts of a decision's reason and counter. Reasons are
  // static strings: found by address, so a flood costs no string per drop.
  std::vector<uint32_t>& drop_bins(const ListenEvent& e) {
    const int counter = e.counter ? static_cast<int>(*e.counter) : -1;
    const std::string_view key = listen_reason_key(e.reason);  // drops grouped by reason key
    for (const auto& k : drop_keys_)
      if (k.reason == key.data() && k.counter == counter) return *k.bins;
    auto* bins = &drops_.by_reason[std::string(key)];
    drop_keys_.push_back({key.data(), counter, bins});
    return *bins;
  }

  // ------------------------------------------------------------ clients
  // Start times are drawn up front (the RNG stream does not depend on what
  // the run does), but only the next start is in the event queue at any
  // time: a million pending callbacks would make every event cost a log of them.
  void schedule_clients() {
    double t = 0;
    starts_.resize(clients_.size());
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (s_.arrival.kind == Arrival::Kind::every && i > 0) t += s_.arrival.param;
      if (s_.arrival.kind == Arrival::Kind::poisson) {
        // Exponential inter-arrival times from the network's seeded RNG.
        t += -std::log1p(-net_.rng().uniform01()) / s_.arrival.param;
      }
      starts_[i] = {i < s_.client_start_s.size() ? s_.client_start_s[i] : t, i};
    }
    // Explicit times may come in any order; start clients in time order (ties by id).
    std::stable_sort(starts_.begin(), starts_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [at, i] : starts_)
      if (at > s_.duration_s) {
        clients_[i].r->id = static_cast<int>(i);
        clients_[i].r->start_s = at;
        clients_[i].done = true;  // never starts within the run: stays pending
      }
    schedule_next_start();
  }

  void schedule_next_start() {
    if (next_start_ >= starts_.size() || starts_[next_start_].first > s_.duration_s) return;
    const double at = starts_[next_start_].first;
    net_.at(client_, from_seconds(at), [this] {
      // Every client due now starts in this one callback, in order.
      const double now = starts_[next_start_].first;
      while (next_start_ < starts_.size() && starts_[next_start_].first == now)
        start_client(starts_[next_start_++].second);
      schedule_next_start();
    });
  }

  void start_client(size_t i) {
    Stack& st = net_.stack(client_);
    Client& c = clients_[i];
    c.r->id = static_cast<int>(i);
    c.r->start_s = now_s();
    c.addr = static_cast<uint32_t>(i / kClientsPerAddress);
    c.fd = *st.socket(SockType::stream);
    // One source address is enough below kClientsPerAddress clients; beyond,
    // spread them so ephemeral ports never run out.
    if (client_of_.size() > (1u << 16)) st.bind(c.fd, {IpAddr::v4(kFirstClientAddr + c.addr), 0});
    Errno e = st.connect(c.fd, {IpAddr::v4(kServerAddr), kServerPort});
    if (auto name = st.getsockname(c.fd); name.ok()) {
      c.r->port = name->port;
      client_of_[c.addr << 16 | c.r->port] = static_cast<uint32_t>(i);
    }
    index_by_fd(client_by_fd_, c.fd, static_cast<uint32_t>(i));
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    note(TimelineEntry::Kind::client, static_cast<int>(i),
         "client {} (port {}) calls connect(): {}", i, c.r->port, errno_name(e));
    if (s_.connect_timeout_s > 0)
      net_.at(client_, from_seconds(c.r->start_s + s_.connect_timeout_s), [this, i] {
        Client& cl = clients_[i];
        if (cl.done || cl.connected) return;
        Stack& cst = net_.stack(client_);
        if (auto ready = cst.poll(cl.fd); ready.ok())
          step_client(cst, cl, *ready);  // it may have just completed
        if (cl.done || cl.connected) return;
        note(TimelineEntry::Kind::client, cl.r->id,
             "client {} (port {}) gives up: no connection after {}", cl.r->id, cl.r->port,
             format_time(s_.connect_timeout_s));
        finish(cl, Outcome::timed_out, Errno::etimedout);
      });
  }

  void finish(Client& c, Outcome o, Errno e) {
    c.r->outcome = o;
    c.r->error = e;
    c.r->end_s = now_s();
    // A RST from the server refused or reset it: a drop as the client sees it.
    if (e == Errno::econnrefused || e == Errno::econnreset) c.r->reset = true;
    retire(c);
  }

  void retire(Client& c) {
    c.done = true;
    --in_flight_;
    client_by_fd_[static_cast<size_t>(c.fd)] = kNone;
    net_.stack(client_).close(c.fd);
  }

  // fd -> index tables: descriptors are small integers, lowest free first.
  static void index_by_fd(std::vector<uint32_t>& table, int fd, uint32_t index) {
    const auto at = static_cast<size_t>(fd);
    if (table.size() <= at) table.resize(std::max(at + 1, table.size() * 2), kNone);
    table[at] = index;
  }

  // Only the descriptors a packet or timer touched: SYN-ACKs, RSTs, data,
  // SYN retries giving up, data timeouts.
  void on_client_event() {
    Stack& st = net_.stack(client_);
    st.drain_ready([&](int fd, uint32_t events) {
      const auto at = static_cast<size_t>(fd);
      const uint32_t c = at < client_by_fd_.size() ? client_by_fd_[at] : kNone;
      if (c != kNone && !clients_[c].done) step_client(st, clients_[c], events);
    });
  }

  void step_client(Stack& st, Client& c, uint32_t ready) {
    if (ready & kError) {
      // SO_ERROR is read-and-clear: read it once.
      const auto so_error = st.getsockopt(c.fd, SockOpt::so_error);
      const Errno e = so_error.ok() ? static_cast<Errno>(*so_error) : Errno::ok;
      Outcome o = !c.connected ? (e == Errno::etimedout ? Outcome::timed_out : Outcome::refused)
                               : (e == Errno::etimedout ? Outcome::timed_out : Outcome::reset);
      note(TimelineEntry::Kind::client, c.r->id, "client {} (port {}): {} fails with {}", c.r->id,
           c.r->port, c.connected ? "connection" : "connect()", errno_name(e));
      finish(c, o, e);
      return;
    }
    if (!c.connected && (ready & kWritable)) {
      c.connected = true;
      c.r->outcome = Outcome::established;
      c.r->connect_time_s = now_s() - c.r->start_s;
      if (o_.record_timeline)  // format_time makes a string: not for huge runs
        note(TimelineEntry::Kind::client, c.r->id, "client {} (port {}) is ESTABLISHED after {}",
             c.r->id, c.r->port, format_time(c.r->connect_time_s));
    }
    if (!c.connected) return;
    if (c.sent < s_.request_bytes) {
      scratch_.assign(s_.request_bytes - c.sent, 'q');
      if (auto n = st.send(c.fd, scratch_); n.ok()) c.sent += static_cast<uint32_t>(*n);
    }
    bool eof = false;
    while (true) {
      auto n = st.recv(c.fd, buf_);
      if (!n.ok()) break;
      if (*n == 0) {
        eof = true;
        break;
      }
      c.received += static_cast<uint32_t>(*n);
    }
    // The server closes after its response: wait for that FIN (EOF) so the
    // client's close is the passive one — no TIME-WAIT pinning its port.
    if (c.received >= s_.response_bytes && eof) {
      c.r->end_s = now_s();
      retire(c);
    }
  }

  // ------------------------------------------------------------ server
  void schedule_accepts() {
    for (double t : s_.accept_once_at) {
      net_.at(server_, from_seconds(t), [this] {
        snapshot("before a single accept()");
        const uint32_t idx = accept_one("server calls accept() once:");
        if (idx == kNone) {
          note(TimelineEntry::Kind::server, -1, "server calls accept() once: nothing queued");
          return;
        }
        served_[idx].respond = true;  // answered like any accepted connection
        mark_served(idx);
      });
    }
    if (s_.workers > 0) return;
    if (s_.accept.kind == AcceptPolicy::Kind::at) {
      net_.at(server_, from_seconds(s_.accept.param), [this] {
        accepting_ = true;
        note(TimelineEntry::Kind::server, -1, "server application starts calling accept()");
        snapshot("before the first accept()");
      });
    } else if (s_.accept.kind == AcceptPolicy::Kind::rate) {
      schedule_rate_accept(0);
    }
  }

  void schedule_rate_accept(uint64_t n) {
    const double t = static_cast<double>(n) / s_.accept.param;
    if (t > s_.duration_s) return;
    net_.at(server_, from_seconds(t), [this, n] {
      ++accept_tokens_;
      schedule_rate_accept(n + 1);
    });
  }

  // accept() once; returns the served index or kNone.
  uint32_t accept_one(std::string_view what) {
    Stack& st = net_.stack(server_);
    Endpoint peer;
    auto fd = st.accept(listener_, &peer);
    if (!fd.ok()) return kNone;
    ++accepted_;
    const uint32_t key = key_of(peer.addr, peer.port);
    const auto idx = static_cast<uint32_t>(served_.size());
    served_.push_back({.fd = *fd});
    index_by_fd(served_by_fd_, *fd, idx);
    if (key != kNone)
      if (const uint32_t c = client_of_[key]; c != kNone) clients_[c].r->accepted = true;
    if (o_.record_timeline)
      note(TimelineEntry::Kind::server, key == kNone ? -1 : static_cast<int>(client_of_[key]),
           "{} {}", what, peer.to_string());
    return idx;
  }

  double service_time() {
    const ServiceTime& sv = s_.service;
    switch (sv.kind) {
      case ServiceTime::Kind::fixed:
        return sv.a;
      case ServiceTime::Kind::exponential:
        return -std::log1p(-net_.rng().uniform01()) * sv.a;
      case ServiceTime::Kind::uniform:
        return sv.a + (sv.b - sv.a) * net_.rng().uniform01();
    }
    return 0;
  }

  void serve() {
    Stack& st = net_.stack(server_);
    // Served connections a packet or timer touched; the listener's readiness
    // needs no look of its own: the accept loops below run on every event.
    st.drain_ready([this](int fd, uint32_t) {
      const auto at = static_cast<size_t>(fd);
      if (fd != listener_ && at < served_by_fd_.size() && served_by_fd_[at] != kNone)
        mark_served(served_by_fd_[at]);
    });
    while (workers_idle_ > 0) {
      const uint32_t idx = accept_one("a worker accept()s");
      if (idx == kNone) break;
      --workers_idle_;
      net_.at(server_, net_.now() + from_seconds(service_time()), [this, idx] {
        ++workers_idle_;  // the worker is free: serve() runs after this callback
        served_[idx].respond = true;
        mark_served(idx);
      });
    }
    while (s_.workers == 0 && (accepting_ || accept_tokens_ > 0)) {
      const uint32_t idx = accept_one("server accept() returns");
      if (idx == kNone) break;
      if (accept_tokens_ > 0) --accept_tokens_;
      served_[idx].respond = true;
      mark_served(idx);
    }
    for (size_t k = 0; k < dirty_served_.size(); ++k) {
      Served& c = served_[dirty_served_[k]];
      c.dirty = false;
      if (!c.closed) step_served(st, c);
    }
    dirty_served_.clear();
    sample_queues();
  }

  void mark_served(uint32_t idx) {
    if (served_[idx].dirty) return;
    served_[idx].dirty = true;
    dirty_served_.push_back(idx);
  }

  void step_served(Stack& st, Served& c) {
    while (true) {
      auto n = st.recv(c.fd, buf_);
      if (!n.ok() || *n == 0) break;
      c.received += static_cast<uint32_t>(*n);
    }
    if (!c.respond || c.received < s_.request_bytes) return;
    if (c.sent < s_.response_bytes) {
      scratch_.assign(s_.response_bytes - c.sent, 'r');
      if (auto n = st.send(c.fd, scratch_); n.ok()) c.sent += static_cast<uint32_t>(*n);
    }
    if (c.sent >= s_.response_bytes) {
      served_by_fd_[static_cast<size_t>(c.fd)] = kNone;
      st.close(c.fd);
      c.closed = true;
    }
  }

  void sample_queues() {
    auto q = net_.stack(server_).listener_queues(listener_);
    if (!q.ok()) return;
    const uint32_t syn = q->syn_queue, acc = q->accept_queue;
    max_syn_ = std::max(max_syn_, syn);
    max_acc_ = std::max(max_acc_, acc);
    if (queue_res_ > 0) {
      const auto bin = static_cast<int64_t>(now_s() / queue_res_);
      if (bin != cur_bin_) {
        flush_queue_bin();
        cur_bin_ = bin;
        bin_syn_ = syn;
        bin_acc_ = acc;
        // The level the previous sample left holds until this one: it belongs to the band.
        bin_syn_min_ = std::min(last_syn_, syn);
        bin_acc_min_ = std::min(last_acc_, acc);
      } else {
        bin_syn_ = std::max(bin_syn_, syn);
        bin_acc_ = std::max(bin_acc_, acc);
        bin_syn_min_ = std::min(bin_syn_min_, syn);
        bin_acc_min_ = std::min(bin_acc_min_, acc);
      }
      last_syn_ = syn;
      last_acc_ = acc;
      return;
    }
    if (!queues_.empty() && queues_.back().syn_queue == syn && queues_.back().accept_queue == acc)
      return;
    queues_.push_back({now_s(), syn, acc, syn, acc});
  }

  void flush_queue_bin() {
    if (queue_res_ <= 0 || cur_bin_ < 0) return;
    queues_.push_back({static_cast<double>(cur_bin_) * queue_res_, bin_syn_, bin_acc_, bin_syn_min_,
                       bin_acc_min_});
  }

  void snapshot(const std::string& why) {
    if (!o_.record_timeline) return;
    std::string text = fmt::format("ss -lnt on the server ({}):\n", why);
    text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", "State", "Recv-Q", "Send-Q",
                        "Local", "Peer", "Model");
    size_t lines = 0;
    for (const auto& i : net_.stack(server_).sockets()) {
      if (i.type != SockType::stream) continue;
      if (++lines > 40) {
        text += "  ...\n";
        break;
      }
      text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", tcp_state_name(i.state), i.recv_q,
                          i.send_q, i.local.to_string(),
                          i.state == TcpState::listen ? "*:*" : i.remote.to_string(), i.model);
    }
    note(TimelineEntry::Kind::snapshot, -1, "{}", text);
  }

  Scenario s_;
  RunOptions o_;
  sim::SimNetwork net_;
  sim::HostId server_ = 0, client_ = 0, attacker_host_ = UINT32_MAX;
  SynFloodNode* attacker_ = nullptr;
  int listener_ = -1;
  std::vector<Client> clients_;
  std::vector<ClientResult> results_;              // one per client; never resized after setup
  std::vector<std::pair<double, size_t>> starts_;  // (connect() time, client), in time order
  size_t next_start_ = 0;
  std::vector<uint32_t> client_of_;     // (address index << 16 | port) -> client
  std::vector<uint32_t> client_by_fd_;  // client host's descriptor -> client in progress
  std::vector<uint32_t> served_by_fd_;  // server host's descriptor -> served connection
  std::vector<uint32_t> dirty_served_;
  std::vector<Served> served_;
  uint32_t workers_idle_ = 0;
  bool accepting_ = false;
  uint64_t accept_tokens_ = 0;
  uint64_t accepted_ = 0;
  std::vector<QueueSample> queues_;
  double queue_res_ = 0;
  int64_t cur_bin_ = -1;
  uint32_t bin_syn_ = 0, bin_acc_ = 0;
  uint32_t bin_syn_min_ = 0, bin_acc_min_ = 0, last_syn_ = 0, last_acc_ = 0;
  std::deque<size_t> undelivered_[2];  // timeline indices of packets sent, not yet delivered
  std::vector<TimelineEntry> timeline_;
  std::vector<Decision> decisions_;
  DropSeries drops_;
  struct DropKey {
    const char* reason;
    int counter;
    std::vector<uint32_t>* bins;  // in drops_.by_reason (map nodes do not move)
  };
  std::vector<DropKey> drop_keys_;
  uint32_t in_flight_ = 0, max_in_flight_ = 0;  // clients between connect() and their outcome
  size_t packet_lines_ = 0;
  size_t decision_lines_ = 0;
  uint32_t max_syn_ = 0, max_acc_ = 0;
  std::vector<uint8_t> scratch_;
  uint8_t buf_[4096];
};

}  // namespace

LabResult run(const Scenario& s, const RunOptions& opts) {
  return Runner(s, opts).run();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

}  // namespace synq::lab
