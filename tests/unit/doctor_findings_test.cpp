// diagnose(): each finding fires on an Observation that should trigger it,
// with its numbers in the words, and stays quiet on the near miss.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "doctor/findings.hpp"

#include "doctor_test_util.hpp"

namespace synq::doctor {
namespace {

SocketAddress v4(const char* ip, uint16_t port) {
  SocketAddress a;
  a.family = AF_INET;
  inet_pton(AF_INET, ip, a.addr.data());
  a.port = port;
  return a;
}

Listener listener(uint16_t port, uint32_t recv_q, uint32_t send_q, uint64_t cookie = 0) {
  Listener l;
  l.local = v4("127.0.0.1", port);
  l.recv_q = recv_q;
  l.send_q = send_q;
  l.cookie = cookie;
  l.inode = 1000 + port;
  return l;
}

// A namespace with Linux 6.18's defaults, inode 4026531840.
NetnsSnapshot host(int64_t somaxconn = 4096) {
  NetnsSnapshot s;
  s.netns_inode = 4026531840;
  s.knobs = testing::stock_knobs(somaxconn);
  return s;
}

Observation observe(NetnsSnapshot after, bool with_evidence = true) {
  Observation o;
  o.before = after;
  o.before.taken_at_s = 100;
  o.before.listeners.clear();
  o.after = std::move(after);
  o.after.taken_at_s = 102;
  o.window_s = 2;
  if (with_evidence)
    o.evidence.emplace();
  else
    o.evidence_missing = "per-port kernel evidence unavailable: loading BPF needs root";
  return o;
}

ListenerEvidence evidence_for_listener(const Listener& l, const NetnsSnapshot& s) {
  ListenerEvidence e;
  e.cookie = l.cookie;
  e.netns_inode = s.netns_inode;
  e.local = l.local;
  e.backlog = l.send_q;
  return e;
}

// Copies, so that a temporary diagnose() result can be searched.
std::vector<Finding> with_id(const std::vector<Finding>& fs, std::string_view id) {
  std::vector<Finding> out;
  for (const auto& f : fs)
    if (f.id == id) out.push_back(f);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Owner owner(std::string comm, std::vector<std::string> argv) {
  return Owner{777, std::move(comm), std::move(argv)};
}

// ---------------------------------------------------------------- backlog_clamped

TEST(DoctorFindings, BacklogClampedWhenSendQIsSomaxconn) {
  auto s = host(128);
  s.listeners = {listener(8080, 0, 128)};
  const auto fs = diagnose(observe(s));
  const auto f = with_id(fs, "backlog_clamped");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::warning);
  ASSERT_TRUE(f[0].listener);
  EXPECT_EQ(f[0].listener->port, 8080);
  EXPECT_TRUE(has(f[0].detail, "Send-Q 128")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "129")) << f[0].detail;  // B+1 fit
  EXPECT_EQ(f[0].numbers["somaxconn"], 128);
  EXPECT_FALSE(f[0].fix.empty());
}

TEST(DoctorFindings, BacklogBelowSomaxconnIsNotClamped) {
  auto s = host(128);
  s.listeners = {listener(8080, 0, 127)};
  EXPECT_TRUE(with_id(diagnose(observe(s)), "backlog_clamped").empty());
}

TEST(DoctorFindings, ClampSaysWhatARecognisedRuntimeAskedFor) {
  auto s = host(128);
  auto l = listener(3000, 0, 128);
  l.owners = {owner("node", {"node", "server.js"})};
  s.listeners = {l};
  const auto fs = diagnose(observe(s));
  const auto clamp = with_id(fs, "backlog_clamped");
  ASSERT_EQ(clamp.size(), 1u);
  EXPECT_TRUE(has(clamp[0].detail, "asked for 511 (Node.js")) << clamp[0].detail;
  EXPECT_EQ(clamp[0].numbers["asked"], 511);
  // ... and the framework default is reported with its clamp.
  const auto def = with_id(fs, "framework_default");
  ASSERT_EQ(def.size(), 1u);
  EXPECT_TRUE(def[0].numbers["clamped"].get<bool>());
  EXPECT_TRUE(has(def[0].detail, "somaxconn 128")) << def[0].detail;
}

TEST(DoctorFindings, ClampInTheListenersOwnNamespace) {
  auto s = host(64);
  s.netns = "app";
  s.listeners = {listener(9000, 0, 64)};
  auto o = observe(s);
  o.origin = host(4096);
  const auto f = with_id(diagnose(o), "backlog_clamped");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "network namespace app")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "started from has somaxconn 4096")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "in force")) << f[0].detail;
  EXPECT_EQ(f[0].numbers["origin_somaxconn"], 4096);
  // Same somaxconn at the origin: nothing to say about namespaces.
  o.origin = host(64);
  const auto same = with_id(diagnose(o), "backlog_clamped");
  ASSERT_EQ(same.size(), 1u);
  EXPECT_FALSE(has(same[0].detail, "started from")) << same[0].detail;
}

