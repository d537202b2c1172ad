#include "lab/lab_run.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "drivers/sim/sim_network.hpp"
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
const IpAddr kServerAddr = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClientAddr = IpAddr::v4(10, 0, 0, 2);

// One client's socket and progress; `r` is what the result reports.
struct Client {
  ClientResult r;
  int fd = -1;
  bool connected = false;  // the client saw the handshake complete
  bool done = false;       // outcome decided and socket closed
  uint32_t sent = 0;
  uint32_t received = 0;
};

// A connection the server application accepted.
struct Served {
  int fd = -1;
  uint32_t received = 0;
  uint32_t sent = 0;
  bool closed = false;
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
    StackConfig server_cfg{.addresses = {kServerAddr}, .seed = 1, .name = "server"};
    StackConfig client_cfg{.addresses = {kClientAddr}, .seed = 2, .name = "client"};
    if (!apply_sysctls(server_cfg.sysctls, s_.server_sysctls, &res.error) ||
        !apply_sysctls(client_cfg.sysctls, s_.client_sysctls, &res.error))
      return res;
    server_ = net_.add_host(server_cfg);
    client_ = net_.add_host(client_cfg);
    const auto latency = from_seconds(s_.latency_ms / 1000.0);
    net_.connect(client_, server_, sim::LinkParams{.latency = latency});
    if (!o_.pcap_path.empty() && !net_.capture_all(o_.pcap_path, &res.error)) return res;
    if (o_.record_timeline) net_.set_tap([this](const sim::TapRecord& t) { on_tap(t); });

    Stack& srv = net_.stack(server_);
    srv.set_listen_trace([this](const ListenEvent& e) { on_decision(e); });
    listener_ = *srv.socket(SockType::stream);
    srv.bind(listener_, {kServerAddr, kServerPort});
    if (s_.model != srv.sysctls().listen_model) {
      if (Errno e = srv.set_listen_model(listener_, s_.model); e != Errno::ok) {
        res.error =
            fmt::format("listener model '{}' is not available: {}", s_.model, errno_name(e));
        return res;
      }
    }
    if (Errno e = srv.listen(listener_, s_.backlog); e != Errno::ok) {
      res.error = fmt::format("listen({}) failed: {}", s_.backlog, errno_name(e));
      return res;
    }
    note(TimelineEntry::Kind::server,
         fmt::format("server listens on {} with listen(fd, {}), model {}",
                     Endpoint{kServerAddr, kServerPort}.to_string(), s_.backlog, s_.model));
    schedule_clients();
    schedule_accepts();
    net_.on_event(server_, [this](sim::HostId) { serve(); });
    net_.on_event(client_, [this](sim::HostId) { poll_clients(); });

    const Time end = from_seconds(s_.duration_s);
    net_.run_until(end);
    snapshot("end of run");
    net_.close_captures();

