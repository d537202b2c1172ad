// find_story: the moments a person wants pointed out, found from the
// listener's decisions and the packet lines (both structured), never from
// the printed text: a decision is matched by its reason key
// (include/synq/listen_reason.hpp), never by its words, so every model's
// decisions tell the same story. Each kind is named in docs/lab.md; a test
// checks the `seeds` scenario tells each of them.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "lab/lab_run.hpp"

namespace synq::lab {

namespace {

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr size_t kPerKindLimit = 40;

bool contains(const std::string& s, const char* what) {
  return s.find(what) != std::string::npos;
}

struct StoryBuilder {
  std::vector<StoryEvent> out;
  std::map<std::string, size_t> per_kind;

  void add(double t, const char* kind, int client, std::string text) {
    if (per_kind[kind]++ >= kPerKindLimit) return;
    out.push_back({t, kind, client, std::move(text)});
  }
};

// Per client, what the story has seen so far.
struct ClientView {
  bool ignored = false;        // a third ACK of it was ignored
  bool retransmitted = false;  // the listener sent it a SYN-ACK again
  bool completed = false;
  uint32_t syn_seq = 0;
  bool saw_syn = false;
  uint32_t last_ack = 0;
  bool saw_ack = false;
};

}  // namespace

std::vector<StoryEvent> find_story(const LabResult& r) {
  StoryBuilder b;
  std::map<int, ClientView> view;
  const uint32_t B = r.backlog_clamped;
  // Merge decisions and packet lines by time (stable: decisions first).
  size_t di = 0, ti = 0;
  const auto& ds = r.decisions;
  const auto& tl = r.timeline;
  while (di < ds.size() || ti < tl.size()) {
    const bool take_decision = ti >= tl.size() || (di < ds.size() && ds[di].t <= tl[ti].t);
    if (take_decision) {
      const Decision& d = ds[di++];
      if (d.client < 0) continue;
      ClientView& v = view[d.client];
      const int c = d.client;
      const bool syn = (d.tcp_flags & (kSyn | kAck)) == kSyn;
      if (d.decision == "complete") {
        if (v.ignored)
          b.add(d.t, "completed_after_accept", c,
                fmt::format("client {}: its ACK now finds a free slot (accept() made room): the "
                            "handshake completes, {} queued",
                            c, d.accept_queue));
        else
          b.add(d.t, "handshake_complete", c,
                fmt::format("client {}: handshake complete, the child joins the accept queue "
                            "({} queued)",
                            c, d.accept_queue));
        v.completed = true;
      } else if (d.decision == "drop" && syn && d.reason_key == "accept_queue_full") {
        b.add(d.t, "syn_dropped_accept_queue_full", c,
              fmt::format("client {}: SYN dropped, the accept queue is full ({} queued, B = {})", c,
                          d.accept_queue, B));
      } else if ((d.decision == "drop" || d.decision == "rst") && !syn &&
                 d.reason_key == "accept_queue_full") {
        // The models that make the socket at the ACK (freebsd; linux with a
        // cookie or tcp_abort_on_overflow) refuse the connection there: the
        // server keeps nothing of it.
        b.add(d.t, "ack_refused_accept_queue_full", c,
              fmt::format("client {}: its ACK finds the accept queue full ({} queued, B = {}): no "
                          "connection is made and nothing is kept{}",
                          c, d.accept_queue, B,
                          d.decision == "rst" ? "; the server answers RST" : ""));
      } else if (d.decision == "drop" && syn) {
        b.add(d.t, "syn_dropped_queue_limit", c,
              fmt::format("client {}: SYN dropped silently: {} half-open + {} queued = {} "
                          "connections already ({})",
                          c, d.syn_queue, d.accept_queue, d.syn_queue + d.accept_queue, d.reason));
      } else if (d.decision == "drop" && d.reason_key == "third_ack_accept_queue_full") {
        if (!v.ignored) {  // the first time per client; the repeats add nothing new
          b.add(d.t, "third_ack_ignored", c,
                fmt::format("client {}: its third ACK meets a full accept queue and is ignored "
                            "(the request stays in the SYN queue; the client thinks it is "
                            "connected)",
                            c));
        }
        v.ignored = true;
      } else if (d.decision == "synack") {
        v.retransmitted = true;
        b.add(d.t, "synack_retransmitted", c,
              fmt::format("client {}: the listener retransmits its SYN-ACK", c));
      } else if (d.decision == "expire") {
        b.add(d.t, "request_expired", c,
              fmt::format("client {}: the request expires (SYN-ACK retries exhausted); the "
                          "server forgets it",
                          c));
      }
      continue;
    }
    const TimelineEntry& e = tl[ti++];
    if (e.kind == TimelineEntry::Kind::server && contains(e.text, "accept() once")) {
      b.add(e.t, "accept_called", e.client, e.text);
      continue;
    }
    if (e.kind != TimelineEntry::Kind::packet || e.client < 0 || e.lost) continue;
    ClientView& v = view[e.client];
    const int c = e.client;
    if (e.direction == "client>server") {
      if ((e.flags & (kSyn | kAck)) == kSyn) {
        if (v.saw_syn && e.seq == v.syn_seq)
          b.add(e.t, "client_syn_retransmitted", c,
                fmt::format("client {}: no answer, it retransmits its SYN", c));
        v.saw_syn = true;
        v.syn_seq = e.seq;
      } else if (e.flags == kAck && e.len == 0) {
        if (v.saw_ack && e.ack == v.last_ack && v.retransmitted && !v.completed)
          b.add(e.t, "duplicate_ack", c,
                fmt::format("client {}: answers the retransmitted SYN-ACK with a duplicate ACK "
                            "(ack {})",
                            c, e.ack));
        v.saw_ack = true;
        v.last_ack = e.ack;
      } else if (e.flags & kAck) {
        v.saw_ack = true;
        v.last_ack = e.ack;
      }
    } else if (e.flags & kRst) {
      b.add(e.t, "client_reset", c,
            fmt::format("client {}: the server answers its segment with RST: it gets "
                        "ECONNRESET",
                        c));
    }
  }
  std::stable_sort(b.out.begin(), b.out.end(),
                   [](const StoryEvent& x, const StoryEvent& y) { return x.t < y.t; });
  return b.out;
}

}  // namespace synq::lab
