// `synq doctor --predict`: the observed listener as a lab scenario, its
// variants, the rates read off an observation, and the scenario's TOML.
// Virtual time: every run is exact and fast, no root needed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "doctor/predict.hpp"
#include "lab/lab_run.hpp"
#include "lab/scenario.hpp"

#include "doctor_test_util.hpp"

namespace synq::doctor {
namespace {

// The knobs of a stock Linux 6.18 namespace.
NetnsSnapshot stock_namespace() {
  NetnsSnapshot s;
  s.knobs = testing::stock_knobs();
  return s;
}

Listener listener(int family, uint16_t port, uint32_t recv_q, uint32_t send_q, uint64_t cookie) {
  Listener l;
  l.local.family = family;
  l.local.port = port;
  l.recv_q = recv_q;
  l.send_q = send_q;
  l.cookie = cookie;
  return l;
}

PredictInput input(uint32_t send_q, uint32_t recv_q, double arrival, double accept) {
  PredictInput in;
  in.host = stock_namespace();
  in.listener = listener(AF_INET, 8080, recv_q, send_q, 1);
  in.host.listeners = {in.listener};
  in.window_s = 5;
  in.arrival_per_s = arrival;
  in.accept_per_s = accept;
  in.rates_source = "given by the test";
  return in;
}

const PredictRow& row(const Prediction& p, const std::string& starts_with) {
  for (const PredictRow& r : p.rows)
    if (r.variant.starts_with(starts_with)) return r;
  ADD_FAILURE() << "no row starting with '" << starts_with << "'";
  static const PredictRow none;
  return none;
}

// A listen(3) nobody accepts from, 10 connections a second: Linux holds B+1 = 4
// in the accept queue, then drops every SYN (tcp_conn_request) until the
// clients give up.
TEST(DoctorPredict, FullListenerDropsAndALargerBacklogDropsLess) {
  const Prediction p = predict(input(3, 4, 10, 0));
  ASSERT_EQ(p.rows.size(), 4u);
  const PredictRow& seen = p.rows[0];
  EXPECT_EQ(seen.variant, "as observed");
  EXPECT_EQ(seen.backlog, 3);
  EXPECT_GE(seen.clients, 300);  // 30 s of arrivals at 10/s
  // Only the B+1 the queue holds ever complete; everybody else times out.
  EXPECT_EQ(seen.established, 4);
  EXPECT_EQ(seen.timed_out, seen.clients - 4);
  EXPECT_GT(seen.dropped_syn, seen.clients / 2);

  const PredictRow& bigger = row(p, "backlog 12");
  EXPECT_EQ(bigger.backlog, 12);
  EXPECT_EQ(bigger.established, 13);
  EXPECT_LT(bigger.timed_out, seen.timed_out);
  EXPECT_LT(bigger.dropped_syn, seen.dropped_syn);

  // An acceptor at the arrival rate empties the queue: nearly nobody times out.
  const PredictRow& acceptor = row(p, "an acceptor at the arrival rate");
  EXPECT_EQ(acceptor.change, "--accept rate:10");
  EXPECT_EQ(acceptor.timed_out, 0);
  EXPECT_GT(acceptor.established, seen.clients - 5);

  const std::string text = render_text(p);
  EXPECT_NE(text.find("note: the application does not accept"), std::string::npos) << text;
  EXPECT_NE(text.find("a backlog of 12 instead of 3: p99 connect time"), std::string::npos) << text;
  const nlohmann::json j = to_json(p);
  EXPECT_EQ(j["rows"].size(), 4u);
  EXPECT_EQ(j["rows"][0]["established"], 4);
  EXPECT_EQ(j["rows"][1]["backlog"], 12);
}

// With a backlog of 1 and a slow acceptor, third ACKs meet a full accept
// queue: ignored by default, answered with a RST under abort_on_overflow
// (net/ipv4/tcp_minisocks.c, tcp_check_req: listen_overflow, embryonic_reset).
// A few stay silent drops: ACKs carrying a SYN cookie find the queue full
// outside tcp_check_req (net/ipv4/syncookies.c, cookie_v4_check), no RST.
TEST(DoctorPredict, AbortOnOverflowTurnsAckDropsIntoResets) {
  PredictInput in = input(1, 2, 100, 10);
  in.host.knobs["net.ipv4.tcp_syn_retries"] = 2;  // clients give up after 7 s: a short run
  in.host.knobs["net.ipv4.tcp_syn_linear_timeouts"] = 0;
  const Prediction p = predict(in);
  const PredictRow& seen = p.rows[0];
  const PredictRow& abort = row(p, "abort_on_overflow=1");
  EXPECT_EQ(abort.change, "--set net.ipv4.tcp_abort_on_overflow=1");
  EXPECT_EQ(seen.reset, 0);
  EXPECT_GT(seen.dropped_ack, 0);
  EXPECT_GT(abort.reset, 0) << render_text(p);
  EXPECT_LT(abort.dropped_ack, seen.dropped_ack) << render_text(p);
}

TEST(DoctorPredict, ListenerThatKeepsUpDropsNothingInAnyRow) {
  const Prediction p = predict(input(128, 0, 10, 1000));
  ASSERT_EQ(p.rows.size(), 4u);
  for (const PredictRow& r : p.rows) {
    SCOPED_TRACE(r.variant);
    EXPECT_EQ(r.established, r.clients);
    EXPECT_EQ(r.dropped_syn, 0);
    EXPECT_EQ(r.dropped_ack, 0);
    EXPECT_EQ(r.reset, 0);
    EXPECT_EQ(r.timed_out, 0);
    EXPECT_LT(r.connect_max_s, 0.01);  // one round trip on a 0.05 ms link, no retransmission
  }
  EXPECT_EQ(row(p, "2× accept rate").change, "--accept at:0");  // already takes each on arrival
}

TEST(DoctorPredict, UnknownRatesAreAssumedAndSaidSo) {
  const Prediction p = predict(input(128, 0, -1, -1));
  ASSERT_GE(p.notes.size(), 2u);
  EXPECT_NE(p.notes[0].find("assumed 100 connections/s"), std::string::npos) << p.notes[0];
  EXPECT_NE(p.notes[1].find("--accept-rate"), std::string::npos) << p.notes[1];
  EXPECT_NE(render_text(p).find("note: arrival rate unknown"), std::string::npos);
}

TEST(DoctorPredict, SomaxconnBelowTheBacklogNeedsRaisingForTheLargerBacklog) {
  PredictInput in = input(128, 0, 10, 1000);
  in.host.knobs["net.core.somaxconn"] = 128;
  const Prediction p = predict(in);
  const PredictRow& bigger = p.rows[1];
  EXPECT_EQ(bigger.variant, "backlog 512 (needs net.core.somaxconn ≥ 512)");
  EXPECT_EQ(bigger.change, "--backlog 512 --set net.core.somaxconn=512");
  EXPECT_EQ(bigger.backlog, 512);  // the lab clamped nothing: somaxconn was raised with it
}

Observation observed(std::vector<Listener> listeners) {
  Observation o;
  o.before = stock_namespace();
  o.after = stock_namespace();
  o.before.listeners = listeners;
  o.after.listeners = listeners;
  o.window_s = 4;
  return o;
}

TEST(DoctorPredictInput, NoListenerOnThePortNamesThePortsSeen) {
  const Observation o =
      observed({listener(AF_INET, 443, 0, 511, 2), listener(AF_INET, 80, 0, 511, 3),
                listener(AF_INET6, 80, 0, 511, 4)});
  try {
    predict_input(o, 8080);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "no listener on port 8080 in this namespace (doctor saw: 80, 443)");
  }
  try {
    predict_input(observed({}), 22);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "no listener on port 22 in this namespace (doctor saw no listeners)");
  }
}

