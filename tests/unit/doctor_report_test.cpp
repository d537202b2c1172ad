// render_text and to_json over Observations built here: the text carries the
// numbers and fits 100 columns; the JSON carries the same fields and
// survives a dump/parse round trip.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "doctor/findings.hpp"
#include "doctor/report.hpp"

#include "doctor_test_util.hpp"

namespace synq::doctor {
namespace {

SocketAddress address(int family, const char* ip, uint16_t port) {
  SocketAddress a;
  a.family = family;
  inet_pton(family, ip, a.addr.data());
  a.port = port;
  return a;
}

// Three listeners as the acceptance test starts them: socketserver's
// default 5, listen(3) with its accept queue full (4 of 3), and listen(4096)
// clamped to a lowered somaxconn 64 — plus BPF evidence for the full one.
Observation acceptance_like(bool with_evidence) {
  NetnsSnapshot s;
  s.netns = "doctor-test";
  s.netns_inode = 4026532999;
  s.knobs = testing::stock_knobs(64);
  Listener a;
  a.local = address(AF_INET, "127.0.0.1", 8005);
  a.cookie = 11;
  a.send_q = 5;
  a.owners = {{301, "python3", {"python3", "-m", "http.server", "8005"}}};
  Listener b;
  b.local = address(AF_INET, "127.0.0.1", 8003);
  b.cookie = 12;
  b.recv_q = 4;
  b.send_q = 3;
  b.syn_recv = 1;
  b.owners = {{302, "python3", {"python3", "/tmp/listen3.py"}}};
  Listener c;
  c.local = address(AF_INET6, "::1", 8064);
  c.cookie = 13;
  c.send_q = 64;
  s.listeners = {a, b, c};
  s.counters = {
      {"TcpExt.ListenOverflows", 117}, {"TcpExt.ListenDrops", 117}, {"Tcp.PassiveOpens", 40}};

  Observation o;
  o.before = s;
  o.before.counters = {
      {"TcpExt.ListenOverflows", 100}, {"TcpExt.ListenDrops", 100}, {"Tcp.PassiveOpens", 36}};
  o.after = s;
  o.window_s = 5;
  if (with_evidence) {
    ListenerEvidence e;
    e.cookie = 12;
    e.netns_inode = s.netns_inode;
    e.local = b.local;
    e.syns = 21;
    e.syn_drops_accept_queue = 5;
    e.ack_overflows = 12;
    e.synack_retransmits = 12;
    e.completions = 4;
    e.accept_queue_max = 4;
    e.syn_queue_max = 1;
    e.backlog = 3;
    o.evidence = std::vector<ListenerEvidence>{e};
  } else {
    o.evidence_missing =
        "per-port kernel evidence unavailable: loading BPF needs root (CAP_BPF and CAP_PERFMON); "
        "queues, knobs and counters are still shown";
  }
  return o;
}

size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DoctorReport, TextCarriesTheNumbers) {
  const auto o = acceptance_like(true);
  const auto fs = diagnose(o);
  const std::string text = render_text(o, fs);
  EXPECT_TRUE(has(text, "doctor-test")) << text;
  EXPECT_TRUE(has(text, "4026532999")) << text;
  EXPECT_TRUE(has(text, "somaxconn=64")) << text;
  EXPECT_TRUE(has(text, "tcp_syn_linear_timeouts=4")) << text;
  EXPECT_TRUE(has(text, "evidence: available")) << text;
  // The listener rows: address, Recv-Q, Send-Q, SYN-RECV, high-water marks and drops.
  std::istringstream lines(text);
  std::string line, row;
  while (std::getline(lines, line))
    if (line.rfind("127.0.0.1:8003", 0) == 0) row = line;
  ASSERT_FALSE(row.empty()) << text;
  std::istringstream cells(row);
  std::vector<std::string> c;
  for (std::string w; cells >> w;) c.push_back(w);
  ASSERT_EQ(c.size(), 11u) << row;
  EXPECT_EQ(c[1], "4");   // Recv-Q
  EXPECT_EQ(c[2], "3");   // Send-Q
  EXPECT_EQ(c[3], "1");   // SYN-RECV
  EXPECT_EQ(c[4], "4");   // accept queue high-water mark
  EXPECT_EQ(c[6], "5");   // SYN drops
  EXPECT_EQ(c[7], "12");  // ACK drops
  EXPECT_EQ(c[9], "12");  // SYN-ACK retransmits
  EXPECT_TRUE(has(text, "pid 302 python3 /tmp/listen3.py")) << text;
  EXPECT_TRUE(has(text, "[::1]:8064")) << text;
  // Counter deltas.
  EXPECT_TRUE(has(text, "ListenOverflows")) << text;
  EXPECT_TRUE(has(text, "+17")) << text;
  EXPECT_TRUE(has(text, "+4")) << text;  // PassiveOpens
  // Findings, with their fixes.
  EXPECT_TRUE(has(text, "(ack_time_overflow)")) << text;
  EXPECT_TRUE(has(text, "(framework_default)")) << text;
  EXPECT_TRUE(has(text, "(backlog_clamped)")) << text;
  EXPECT_TRUE(has(text, "fix: ")) << text;
}

TEST(DoctorReport, TextFitsHundredColumns) {
  for (bool ev : {true, false}) {
    const auto o = acceptance_like(ev);
    const std::string text = render_text(o, diagnose(o));
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) EXPECT_LE(columns(line), 100u) << line;
  }
}