// ---------------------------------------------------------------- framework_default

TEST(DoctorFindings, FrameworkDefaultPythonHttpServer) {
  auto s = host();
  auto l = listener(8000, 0, 5);
  l.owners = {owner("python3", {"python3", "-m", "http.server", "8000"})};
  s.listeners = {l};
  const auto f = with_id(diagnose(observe(s)), "framework_default");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "Send-Q 5")) << f[0].detail;
  EXPECT_TRUE(has(f[0].fix, "request_queue_size")) << f[0].fix;
  EXPECT_EQ(f[0].numbers["default"], 5);
  EXPECT_EQ(f[0].numbers["pid"], 777);
}

TEST(DoctorFindings, ChosenBacklogIsNotAFrameworkDefault) {
  auto s = host();
  auto l = listener(8001, 0, 3);  // socket.listen(3): chosen
  l.owners = {owner("python3", {"python3", "-c", "..."})};
  s.listeners = {l};
  EXPECT_TRUE(with_id(diagnose(observe(s)), "framework_default").empty());
}

TEST(DoctorFindings, SixteenBitTruncationIsReported) {
  auto s = host(262144);
  s.listeners = {listener(8443, 0, 0)};
  const auto f = with_id(diagnose(observe(s)), "framework_default");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "262144")) << f[0].detail;
  // Send-Q 0 under a small somaxconn is listen(fd, 0), not a truncation.
  auto small = host(4096);
  small.listeners = {listener(8443, 0, 0)};
  EXPECT_TRUE(with_id(diagnose(observe(small)), "framework_default").empty());
}

// ---------------------------------------------------------------- accept_queue_full

TEST(DoctorFindings, AcceptQueueFullIsBPlusOne) {
  auto s = host();
  s.listeners = {listener(8080, 4, 3)};
  const auto f = with_id(diagnose(observe(s)), "accept_queue_full");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].title, "4 of 3")) << f[0].title;
  EXPECT_TRUE(has(f[0].detail, "B+1 = 4")) << f[0].detail;
}

TEST(DoctorFindings, RecvQEqualToSendQIsNotFullOnLinux) {
  auto s = host();
  s.listeners = {listener(8080, 3, 3)};
  EXPECT_TRUE(with_id(diagnose(observe(s)), "accept_queue_full").empty());
}

TEST(DoctorFindings, BurstBetweenSamplesFromTheHighWaterMark) {
  auto s = host();
  s.listeners = {listener(8080, 0, 3, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.accept_queue_max = 4;
  o.evidence->push_back(e);
  const auto f = with_id(diagnose(o), "accept_queue_full");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "showed 0 of 3")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "at 4")) << f[0].detail;
  // A high-water mark of B is not full.
  o.evidence->front().accept_queue_max = 3;
  EXPECT_TRUE(with_id(diagnose(o), "accept_queue_full").empty());
}

// ---------------------------------------------------------------- overflow by kind