// Each dropped SYN comes back as its client's retransmission: the arrival
// rate counts SYNs minus drops, not SYNs.
TEST(DoctorPredictInput, RatesFromEvidenceOfTheBusiestListenerOnThePort) {
  Observation o = observed({listener(AF_INET, 8080, 0, 128, 10), listener(AF_INET6, 8080, 4, 3, 11),
                            listener(AF_INET, 22, 0, 128, 12)});
  ListenerEvidence quiet;
  quiet.cookie = 10;
  quiet.syns = 2;
  quiet.accepts = 2;
  quiet.completions = 2;
  ListenerEvidence busy;
  busy.cookie = 11;
  busy.syns = 100;
  busy.syn_drops_accept_queue = 60;
  busy.completions = 4;
  busy.accepts = 0;
  busy.accept_queue_max = 4;
  o.evidence = std::vector<ListenerEvidence>{quiet, busy};
  const PredictInput in = predict_input(o, 8080);
  EXPECT_EQ(in.listener.cookie, 11u);
  EXPECT_EQ(in.listener.send_q, 3u);
  EXPECT_DOUBLE_EQ(in.arrival_per_s, 10.0);  // (100 - 60) / 4 s
  EXPECT_DOUBLE_EQ(in.accept_per_s, 0.0);    // connections were queued and none accepted
  EXPECT_EQ(in.host.knob("net.core.somaxconn"), 4096);
  EXPECT_DOUBLE_EQ(in.window_s, 4);
  EXPECT_NE(in.rates_source.find("100 SYNs, 60 of them dropped and retried, so 40 new"),
            std::string::npos)
      << in.rates_source;
  ASSERT_FALSE(in.notes.empty());
  EXPECT_NE(in.notes[0].find("2 listeners on port 8080: modelling [::]:8080"), std::string::npos)
      << in.notes[0];
}