TEST(DoctorReport, TextWithoutEvidenceSaysSoOnce) {
  const auto o = acceptance_like(false);
  const std::string text = render_text(o, diagnose(o));
  EXPECT_TRUE(has(text, "evidence: missing: per-port kernel evidence unavailable")) << text;
  EXPECT_TRUE(has(text, "(unattributed_drops)")) << text;
  EXPECT_TRUE(has(text, "(evidence_missing)")) << text;
}

TEST(DoctorReport, JsonCarriesTheSameFieldsAndRoundTrips) {
  const auto o = acceptance_like(true);
  const auto fs = diagnose(o);
  const auto j = nlohmann::json::parse(to_json(o, fs).dump());
  EXPECT_EQ(j["netns"], "doctor-test");
  EXPECT_EQ(j["netns_inode"], 4026532999u);
  EXPECT_DOUBLE_EQ(j["window_s"].get<double>(), 5.0);
  EXPECT_EQ(j["knobs"]["net.core.somaxconn"], 64);
  EXPECT_EQ(j["counters_delta"]["TcpExt.ListenOverflows"], 17);
  EXPECT_EQ(j["counters_delta"]["Tcp.PassiveOpens"], 4);
  EXPECT_EQ(j["evidence"], "available");
  ASSERT_EQ(j["listeners"].size(), 3u);
  const auto& full = j["listeners"][1];
  EXPECT_EQ(full["address"], "127.0.0.1");
  EXPECT_EQ(full["port"], 8003);
  EXPECT_EQ(full["family"], "inet");
  EXPECT_EQ(full["recv_q"], 4);
  EXPECT_EQ(full["send_q"], 3);
  EXPECT_EQ(full["syn_recv"], 1);
  EXPECT_EQ(full["owners"][0]["pid"], 302);
  EXPECT_EQ(full["owners"][0]["comm"], "python3");
  EXPECT_EQ(full["owners"][0]["cmdline"], "python3 /tmp/listen3.py");
  EXPECT_EQ(full["evidence"]["ack_overflows"], 12);
  EXPECT_EQ(full["evidence"]["syn_drops_accept_queue"], 5);
  EXPECT_EQ(full["evidence"]["accept_queue_max"], 4);
  EXPECT_TRUE(j["listeners"][0]["evidence"].is_null());
  EXPECT_EQ(j["listeners"][2]["family"], "inet6");
  EXPECT_EQ(j["listeners"][2]["address"], "::1");
  ASSERT_EQ(j["findings"].size(), fs.size());
  for (size_t i = 0; i < fs.size(); ++i) {
    const auto& f = j["findings"][i];
    EXPECT_EQ(f["id"], fs[i].id);
    EXPECT_EQ(f["severity"], std::string(severity_name(fs[i].severity)));
    EXPECT_EQ(f["title"], fs[i].title);
    EXPECT_EQ(f["detail"], fs[i].detail);
    EXPECT_EQ(f["fix"], fs[i].fix);
    EXPECT_EQ(f["numbers"], fs[i].numbers);
    if (fs[i].listener) {
      EXPECT_EQ(f["listener"], fs[i].listener->to_string());
    } else {
      EXPECT_TRUE(f["listener"].is_null());
    }
  }
}