TEST(DoctorFindings, SynTimeOverflowWithRateAndClientSteps) {
  auto s = host();
  s.listeners = {listener(8080, 4, 3, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.syn_drops_accept_queue = 10;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  const auto f = with_id(fs, "syn_time_overflow");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::problem);
  EXPECT_TRUE(has(f[0].detail, "10 SYNs")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "5.00/s")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "1, 2, 3, 4, 5, 7, 11")) << f[0].detail;
  EXPECT_DOUBLE_EQ(f[0].numbers["per_s"].get<double>(), 5.0);
  EXPECT_TRUE(with_id(fs, "ack_time_overflow").empty());
  // No SYN-time drops: no finding.
  o.evidence->front().syn_drops_accept_queue = 0;
  EXPECT_TRUE(with_id(diagnose(o), "syn_time_overflow").empty());
}

TEST(DoctorFindings, AckTimeOverflowWithSynAckSchedule) {
  auto s = host();
  s.listeners = {listener(8080, 4, 3, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.ack_overflows = 7;
  e.synack_retransmits = 9;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  const auto f = with_id(fs, "ack_time_overflow");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "7 handshakes")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "1, 3, 7, 15, 31 s")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "9 SYN-ACKs")) << f[0].detail;
  EXPECT_TRUE(with_id(fs, "syn_time_overflow").empty());
  EXPECT_TRUE(with_id(fs, "abort_on_overflow").empty());
}

TEST(DoctorFindings, AbortOnOverflowResets) {
  auto s = host();
  s.knobs["net.ipv4.tcp_abort_on_overflow"] = 1;
  s.listeners = {listener(8080, 4, 3, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.ack_overflows = 6;
  e.rst_on_overflow = 6;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  const auto f = with_id(fs, "abort_on_overflow");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "6 third ACKs")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "ECONNRESET")) << f[0].detail;
  // Every overflow was reset: none was a silent ACK-time drop.
  EXPECT_TRUE(with_id(fs, "ack_time_overflow").empty());
  o.evidence->front().rst_on_overflow = 0;
  o.evidence->front().ack_overflows = 0;
  EXPECT_TRUE(with_id(diagnose(o), "abort_on_overflow").empty());
}

// ---------------------------------------------------------------- SYN queue and cookies

TEST(DoctorFindings, SynQueueOverflowWithCookiesOff) {
  auto s = host();
  s.knobs["net.ipv4.tcp_syncookies"] = 0;
  s.listeners = {listener(8080, 0, 16, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.syn_drops_syn_queue = 12;
  e.syn_queue_max = 17;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  const auto f = with_id(fs, "syn_queue_overflow");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "12 SYNs")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "backlog 16")) << f[0].detail;
  EXPECT_TRUE(has(f[0].fix, "tcp_syncookies=1")) << f[0].fix;
  // Cookies off: tcp_max_syn_backlog matters, so it is no myth here.
  EXPECT_TRUE(with_id(fs, "myth_max_syn_backlog").empty());
  EXPECT_EQ(with_id(fs, "flood_log_once").size(), 1u);
  o.evidence->front().syn_drops_syn_queue = 0;
  EXPECT_TRUE(with_id(diagnose(o), "syn_queue_overflow").empty());
}

TEST(DoctorFindings, SynCookiesWithoutTimestampsLoseOptions) {
  auto s = host();
  s.knobs["net.ipv4.tcp_timestamps"] = 0;
  s.listeners = {listener(8080, 0, 128, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.cookies_sent = 40;
  e.cookies_validated = 31;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  const auto f = with_id(fs, "syn_cookies");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "40 SYNs")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "31 cookie ACKs")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "tcp_timestamps=0")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "window scaling")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "SACK")) << f[0].detail;
  EXPECT_TRUE(has(f[0].detail, "1460")) << f[0].detail;
  const auto flood = with_id(fs, "flood_log_once");
  ASSERT_EQ(flood.size(), 1u);
  EXPECT_TRUE(has(flood[0].detail, "at most once")) << flood[0].detail;
  // The myth finding: cookies on and SYN-queue pressure seen.
  EXPECT_EQ(with_id(fs, "myth_max_syn_backlog").size(), 1u);
  o.evidence->front().cookies_sent = 0;
  o.evidence->front().cookies_validated = 0;
  const auto quiet = diagnose(o);
  EXPECT_TRUE(with_id(quiet, "syn_cookies").empty());
  EXPECT_TRUE(with_id(quiet, "flood_log_once").empty());
}