// A queue that never filled says how much the application accepted, not how
// much it could: the rate is left unknown (predict() then assumes it keeps up).
TEST(DoctorPredictInput, AcceptRateOfAQueueThatNeverFilledIsUnknown) {
  Observation o = observed({listener(AF_INET, 8080, 0, 128, 10)});
  ListenerEvidence e;
  e.cookie = 10;
  e.syns = 40;
  e.completions = 40;
  e.accepts = 40;
  e.accept_queue_max = 2;
  o.evidence = std::vector<ListenerEvidence>{e};
  const PredictInput in = predict_input(o, 8080);
  EXPECT_DOUBLE_EQ(in.arrival_per_s, 10.0);
  EXPECT_LT(in.accept_per_s, 0);
  EXPECT_NE(in.rates_source.find("never filled (high-water mark 2 of 129)"), std::string::npos)
      << in.rates_source;
  EXPECT_NE(in.rates_source.find("at 10/s or more"), std::string::npos) << in.rates_source;
  const Prediction p = predict(in);
  EXPECT_EQ(p.rows[0].dropped_syn + p.rows[0].dropped_ack, 0) << render_text(p);
}

TEST(DoctorPredictInput, WithoutEvidenceCountersServeOnlyWhenThePortIsAlone) {
  Observation o = observed({listener(AF_INET, 8080, 0, 128, 10)});
  o.before.counters = {{"Tcp.PassiveOpens", 1000}, {"TcpExt.ListenDrops", 5}};
  o.after.counters = {{"Tcp.PassiveOpens", 1040}, {"TcpExt.ListenDrops", 5}};
  o.after.listeners[0].recv_q = 8;  // 8 of the 40 children are still queued
  o.evidence_missing = "BPF: not root";
  PredictInput in = predict_input(o, 8080);
  EXPECT_DOUBLE_EQ(in.arrival_per_s, 10.0);  // 40 / 4 s
  EXPECT_DOUBLE_EQ(in.accept_per_s, 8.0);    // (40 - 8) / 4 s
  EXPECT_NE(in.rates_source.find("Tcp.PassiveOpens +40"), std::string::npos) << in.rates_source;

  o.after.listeners.push_back(listener(AF_INET, 22, 0, 128, 12));
  in = predict_input(o, 8080);
  EXPECT_LT(in.arrival_per_s, 0);
  EXPECT_LT(in.accept_per_s, 0);
  EXPECT_NE(in.rates_source.find("rates unknown"), std::string::npos) << in.rates_source;
}

// Runs last until the last client has given up: its connect() times out at
// the first SYN timer past tcp_model_timeout(tcp_syn_retries) — 131 s for
// (6, 4), 127 s for (6, 0), 3 s for (1, 2), as measured on Linux 6.18
// (docs/kernel-facts.md) — plus a second; 300 clients at 10/s arrive over 30 s.
TEST(DoctorPredict, RunsLastUntilTheLastClientGaveUp) {
  for (auto [retries, linear, give_up] : {std::tuple{6, 4, 131}, {6, 0, 127}, {1, 2, 3}}) {
    PredictInput in = input(3, 0, 10, 0);
    in.host.knobs["net.ipv4.tcp_syn_retries"] = retries;
    in.host.knobs["net.ipv4.tcp_syn_linear_timeouts"] = linear;
    const Prediction p = predict(in);
    std::string error;
    const auto s = lab::parse_scenario_toml(p.scenario_toml, "predict.toml", &error);
    ASSERT_TRUE(s) << error;
    EXPECT_DOUBLE_EQ(s->duration_s, 30 + give_up + 1) << retries << ", " << linear;
    EXPECT_EQ(p.rows[0].timed_out + p.rows[0].established, p.rows[0].clients);  // none pending
  }
}