    res.server = srv.counters();
    res.client = net_.stack(client_).counters();
    for (auto& c : clients_) res.clients.push_back(c.r);
    res.queues = std::move(queues_);
    res.timeline = std::move(timeline_);
    res.decisions = std::move(decisions_);
    res.max_syn_queue = max_syn_;
    res.max_accept_queue = max_acc_;
    res.accepted = accepted_;
    return res;
  }

 private:
  double now_s() const { return to_seconds(net_.now()); }

  void note(TimelineEntry::Kind k, std::string text) {
    if (!o_.record_timeline) return;
    timeline_.push_back({now_s(), k, std::move(text), {}, false});
  }

  void on_tap(const sim::TapRecord& t) {
    if (t.event != sim::TapEvent::transmit && t.event != sim::TapEvent::lost &&
        t.event != sim::TapEvent::queue_drop)
      return;
    if (packet_lines_ >= o_.timeline_limit) return;
    auto ip = wire::parse_ip(t.packet);
    if (!ip.ok() || ip.value().protocol != wire::ip_proto::TCP) return;
    auto seg = wire::parse_tcp(ip.value(), false);
    if (!seg.ok()) return;
    ++packet_lines_;
    timeline_.push_back({to_seconds(t.time), TimelineEntry::Kind::packet,
                         wire::format_tcp(ip.value(), seg.value()),
                         t.from == client_ ? "client>server" : "server>client",
                         t.event != sim::TapEvent::transmit});
  }

  void on_decision(const ListenEvent& e) {
    Decision d;
    d.t = to_seconds(e.time);
    d.peer = e.tuple.remote.to_string();
    d.decision = std::string(listen_decision_name(e.decision));
    if (e.counter) d.counter = std::string(counter_info(*e.counter).name);
    d.reason = std::string(e.reason);
    d.tcp_flags = e.tcp_flags;
    if (o_.record_timeline) {
      timeline_.push_back({d.t,
                           TimelineEntry::Kind::decision,
                           fmt::format("listener: {} for {}: {}{}", d.decision, d.peer, d.reason,
                                       d.counter.empty() ? "" : " [" + d.counter + "]"),
                           {},
                           false});
    }
    decisions_.push_back(std::move(d));
  }

  void schedule_clients() {
    double t = 0;
    clients_.resize(static_cast<size_t>(std::max(0, s_.clients)));
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (s_.arrival.kind == Arrival::Kind::every && i > 0) t += s_.arrival.param;
      if (s_.arrival.kind == Arrival::Kind::poisson) {
        // Exponential inter-arrival times from the network's seeded RNG.
        t += -std::log1p(-net_.rng().uniform01()) / s_.arrival.param;
      }
      const double at = i < s_.client_start_s.size() ? s_.client_start_s[i] : t;
      net_.at(client_, from_seconds(at), [this, i] { start_client(i); });
    }
  }

  void start_client(size_t i) {
    Stack& st = net_.stack(client_);
    Client& c = clients_[i];
    c.r.id = static_cast<int>(i);
    c.r.start_s = now_s();
    c.fd = *st.socket(SockType::stream);
    Errno e = st.connect(c.fd, {kServerAddr, kServerPort});
    if (auto name = st.getsockname(c.fd); name.ok()) c.r.port = name->port;
    active_.push_back(i);
    note(TimelineEntry::Kind::client,
         fmt::format("client {} (port {}) calls connect(): {}", i, c.r.port, errno_name(e)));
  }

  void finish(Client& c, Outcome o, Errno e) {
    c.r.outcome = o;
    c.r.error = e;
    c.r.end_s = now_s();
    c.done = true;
    net_.stack(client_).close(c.fd);
  }

  void poll_clients() {
    Stack& st = net_.stack(client_);
    size_t keep = 0;
    for (size_t k = 0; k < active_.size(); ++k) {
      Client& c = clients_[active_[k]];
      step_client(st, c);
      if (!c.done) active_[keep++] = active_[k];
    }
    active_.resize(keep);
  }

  void step_client(Stack& st, Client& c) {
    auto ready = st.poll(c.fd);
    if (!ready.ok()) return;
    if (*ready & kError) {
      // SO_ERROR is read-and-clear: read it once.
      const auto so_error = st.getsockopt(c.fd, SockOpt::so_error);
      const Errno e = so_error.ok() ? static_cast<Errno>(*so_error) : Errno::ok;
      Outcome o = !c.connected ? (e == Errno::etimedout ? Outcome::timed_out : Outcome::refused)
                               : (e == Errno::etimedout ? Outcome::timed_out : Outcome::reset);
      if (c.connected) c.r.outcome = Outcome::established;
      note(TimelineEntry::Kind::client,
           fmt::format("client {} (port {}): {}", c.r.id, c.r.port,
                       c.connected ? fmt::format("connection fails with {}", errno_name(e))
                                   : fmt::format("connect() fails with {}", errno_name(e))));
      finish(c, o, e);
      return;
    }
    if (!c.connected && (*ready & kWritable)) {
      c.connected = true;
      c.r.outcome = Outcome::established;
      c.r.connect_time_s = now_s() - c.r.start_s;
      note(TimelineEntry::Kind::client,
           fmt::format("client {} (port {}) is ESTABLISHED after {:.3f} s", c.r.id, c.r.port,
                       c.r.connect_time_s));
    }
    if (!c.connected) return;
    if (c.sent < s_.request_bytes) {
      std::vector<uint8_t> buf(s_.request_bytes - c.sent, 'q');
      if (auto n = st.send(c.fd, buf); n.ok()) c.sent += static_cast<uint32_t>(*n);
    }
    uint8_t buf[4096];
    while (true) {
      auto n = st.recv(c.fd, buf);
      if (!n.ok() || *n == 0) break;
      c.received += static_cast<uint32_t>(*n);
    }
    if (s_.response_bytes > 0 && c.received >= s_.response_bytes) {
      c.done = true;
      c.r.end_s = now_s();
      st.close(c.fd);
    }
  }

  void schedule_accepts() {
    for (double t : s_.accept_once_at) {
      net_.at(server_, from_seconds(t), [this] {
        Stack& st = net_.stack(server_);
        Endpoint peer;
        snapshot("before a single accept()");
        if (auto fd = st.accept(listener_, &peer); fd.ok()) {
          ++accepted_;
          served_.push_back({*fd, 0, 0, false});
          note(TimelineEntry::Kind::server,
               fmt::format("server calls accept() once: {}", peer.to_string()));
        } else {
          note(TimelineEntry::Kind::server, "server calls accept() once: nothing queued");
        }
      });
    }
    if (s_.accept.kind == AcceptPolicy::Kind::at) {
      net_.at(server_, from_seconds(s_.accept.param), [this] {
        accepting_ = true;
        note(TimelineEntry::Kind::server, "server application starts calling accept()");
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

  void serve() {
    Stack& st = net_.stack(server_);
    while (accepting_ || accept_tokens_ > 0) {
      Endpoint peer;
      auto fd = st.accept(listener_, &peer);
      if (!fd.ok()) break;
      if (accept_tokens_ > 0) --accept_tokens_;
      ++accepted_;
      served_.push_back({*fd, 0, 0, false});
      note(TimelineEntry::Kind::server,
           fmt::format("server accept() returns {}", peer.to_string()));
    }
    uint8_t buf[4096];
    for (auto& c : served_) {
      if (c.closed) continue;
      while (true) {
        auto n = st.recv(c.fd, buf);
        if (!n.ok() || *n == 0) break;
        c.received += static_cast<uint32_t>(*n);
      }
      if (c.received >= s_.request_bytes && c.sent < s_.response_bytes) {
        std::vector<uint8_t> out(s_.response_bytes - c.sent, 'r');
        if (auto n = st.send(c.fd, out); n.ok()) c.sent += static_cast<uint32_t>(*n);
      }
      if (c.received >= s_.request_bytes && c.sent >= s_.response_bytes) {
        st.close(c.fd);
        c.closed = true;
      }
    }
    sample_queues();
  }

  void sample_queues() {
    uint32_t syn = 0, acc = 0;
    for (const auto& i : net_.stack(server_).sockets()) {
      if (i.state == TcpState::listen && i.fd == listener_) acc = i.recv_q;
      if (i.state == TcpState::syn_received && i.fd < 0) ++syn;
    }
    max_syn_ = std::max(max_syn_, syn);
    max_acc_ = std::max(max_acc_, acc);
    if (!queues_.empty() && queues_.back().syn_queue == syn && queues_.back().accept_queue == acc)
      return;
    queues_.push_back({now_s(), syn, acc});
  }

  void snapshot(const std::string& why) {
    if (!o_.record_timeline) return;
    std::string text = fmt::format("ss -lnt on the server ({}):\n", why);
    text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", "State", "Recv-Q", "Send-Q",
                        "Local", "Peer", "Model");
    for (const auto& i : net_.stack(server_).sockets()) {
      if (i.type != SockType::stream) continue;
      text += fmt::format("  {:<13}{:>7}{:>7}  {:<22}{:<22}{}\n", tcp_state_name(i.state), i.recv_q,
                          i.send_q, i.local.to_string(),
                          i.state == TcpState::listen ? "*:*" : i.remote.to_string(), i.model);
    }
    note(TimelineEntry::Kind::snapshot, text);
  }

  Scenario s_;
  RunOptions o_;
  sim::SimNetwork net_;
  sim::HostId server_ = 0, client_ = 0;
  int listener_ = -1;
  std::vector<Client> clients_;
  std::vector<size_t> active_;
  std::vector<Served> served_;
  bool accepting_ = false;
  uint64_t accept_tokens_ = 0;
  uint64_t accepted_ = 0;
  std::vector<QueueSample> queues_;
  std::vector<TimelineEntry> timeline_;
  std::vector<Decision> decisions_;
  size_t packet_lines_ = 0;
  uint32_t max_syn_ = 0, max_acc_ = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

LabResult run(const Scenario& s, const RunOptions& opts) {
  return Runner(s, opts).run();
}

std::string summary_text(const LabResult& r) {
  std::string out;
  const auto& s = r.scenario;
  out += fmt::format("scenario {}: model {}, listen(fd, {}), {} clients ({}), accept {}, {} s\n",
                     s.name, s.model, s.backlog, s.clients, s.arrival.to_string(),
                     s.accept.to_string(), s.duration_s);
  if (!r.error.empty()) return out + "error: " + r.error + "\n";
  size_t counts[5] = {};
  std::vector<double> times;
  for (const auto& c : r.clients) {
    ++counts[static_cast<size_t>(c.outcome)];
    if (c.connect_time_s >= 0) times.push_back(c.connect_time_s);
  }
  out += "client outcomes:";
  for (size_t i = 0; i < 5; ++i)
    out += fmt::format(" {} {}", outcome_name(static_cast<Outcome>(i)), counts[i]);
  out += "\n";
  if (!times.empty())
    out += fmt::format("connect time: p50 {:.3f} s, p90 {:.3f} s, p99 {:.3f} s, max {:.3f} s\n",
                       percentile(times, 0.5), percentile(times, 0.9), percentile(times, 0.99),
                       percentile(times, 1.0));
  out += fmt::format("queue high-water marks: SYN queue {}, accept queue {}; accepted {}\n",
                     r.max_syn_queue, r.max_accept_queue, r.accepted);
  out += "server counters (non-zero):\n";
  out += r.server.to_table();
  return out;
}

std::string to_json(const LabResult& r) {
  using nlohmann::ordered_json;
  const auto& s = r.scenario;
  ordered_json j;
  j["scenario"] = s.name;
  j["model"] = s.model;
  j["settings"] = {{"backlog", s.backlog},
                   {"clients", s.clients},
                   {"arrival", s.arrival.to_string()},
                   {"accept", s.accept.to_string()},
                   {"duration_s", s.duration_s},
                   {"seed", s.seed},
                   {"latency_ms", s.latency_ms},
                   {"request_bytes", s.request_bytes},
                   {"response_bytes", s.response_bytes}};
  ordered_json sets = ordered_json::object();
  for (const auto& [k, v] : s.server_sysctls) sets[k] = v;
  j["settings"]["server_sysctls"] = sets;
  if (!r.error.empty()) j["error"] = r.error;
  j["counters"] = ordered_json::parse(r.server.to_flat_json());
  j["client_counters"] = ordered_json::parse(r.client.to_flat_json());
  ordered_json clients = ordered_json::array();
  for (const auto& c : r.clients) {
    ordered_json o = {{"id", c.id},
                      {"port", c.port},
                      {"start_s", c.start_s},
                      {"outcome", outcome_name(c.outcome)}};
    o["connect_time_s"] = c.connect_time_s >= 0 ? ordered_json(c.connect_time_s) : ordered_json();
    o["end_s"] = c.end_s >= 0 ? ordered_json(c.end_s) : ordered_json();
    if (c.error != Errno::ok) o["error"] = errno_name(c.error);
    clients.push_back(std::move(o));
  }
  j["clients"] = std::move(clients);
  ordered_json queues = ordered_json::array();
  for (const auto& q : r.queues)
    queues.push_back({{"t", q.t}, {"syn_queue", q.syn_queue}, {"accept_queue", q.accept_queue}});
  j["queues"] = std::move(queues);
  j["high_water"] = {{"syn_queue", r.max_syn_queue}, {"accept_queue", r.max_accept_queue}};
  ordered_json tl = ordered_json::array();
  static constexpr const char* kKinds[] = {"packet", "client", "server", "snapshot", "decision"};
  for (const auto& e : r.timeline) {
    ordered_json o = {{"t", e.t}, {"kind", kKinds[static_cast<size_t>(e.kind)]}, {"text", e.text}};
    if (!e.direction.empty()) o["direction"] = e.direction;
    if (e.lost) o["lost"] = true;
    tl.push_back(std::move(o));
  }
  j["timeline"] = std::move(tl);
  ordered_json decisions = ordered_json::array();
  for (const auto& d : r.decisions) {
    ordered_json o = {{"t", d.t}, {"peer", d.peer}, {"decision", d.decision}};
    o["counter"] = d.counter.empty() ? ordered_json() : ordered_json(d.counter);
    o["reason"] = d.reason;
    o["tcp_flags"] = d.tcp_flags;
    decisions.push_back(std::move(o));
  }
  j["decisions"] = std::move(decisions);
  return j.dump(2);
}

}  // namespace synq::lab