TEST(DoctorFindings, FloodLogNeverPrintedWithCookiesAlways) {
  auto s = host();
  s.knobs["net.ipv4.tcp_syncookies"] = 2;
  s.listeners = {listener(8080, 0, 128, 55)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.cookies_sent = 3;
  o.evidence->push_back(e);
  const auto f = with_id(diagnose(o), "flood_log_once");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "never prints")) << f[0].detail;
}

TEST(DoctorFindings, MythMaxSynBacklogWhenChangedWithCookiesOn) {
  auto s = host();
  s.knobs["net.ipv4.tcp_max_syn_backlog"] = 100000;  // not the boot default's shape
  const auto f = with_id(diagnose(observe(s)), "myth_max_syn_backlog");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::info);
  EXPECT_TRUE(has(f[0].detail, "tcp_max_syn_backlog=100000")) << f[0].detail;
  // The boot default (a power of two) and no pressure: nothing to say, even
  // for a listen(fd, 0) listener with an empty SYN queue.
  auto quiet = host();
  quiet.listeners = {listener(7000, 0, 0), listener(7001, 0, 128)};
  quiet.listeners[1].syn_recv = 128;  // at B, not above: not full (qlen > B)
  EXPECT_TRUE(with_id(diagnose(observe(quiet)), "myth_max_syn_backlog").empty());
  // The boot default, but a full SYN queue: the knob is what people blame.
  quiet.listeners[1].syn_recv = 129;
  EXPECT_EQ(with_id(diagnose(observe(quiet)), "myth_max_syn_backlog").size(), 1u);
  // Changed, but cookies off: then it does matter.
  s.knobs["net.ipv4.tcp_syncookies"] = 0;
  EXPECT_TRUE(with_id(diagnose(observe(s)), "myth_max_syn_backlog").empty());
}

TEST(DoctorFindings, MythBacklogDrop) {
  auto s = host();
  s.counters["TcpExt.TCPBacklogDrop"] = 30;
  auto o = observe(s);
  o.before.counters["TcpExt.TCPBacklogDrop"] = 21;
  const auto f = with_id(diagnose(o), "myth_backlog_drop");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].detail, "moved by 9")) << f[0].detail;
  EXPECT_EQ(f[0].numbers["TCPBacklogDrop"], 9);
  o.before.counters["TcpExt.TCPBacklogDrop"] = 30;
  EXPECT_TRUE(with_id(diagnose(o), "myth_backlog_drop").empty());
}

// ---------------------------------------------------------------- without BPF

TEST(DoctorFindings, UnattributedDropsAndEvidenceMissingWithoutBpf) {
  auto s = host();
  s.listeners = {listener(8080, 4, 3)};
  s.counters = {{"TcpExt.ListenOverflows", 106}, {"TcpExt.ListenDrops", 106}};
  auto o = observe(s, false);
  o.before.counters = {{"TcpExt.ListenOverflows", 100}, {"TcpExt.ListenDrops", 100}};
  const auto fs = diagnose(o);
  const auto u = with_id(fs, "unattributed_drops");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].severity, Severity::problem);
  EXPECT_FALSE(u[0].listener);
  EXPECT_TRUE(has(u[0].detail, "ListenOverflows +6")) << u[0].detail;
  EXPECT_TRUE(has(u[0].detail, "cannot be split by port")) << u[0].detail;
  EXPECT_TRUE(has(u[0].detail, "127.0.0.1:8080 (4 of 3)")) << u[0].detail;
  const auto m = with_id(fs, "evidence_missing");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].detail, o.evidence_missing);
  // With evidence, neither appears (the drops are per port then).
  auto with = observe(s, true);
  with.before.counters = o.before.counters;
  const auto fs2 = diagnose(with);
  EXPECT_TRUE(with_id(fs2, "unattributed_drops").empty());
  EXPECT_TRUE(with_id(fs2, "evidence_missing").empty());
  // Without BPF but nothing moved: no unattributed drops.
  o.before.counters = s.counters;
  EXPECT_TRUE(with_id(diagnose(o), "unattributed_drops").empty());
}