// The scenario file reads back through `synq lab`'s parser into the same
// scenario, and runs to the same result.
TEST(DoctorPredict, ScenarioTomlRoundTripsThroughTheLabParser) {
  const PredictInput in = input(3, 4, 10, 0.5);
  const Prediction p = predict(in);
  std::string error;
  const auto s = lab::parse_scenario_toml(p.scenario_toml, "predict.toml", &error);
  ASSERT_TRUE(s) << error << "\n" << p.scenario_toml;
  EXPECT_EQ(s->backlog, 3);
  EXPECT_EQ(s->model, "linux");
  EXPECT_EQ(s->arrival.kind, lab::Arrival::Kind::poisson);
  EXPECT_DOUBLE_EQ(s->arrival.param, 10);
  EXPECT_EQ(s->accept.kind, lab::AcceptPolicy::Kind::rate);
  EXPECT_DOUBLE_EQ(s->accept.param, 0.5);
  EXPECT_DOUBLE_EQ(s->latency_ms, 0.05);
  const std::vector<std::pair<std::string, std::string>> client_knobs = {
      {"net.ipv4.tcp_syn_linear_timeouts", "4"}, {"net.ipv4.tcp_syn_retries", "6"}};
  EXPECT_EQ(s->client_sysctls, client_knobs);
  EXPECT_EQ(s->server_sysctls.size(), 5u);

  lab::RunOptions opts;
  opts.record_timeline = false;
  const lab::LabResult r = lab::run(*s, opts);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const PredictRow& seen = p.rows[0];
  int established = 0, timed_out = 0, syn = 0;
  double max_connect = -1;
  for (const lab::ClientResult& c : r.clients) {
    established += c.outcome == lab::Outcome::established;
    timed_out += c.outcome == lab::Outcome::timed_out;
    syn += c.syn_drops > 0;
    if (c.outcome == lab::Outcome::established)
      max_connect = std::max(max_connect, c.connect_time_s);
  }
  EXPECT_EQ(static_cast<int>(r.clients.size()), seen.clients);
  EXPECT_EQ(established, seen.established);
  EXPECT_EQ(timed_out, seen.timed_out);
  EXPECT_EQ(syn, seen.dropped_syn);
  EXPECT_DOUBLE_EQ(max_connect, seen.connect_max_s);
}

// --- The prediction against the host kernel, in a network namespace of its own.