TEST(DoctorReport, JsonWithoutEvidence) {
  const auto o = acceptance_like(false);
  const auto j = to_json(o, diagnose(o));
  EXPECT_EQ(j["evidence"].get<std::string>().rfind("missing: per-port kernel evidence", 0), 0u);
  for (const auto& l : j["listeners"]) EXPECT_TRUE(l["evidence"].is_null());
}

}  // namespace
}  // namespace synq::doctor

// ---------------------------------------------------------------- docs/doctor.md examples
//
// docs/doctor.md shows, for each finding, what render_text prints for it. The
// examples are generated from the Observations below and checked here, so
// the docs cannot drift from the code: run with SYNQ_DOCTOR_WRITE_EXAMPLES=FILE
// to write them out after a wording change, then paste them into the docs.

namespace synq::doctor {
namespace {

NetnsSnapshot example_host(int64_t somaxconn = 4096) {
  NetnsSnapshot s;
  s.netns_inode = 4026531840;
  s.knobs = testing::stock_knobs(somaxconn);
  return s;
}

Listener example_listener(uint16_t port, uint32_t recv_q, uint32_t send_q, Owner owner) {
  Listener l;
  l.local = address(AF_INET, "0.0.0.0", port);
  l.cookie = port;
  l.recv_q = recv_q;
  l.send_q = send_q;
  l.owners = {std::move(owner)};
  return l;
}

Observation example_observation(NetnsSnapshot s, std::optional<ListenerEvidence> ev,
                                std::map<std::string, uint64_t> counter_deltas = {}) {
  Observation o;
  o.before = s;
  o.after = s;
  for (const auto& [name, d] : counter_deltas) {
    o.before.counters[name] = 1000;
    o.after.counters[name] = 1000 + d;
  }
  o.window_s = 10;
  if (ev) {
    ev->netns_inode = s.netns_inode;
    o.evidence = std::vector<ListenerEvidence>{*ev};
  } else {
    o.evidence_missing =
        "per-port kernel evidence unavailable: loading BPF needs root (CAP_BPF and CAP_PERFMON); "
        "queues, knobs and counters are still shown";
  }
  return o;
}

ListenerEvidence example_evidence(const Listener& l) {
  ListenerEvidence e;
  e.cookie = l.cookie;
  e.local = l.local;
  e.backlog = l.send_q;
  return e;
}

const Owner kWorker{2210, "python3", {"python3", "/srv/app/worker.py"}};

// One Observation per finding id, in the order of findings.hpp.
std::vector<std::pair<std::string, Observation>> doc_examples() {
  std::vector<std::pair<std::string, Observation>> out;
  {
    auto s = example_host(128);
    s.netns = "app";
    s.netns_inode = 4026532301;
    s.listeners = {example_listener(3000, 0, 128, {1812, "node", {"node", "/srv/app/index.js"}})};
    auto o = example_observation(s, example_evidence(s.listeners[0]));
    o.origin = example_host(4096);
    out.emplace_back("backlog_clamped", o);
    out.emplace_back("framework_default", o);
  }
  {
    auto s = example_host();
    s.listeners = {
        example_listener(8000, 0, 5, {977, "python3", {"python3", "-m", "http.server"}})};
    out.emplace_back("framework_default", example_observation(s, example_evidence(s.listeners[0])));
  }
  {
    auto s = example_host(262144);
    s.listeners = {example_listener(9092, 0, 0, {3100, "java", {"java", "-jar", "/srv/gw.jar"}})};
    out.emplace_back("framework_default", example_observation(s, example_evidence(s.listeners[0])));
  }
  {
    auto s = example_host();
    s.listeners = {example_listener(8080, 2, 128, kWorker)};
    auto e = example_evidence(s.listeners[0]);
    e.accept_queue_max = 129;
    out.emplace_back("accept_queue_full", example_observation(s, e));
  }
  {
    auto s = example_host();
    s.listeners = {example_listener(8080, 129, 128, kWorker)};
    auto e = example_evidence(s.listeners[0]);
    e.syn_drops_accept_queue = 42;
    e.ack_overflows = 17;
    e.synack_retransmits = 23;
    e.accept_queue_max = 129;
    const auto o = example_observation(s, e);
    out.emplace_back("accept_queue_full", o);
    out.emplace_back("syn_time_overflow", o);
    out.emplace_back("ack_time_overflow", o);
  }
  {
    auto s = example_host();
    s.knobs["net.ipv4.tcp_abort_on_overflow"] = 1;
    s.listeners = {example_listener(8080, 129, 128, kWorker)};
    auto e = example_evidence(s.listeners[0]);
    e.ack_overflows = 31;
    e.rst_on_overflow = 31;
    out.emplace_back("abort_on_overflow", example_observation(s, e));
  }
  {
    auto s = example_host();
    s.knobs["net.ipv4.tcp_syncookies"] = 0;
    s.listeners = {example_listener(8080, 0, 128, kWorker)};
    s.listeners[0].syn_recv = 129;
    auto e = example_evidence(s.listeners[0]);
    e.syn_drops_syn_queue = 340;
    e.syn_queue_max = 129;
    const auto o = example_observation(s, e);
    out.emplace_back("syn_queue_overflow", o);
    out.emplace_back("flood_log_once", o);
  }
  {
    auto s = example_host();
    s.knobs["net.ipv4.tcp_timestamps"] = 0;
    s.knobs["net.ipv4.tcp_max_syn_backlog"] = 65000;
    s.listeners = {example_listener(443, 0, 512, {1500, "nginx", {"nginx: worker process"}})};
    auto e = example_evidence(s.listeners[0]);
    e.cookies_sent = 1200;
    e.cookies_validated = 1130;
    const auto o = example_observation(s, e);
    out.emplace_back("syn_cookies", o);
    out.emplace_back("myth_max_syn_backlog", o);
  }
  {
    auto s = example_host();
    out.emplace_back("myth_backlog_drop",
                     example_observation(s, ListenerEvidence{}, {{"TcpExt.TCPBacklogDrop", 57}}));
  }
  {
    auto s = example_host();
    s.listeners = {example_listener(8080, 129, 128, kWorker)};
    const auto o = example_observation(
        s, std::nullopt, {{"TcpExt.ListenOverflows", 64}, {"TcpExt.ListenDrops", 64}});
    out.emplace_back("unattributed_drops", o);
    out.emplace_back("evidence_missing", o);
  }
  return out;
}

// What render_text prints for the finding `id` of `o` alone.
std::string finding_block(const Observation& o, const std::string& id) {
  std::vector<Finding> one;
  for (const auto& f : diagnose(o))
    if (f.id == id) one.push_back(f);
  if (one.size() != 1) return "";
  const std::string text = render_text(o, one);
  const std::string marker = "findings (1):\n";
  return text.substr(text.find(marker) + marker.size());
}

std::string read_docs() {
  std::ifstream in(std::string(SYNQ_SOURCE_DIR) + "/docs/doctor.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DoctorReport, EveryFindingHasAnExampleInTheDocs) {
  // The blocks: one per finding, then a full report with and without BPF.
  std::vector<std::pair<std::string, std::string>> blocks;
  for (const auto& [id, o] : doc_examples()) {
    const std::string block = finding_block(o, id);
    ASSERT_FALSE(block.empty()) << id << " does not fire exactly once on its example";
    blocks.emplace_back(id, block);
  }
  for (bool ev : {true, false}) {
    const auto o = acceptance_like(ev);
    blocks.emplace_back(ev ? "full report" : "full report without BPF",
                        render_text(o, diagnose(o)));
  }
  if (const char* path = std::getenv("SYNQ_DOCTOR_WRITE_EXAMPLES")) {
    std::ofstream out(path);
    for (const auto& [id, block] : blocks) out << "### " << id << "\n\n```\n" << block << "```\n\n";
  }
  std::set<std::string> covered;
  for (const auto& b : blocks) covered.insert(b.first);
  for (const char* id :
       {"backlog_clamped", "framework_default", "accept_queue_full", "syn_time_overflow",
        "ack_time_overflow", "abort_on_overflow", "syn_queue_overflow", "syn_cookies",
        "myth_max_syn_backlog", "myth_backlog_drop", "flood_log_once", "unattributed_drops",
        "evidence_missing"})
    EXPECT_TRUE(covered.count(id)) << "no docs example for " << id;
  const std::string docs = read_docs();
  ASSERT_FALSE(docs.empty()) << "docs/doctor.md: cannot read it";
  for (const auto& [id, block] : blocks)
    EXPECT_NE(docs.find(block), std::string::npos)
        << "docs/doctor.md lacks the current example for " << id << " (regenerate with "
        << "SYNQ_DOCTOR_WRITE_EXAMPLES=FILE):\n"
        << block;
}

}  // namespace
}  // namespace synq::doctor