TEST(DoctorFindings, NamespaceCookiesWithoutBpf) {
  auto s = host();
  s.counters = {{"TcpExt.SyncookiesSent", 50}, {"TcpExt.TCPReqQFullDoCookies", 50}};
  auto o = observe(s, false);
  o.before.counters.clear();  // both from 0 at the start of the window
  const auto fs = diagnose(o);
  const auto c = with_id(fs, "syn_cookies");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].listener);
  EXPECT_TRUE(has(c[0].detail, "SyncookiesSent +50")) << c[0].detail;
  EXPECT_EQ(with_id(fs, "flood_log_once").size(), 1u);
}

// ---------------------------------------------------------------- matching and order

TEST(DoctorFindings, EvidenceMatchedByCookieThenByAddress) {
  auto s = host();
  s.listeners = {listener(8080, 0, 3, 55), listener(8081, 0, 3, 0)};
  auto o = observe(s);
  auto by_cookie = evidence_for_listener(s.listeners[0], s);
  by_cookie.local.port = 1;  // the cookie decides, not the address
  by_cookie.syn_drops_accept_queue = 1;
  auto by_address = evidence_for_listener(s.listeners[1], s);
  by_address.cookie = 99;  // listener's cookie unknown: the address decides
  by_address.syn_drops_accept_queue = 2;
  auto stale = evidence_for_listener(s.listeners[0], s);
  stale.cookie = 54;  // an older socket on the same address
  stale.syn_drops_accept_queue = 1000;
  o.evidence = {stale, by_cookie, by_address};
  EXPECT_EQ(evidence_for(o, o.after.listeners[0]), &(*o.evidence)[1]);
  EXPECT_EQ(evidence_for(o, o.after.listeners[1]), &(*o.evidence)[2]);
  const auto f = with_id(diagnose(o), "syn_time_overflow");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].numbers["syn_drops"], 1);
  EXPECT_EQ(f[1].numbers["syn_drops"], 2);
  // Another namespace's evidence for the same address does not match.
  auto other_ns = evidence_for_listener(s.listeners[1], s);
  other_ns.netns_inode = 1;
  o.evidence = {other_ns};
  EXPECT_EQ(evidence_for(o, o.after.listeners[1]), nullptr);
}

TEST(DoctorFindings, ProblemsFirstThenByPort) {
  auto s = host(128);
  s.knobs["net.ipv4.tcp_max_syn_backlog"] = 1000;
  s.listeners = {listener(9000, 0, 128, 1), listener(8000, 4, 3, 2)};
  auto o = observe(s);
  auto e = evidence_for_listener(s.listeners[0], s);
  e.ack_overflows = 1;
  o.evidence->push_back(e);
  const auto fs = diagnose(o);
  ASSERT_GE(fs.size(), 4u);
  EXPECT_EQ(fs[0].id, "ack_time_overflow");  // the only problem, on port 9000
  for (size_t i = 1; i < fs.size(); ++i) {
    EXPECT_LE(fs[i].severity, fs[i - 1].severity) << fs[i].id;
    if (fs[i].severity == fs[i - 1].severity && fs[i].listener && fs[i - 1].listener) {
      EXPECT_LE(fs[i - 1].listener->port, fs[i].listener->port);
    }
  }
  EXPECT_EQ(fs.back().id, "myth_max_syn_backlog");
}

TEST(DoctorFindings, EveryFindingHasTitleDetailAndNumbers) {
  auto s = host(128);
  s.knobs["net.ipv4.tcp_max_syn_backlog"] = 1000;
  s.listeners = {listener(8000, 129, 128)};
  s.counters = {{"TcpExt.ListenOverflows", 5}, {"TcpExt.TCPBacklogDrop", 2}};
  const auto fs = diagnose(observe(s, false));
  ASSERT_FALSE(fs.empty());
  for (const auto& f : fs) {
    EXPECT_FALSE(f.title.empty()) << f.id;
    EXPECT_FALSE(f.detail.empty()) << f.id;
    EXPECT_TRUE(f.numbers.is_object()) << f.id;
    EXPECT_EQ(f.title.find('\n'), std::string::npos) << f.id;
  }
}

}  // namespace
}  // namespace synq::doctor