// Moves this test process into a new network namespace with loopback up.
// Returns an empty string on success, else why not.
std::string enter_private_netns() {
  if (unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + strerror(errno);
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
  const bool up = fd >= 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  const std::string why = up ? "" : std::string("ioctl(SIOCSIFFLAGS, lo): ") + strerror(errno);
  if (fd >= 0) close(fd);
  return why;
}

// /proc/sys/net is the namespace of the process that reads it.
int64_t read_knob(const std::string& name) {
  std::string path = "/proc/sys/" + name;
  std::replace(path.begin(), path.end(), '.', '/');
  std::ifstream in(path);
  int64_t v = -1;
  in >> v;
  return v;
}

void write_knob(const std::string& name, int64_t value) {
  std::string path = "/proc/sys/" + name;
  std::replace(path.begin(), path.end(), '.', '/');
  std::ofstream(path) << value;
  ASSERT_EQ(read_knob(name), value) << path;
}

struct RealListener {
  int fd = -1;
  uint16_t port = 0;
};

RealListener real_listener(int backlog) {
  RealListener l;
  l.fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(l.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
  EXPECT_EQ(listen(l.fd, backlog), 0) << strerror(errno);
  socklen_t len = sizeof a;
  getsockname(l.fd, reinterpret_cast<sockaddr*>(&a), &len);
  l.port = ntohs(a.sin_port);
  return l;
}

// Recv-Q and Send-Q as sock_diag reports them: for a listener tcp_get_info
// puts sk_ack_backlog in tcpi_unacked and sk_max_ack_backlog in tcpi_sacked
// (net/ipv4/tcp.c, tcp_get_info), the values inet_diag gives as
// idiag_rqueue/idiag_wqueue (net/ipv4/tcp_diag.c, tcp_diag_get_info).
Listener observed_listener(const RealListener& r) {
  tcp_info info{};
  socklen_t len = sizeof info;
  EXPECT_EQ(getsockopt(r.fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0) << strerror(errno);
  Listener l;
  l.local.family = AF_INET;
  l.local.addr = {127, 0, 0, 1};
  l.local.port = r.port;
  l.recv_q = info.tcpi_unacked;
  l.send_q = info.tcpi_sacked;
  return l;
}

// `clients` connect()s 5 ms apart (a loopback handshake takes microseconds)
// to a listener that never accepts; returns how many completed within the
// next 300 ms (a SYN dropped at SYN time is not retried before 1 s).
int connected_clients(uint16_t port, int clients) {
  std::vector<int> fds;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  for (int i = 0; i < clients; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fds.push_back(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int connected = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
      ++connected;
  }
  for (int fd : fds) close(fd);
  return connected;
}

// The prediction's "as observed" and "backlog 4×" rows against the kernel:
// a listener nobody accepts from completes exactly as many handshakes as the
// prediction says, with its real Send-Q (clamped by a lowered somaxconn) and
// the namespace's real knobs as input.
TEST(DoctorPredictKernel, NeverAcceptedListenerCompletesWhatThePredictionSays) {
  if (geteuid() != 0) {
    if (std::getenv("CI")) FAIL() << "CI is set but the test is not root: it needs a netns";
    GTEST_SKIP() << "*** SKIPPED: not root, so no network namespace to run real listeners in "
                    "(run as root, or set CI to make this a failure) ***";
  }
  const std::string why = enter_private_netns();
  ASSERT_TRUE(why.empty()) << why;
  write_knob("net.core.somaxconn", 8);
  // Clients of this namespace give up after 3 s: short simulated runs. The
  // real clients below are looked at long before their first retry (1 s).
  write_knob("net.ipv4.tcp_syn_retries", 1);

  NetnsSnapshot ns;
  for (const char* k :
       {"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_retries",
        "net.ipv4.tcp_syn_linear_timeouts"})
    if (int64_t v = read_knob(k); v >= 0) ns.knobs[k] = v;

  for (int backlog : {3, 4096}) {
    SCOPED_TRACE(fmt::format("listen({})", backlog));
    const RealListener real = real_listener(backlog);
    const int kernel_connected = connected_clients(real.port, 12);

    PredictInput in;
    in.listener = observed_listener(real);
    in.host = ns;
    in.host.listeners = {in.listener};
    in.arrival_per_s = 200;  // the clients above: one per 5 ms
    in.accept_per_s = 0;
    in.rates_source = "the test's own clients";
    EXPECT_EQ(in.listener.send_q, backlog == 3 ? 3u : 8u);  // 4096 clamped to somaxconn 8
    EXPECT_EQ(in.listener.recv_q, in.listener.send_q + 1);  // B+1 queued
    const Prediction p = predict(in);
    EXPECT_EQ(p.rows[0].established, kernel_connected) << render_text(p);
    EXPECT_EQ(kernel_connected, static_cast<int>(in.listener.send_q) + 1);

    // The larger backlog, tried on the kernel too (somaxconn raised as the
    // variant's flags say).
    const PredictRow& bigger = p.rows[1];
    write_knob("net.core.somaxconn", std::max(8, bigger.backlog));
    const RealListener larger = real_listener(bigger.backlog);
    EXPECT_EQ(bigger.established, connected_clients(larger.port, bigger.backlog + 4))
        << render_text(p);
    EXPECT_EQ(bigger.variant, fmt::format("backlog {} (needs net.core.somaxconn ≥ {})",
                                          4 * in.listener.send_q, 4 * in.listener.send_q));
    close(larger.fd);
    close(real.fd);
    write_knob("net.core.somaxconn", 8);
  }
}

}  // namespace
}  // namespace synq::doctor
