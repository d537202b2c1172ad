#include "lab/report/ladder.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/report/html.hpp"
#include "wire/wire.hpp"

namespace synq::lab {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// Geometry (SVG user units = CSS px at full width). Client notes sit left of
// the client line, decisions and server notes right of the server line, so
// the only text between the lines is the packet labels.
constexpr double kWidth = 800;
constexpr double kTimeX = 4;
constexpr double kClientX = 240;
constexpr double kServerX = 500;
constexpr double kTop = 44;
constexpr size_t kRightChars = 44;  // right-hand text wraps at this many characters
constexpr size_t kLeftChars = 30;

// One thing drawn at one row of the ladder. Rows follow the run's causal
// order (the timeline's), deliveries slotted in at their time.
struct Ev {
  enum Kind { send, deliver, decision, client_note, server_note } kind;
  double t = 0;
  size_t entry = 0;                // index in r.timeline (send, deliver, notes)
  const Decision* d = nullptr;     // decision
  std::vector<std::string> lines;  // wrapped text (decisions, notes)
  size_t bold = 0;                 // decisions: how many of `lines` are the bold heading
  double y = 0;
};

std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    pos = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

// What a reason key means, in the few words a ladder marker has room for.
// The key, not the decision and the segment's flags, says what happened: the
// same "drop of an ACK" is Linux's ignored third ACK (the request waits) but
// FreeBSD's refused connection (nothing is kept). Keys not listed read as
// their own words.
std::string key_words(const std::string& key) {
  static const std::map<std::string, std::string, std::less<>> words = {
      {"ack_to_listener", "no request for it"},
      {"rst_to_listener", "RST to the listener"},
      {"no_syn_to_listener", "no SYN"},
      {"syn_fin_to_listener", "SYN|FIN"},
      {"syn_queue_full", "SYN queue full"},
      {"accept_queue_full", "accept queue full"},
      {"listen_queue_full", "listen queue full"},
      {"third_ack_accept_queue_full", "accept queue full"},
      {"syn_backlog_quarter_left", "SYN backlog nearly full"},
      {"evicted", "evicted for a new SYN"},
      {"cookie_bad", "bad cookie"},
      {"cookie_options_disabled", "cookie options now off"},
      {"wrong_ack", "wrong ack number"},
      {"duplicate_syn_rate_limited", "duplicate SYN, rate limited"},
      {"out_of_window_rate_limited", "out of window, ACK rate limited"},
      {"rst_in_window", "RST in window"},
      {"rst_out_of_window", "RST out of window"},
      {"syn_in_window", "SYN in window"},
      {"synack_to_request", "SYN|ACK for a request"},
      {"no_ack_to_request", "no ACK"},
      {"defer_accept_drop", "TCP_DEFER_ACCEPT, bare ACK"},
      {"syncache_paused", "syncache paused"},
  };
  if (auto it = words.find(key); it != words.end()) return it->second;
  std::string w = key;
  std::replace(w.begin(), w.end(), '_', ' ');
  return w;
}

// What a decision means to someone reading the ladder: a label, the story's
// name for it (data-kind, as in story.cpp) and a colour.
struct Look {
  std::string label;
  const char* kind;
  const char* color;
};

Look look(const Decision& d) {
  const bool syn = (d.tcp_flags & (kSyn | kAck)) == kSyn;
  const bool ack = (d.tcp_flags & kAck) && !(d.tcp_flags & kSyn);
  const std::string& k = d.decision;
  const std::string why = d.reason_key.empty() ? std::string() : ": " + key_words(d.reason_key);
  if (k == "drop") {
    // Linux keeps the request and waits for a later ACK (or its timer).
    if (d.reason_key == "third_ack_accept_queue_full")
      return {"third ACK ignored" + why, "third_ack_ignored", "#c62828"};
    if (syn) return {"SYN dropped" + why, "syn_dropped", "#c62828"};
    // The models that make the socket at the ACK refuse it: nothing is kept.
    if (ack && d.reason_key == "accept_queue_full")
      return {"ACK refused" + why, "ack_refused", "#c62828"};
    if (ack) return {"ACK dropped" + why, "segment_dropped", "#c62828"};
    // A decision with no segment of its own is about a request (an eviction).
    if (d.tcp_flags == 0) return {"request dropped" + why, "segment_dropped", "#c62828"};
    return {"segment dropped" + why, "segment_dropped", "#c62828"};
  }
  if (k == "rst") return {"answered with RST" + why, "rst", "#6a1b9a"};
  if (k == "synack") return {"SYN-ACK retransmitted", "synack_retransmitted", "#e65100"};
  if (k == "expire") return {"request expired", "expire", "#424242"};
  if (k == "complete") return {"handshake complete", "complete", "#2e7d32"};
  if (k == "request") return {"request created", "request", "#2e7d32"};
  if (k == "cookie") return {"SYN cookie sent", "cookie", "#2e7d32"};
  if (k == "ack") return {"answered with ACK", "ack", "#555"};
  return {"ignored", "ignore", "#555"};
}

const char* packet_color(const TimelineEntry& e) {
  if (e.lost) return "#c62828";
  if (e.flags & kRst) return "#6a1b9a";
  if (e.flags & kSyn) return (e.flags & kAck) ? "#00838f" : "#1565c0";
  if (e.flags & kFin) return "#795548";
  if (e.len > 0) return "#222";
  return "#666";
}

// Vertical room (above, below) a row needs around its y for its own text.
std::pair<double, double> extent(const Ev& e) {
  switch (e.kind) {
    case Ev::send:
      return {17, 3};  // the label sits above the arrow's start
    case Ev::deliver:
      return {4, 4};
    case Ev::decision:
    case Ev::server_note:
    case Ev::client_note:
      return {10, 4 + 12.0 * static_cast<double>(e.lines.size() - 1)};
  }
  return {10, 4};
}

// Extra room for the time between two rows: the axis is compressed (a SYN
// and its SYN-ACK 2 ms apart, a retransmission 60 s later), growing with the
// logarithm of the gap so a long wait still looks long.
double time_room(double dt) {
  if (dt <= 0) return 0;
  return std::clamp(4 + 6 * std::log10(dt / 1e-4), 2.0, 40.0);
}

std::string time_text(double t, bool micro) {
  return micro ? fmt::format("{:.6f}", t) : fmt::format("{:.3f}", t);
}

// The text of a client note without its "client N (port P)" prefix: the
// ladder already says whose it is.
std::string client_note_text(const std::string& text) {
  const auto close = text.find(')');
  if (text.rfind("client ", 0) != 0 || close == std::string::npos) return text;
  std::string rest = text.substr(close + 1);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.erase(0, 1);
  return rest;
}

std::string server_note_text(const std::string& text) {
  if (text.rfind("server ", 0) == 0) return text.substr(7);
  return text;
}

}  // namespace

bool ladder_fits(const LabResult& r) {
  if (r.clients.empty() || r.clients.size() > static_cast<size_t>(kLadderMaxClients)) return false;
  return std::any_of(r.timeline.begin(), r.timeline.end(),
                     [](const TimelineEntry& e) { return e.kind == TimelineEntry::Kind::packet; });
}

std::string packet_label(const TimelineEntry& e, const Isns& isn) {
  const bool c2s = e.direction == "client>server";
  const bool have_own = c2s ? isn.have_client : isn.have_server;
  const bool have_peer = c2s ? isn.have_server : isn.have_client;
  const uint32_t own = have_own ? (c2s ? isn.client : isn.server) : 0;
  const uint32_t peer = have_peer ? (c2s ? isn.server : isn.client) : 0;
  const uint32_t seq = e.seq - own;  // modulo 2^32, like tcpdump's relative numbers
  std::string s = "[" + wire::tcp_flags_text(e.flags) + "]";
  std::string sep = " ";
  if (e.len > 0) {
    s += fmt::format(" seq {}:{}", seq, seq + e.len);
    sep = ", ";
  } else if (e.flags & (kSyn | kFin | kRst)) {
    s += fmt::format(" seq {}", seq);
    sep = ", ";
  }
  if (e.flags & kAck) {
    s += fmt::format("{}ack {}", sep, e.ack - peer);
    sep = ", ";
  }
  if (e.len > 0) s += fmt::format("{}length {}", sep, e.len);
  return s;
}

size_t notable_decisions(const LabResult& r, int client) {
  return static_cast<size_t>(std::count_if(r.decisions.begin(), r.decisions.end(), [&](auto& d) {
    return d.client == client && d.decision != "request" && d.decision != "complete";
  }));
}

std::string ladder_svg(const LabResult& r, int client) {
  // The client's decisions in order: the k-th decision line of the timeline
  // for this client is its k-th Decision (on_decision records both at once).
  std::vector<const Decision*> decisions;
  for (const auto& d : r.decisions)
    if (d.client == client) decisions.push_back(&d);
  size_t next_decision = 0;

  Isns isn;
  std::vector<Ev> evs;
  // Deliveries wait here until the timeline reaches their time.
  using Pending = std::pair<double, size_t>;  // (delivered at, timeline index)
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> in_flight;
  auto deliver_until = [&](double t) {
    while (!in_flight.empty() && in_flight.top().first <= t) {
      evs.push_back(
          {Ev::deliver, in_flight.top().first, in_flight.top().second, nullptr, {}, 0, 0});
      in_flight.pop();
    }
  };
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const TimelineEntry& e = r.timeline[i];
    if (e.client != client) continue;
    deliver_until(e.t);
    switch (e.kind) {
      case TimelineEntry::Kind::packet: {
        const bool c2s = e.direction == "client>server";
        // The first SYN each way carries that side's ISN.
        if ((e.flags & kSyn) && c2s && !isn.have_client) {
          isn.have_client = true;
          isn.client = e.seq;
        }
        if ((e.flags & kSyn) && !c2s && !isn.have_server) {
          isn.have_server = true;
          isn.server = e.seq;
        }
        evs.push_back({Ev::send, e.t, i, nullptr, {}, 0, 0});
        if (!e.lost && e.t_delivered >= 0) in_flight.push({e.t_delivered, i});
        break;
      }
      case TimelineEntry::Kind::decision:
        if (next_decision < decisions.size()) {
          const Decision* d = decisions[next_decision++];
          std::string reason = d->reason;
          reason +=
              fmt::format(" · queues after: SYN {}, accept {}", d->syn_queue, d->accept_queue);
          // The first line (label and counter) is bold: it wraps sooner.
          std::vector<std::string> lines =
              wrap(d->counter.empty() ? look(*d).label
                                      : fmt::format("{} [{}]", look(*d).label, d->counter),
                   kRightChars - 4);
          const size_t head = lines.size();
          for (auto& l : wrap(reason, kRightChars + 6)) lines.push_back(std::move(l));
          evs.push_back({Ev::decision, d->t, i, d, std::move(lines), head, 0});
        }
        break;
      case TimelineEntry::Kind::client:
        evs.push_back(
            {Ev::client_note, e.t, i, nullptr, wrap(client_note_text(e.text), kLeftChars), 0, 0});
        break;
      case TimelineEntry::Kind::server:
        evs.push_back(
            {Ev::server_note, e.t, i, nullptr, wrap(server_note_text(e.text), kRightChars), 0, 0});
        break;
      case TimelineEntry::Kind::snapshot:
        break;
    }
  }
  deliver_until(INFINITY);

  // Time labels need µs when two rows are less than a millisecond apart.
  bool micro = false;
  for (size_t i = 1; i < evs.size(); ++i) {
    const double dt = evs[i].t - evs[i - 1].t;
    if (dt > 0 && dt < 1e-3 - 1e-9) micro = true;
  }
  double y = kTop;
  for (size_t i = 0; i < evs.size(); ++i) {
    if (i == 0) {
      y += extent(evs[0]).first;
    } else {
      const double dt = evs[i].t - evs[i - 1].t;
      double gap = std::max(extent(evs[i - 1]).second + extent(evs[i]).first, 8.0);
      if (dt > 0) gap = std::max(gap, 13.0) + time_room(dt);  // room for a time label
      y += gap;
    }
    evs[i].y = y;
  }
  const double height = y + 24;

  // Where each packet's arrow starts and ends.
  std::vector<double> sent_y(r.timeline.size(), -1), delivered_y(r.timeline.size(), -1);
  for (const auto& e : evs) {
    if (e.kind == Ev::send) sent_y[e.entry] = e.y;
    if (e.kind == Ev::deliver) delivered_y[e.entry] = e.y;
  }

  const ClientResult* cr = nullptr;
  for (const auto& c : r.clients)
    if (c.id == client) cr = &c;
  std::string out = fmt::format(
      "<svg class=\"ladder\" data-client=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{}\" height=\"{:.0f}\" viewBox=\"0 0 {} {:.0f}\" role=\"img\" "
      "aria-label=\"client {} packet by packet\">\n",
      client, kWidth, height, kWidth, height, client);
  out +=
      "<style>text{font:11px system-ui,sans-serif}.mono{font:10px ui-monospace,monospace}"
      ".lbl{font:11px ui-monospace,monospace;paint-order:stroke;stroke:#fff;stroke-width:3px;"
      "stroke-linejoin:round}.small{font-size:10px;fill:#555}.hd{font-weight:600}</style>\n";
  // Lifelines and their heads.
  out += fmt::format(
      "<text class=\"hd\" x=\"{0}\" y=\"16\" text-anchor=\"middle\">client {1}</text>"
      "<text class=\"small\" x=\"{0}\" y=\"30\" text-anchor=\"middle\">10.0.0.2:{2}</text>\n"
      "<text class=\"hd\" x=\"{3}\" y=\"16\" text-anchor=\"middle\">server ({4})</text>"
      "<text class=\"small\" x=\"{3}\" y=\"30\" text-anchor=\"middle\">10.0.0.1:80, "
      "listen(fd, {5})</text>\n",
      kClientX, client, cr ? cr->port : 0, kServerX, html::escape(r.scenario.model),
      r.scenario.backlog);
  out += fmt::format("<text class=\"small\" x=\"{}\" y=\"30\">time (s)</text>\n", kTimeX);
  for (double x : {kClientX, kServerX})
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2:.1f}\" stroke=\"#999\" "
        "stroke-width=\"2\"/>\n",
        x, kTop - 6, height - 8);

  double last_label_t = -1;
  for (size_t i = 0; i < evs.size(); ++i) {
    const Ev& e = evs[i];
    // The time, once per distinct time; a break mark on both lines where
    // the compressed axis skips a long wait.
    if (e.t != last_label_t) {
      out += fmt::format("<text class=\"mono\" x=\"{}\" y=\"{:.1f}\" fill=\"#333\">{}</text>\n",
                         kTimeX, e.y + 4, time_text(e.t, micro));
      if (i > 0 && e.t - evs[i - 1].t >= 0.1) {
        const double by = (evs[i - 1].y + extent(evs[i - 1]).second + e.y - extent(e).first) / 2;
        for (double x : {kClientX, kServerX})
          out += fmt::format(
              "<g class=\"break\"><rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"10\" height=\"6\" "
              "fill=\"#fff\"/><path d=\"M{2:.1f} {3:.1f} l10 -3 M{2:.1f} {4:.1f} l10 -3\" "
              "stroke=\"#999\"/></g>\n",
              x - 5, by - 3, x - 5, by - 1, by + 4);
      }
      last_label_t = e.t;
    }
    switch (e.kind) {
      case Ev::send: {
        const TimelineEntry& p = r.timeline[e.entry];
        const bool c2s = p.direction == "client>server";
        const double x1 = c2s ? kClientX : kServerX, x2f = c2s ? kServerX : kClientX;
        double x2 = x2f, y2 = delivered_y[e.entry];
        const bool arrived = y2 >= 0;
        if (!arrived) {  // lost (or still in flight at the end): stop midway
          x2 = (x1 + x2f) / 2;
          y2 = e.y + 10;
        }
        const char* color = packet_color(p);
        const std::string label = packet_label(p, isn) + (p.lost ? " (lost)" : "");
        out += fmt::format(
            "<g class=\"pkt\" data-flags=\"{}\" data-dir=\"{}\" data-lost=\"{}\" "
            "data-t=\"{:.6f}\"><title>{:.6f}{} {}{}</title>\n",
            html::escape(wire::tcp_flags_text(p.flags)), c2s ? "c2s" : "s2c", p.lost ? 1 : 0, p.t,
            p.t, arrived ? fmt::format(" → {:.6f}", p.t_delivered) : std::string(),
            html::escape(p.text), p.lost ? " (lost by the link)" : "");
        out += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
            "stroke-width=\"1.5\"{}/>\n",
            x1, e.y, x2, y2, color, arrived ? "" : " stroke-dasharray=\"4 3\"");
        if (arrived) {
          // The arrowhead, along the line.
          const double dx = x2 - x1, dy = y2 - e.y, len = std::hypot(dx, dy);
          const double ux = dx / len, uy = dy / len;
          out += fmt::format(
              "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"{}\"/>\n", x2,
              y2, x2 - 9 * ux - 3.5 * uy, y2 - 9 * uy + 3.5 * ux, x2 - 9 * ux + 3.5 * uy,
              y2 - 9 * uy - 3.5 * ux, color);
        } else if (p.lost) {
          out += fmt::format(
              "<path d=\"M{0:.1f} {1:.1f} l10 10 M{0:.1f} {2:.1f} l10 -10\" stroke=\"#c62828\" "
              "stroke-width=\"2.5\"/>\n",
              x2 - 5, y2 - 5, y2 + 5);
        }
        out += fmt::format(
            "<text class=\"lbl\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"{}\">{}</text>"
            "</g>\n",
            c2s ? x1 + 6 : x1 - 6, e.y - 4, c2s ? "start" : "end", color, html::escape(label));
        break;
      }
      case Ev::deliver:
        break;  // drawn with its send
      case Ev::decision: {
        const Look lk = look(*e.d);
        out += fmt::format(
            "<g class=\"decision\" data-decision=\"{}\" data-kind=\"{}\" data-counter=\"{}\" "
            "data-reason=\"{}\"><title>{:.6f} listener: {} for {}: {}{}</title>\n",
            html::escape(e.d->decision), lk.kind, html::escape(e.d->counter),
            html::escape(e.d->reason_key), e.d->t, html::escape(e.d->decision),
            html::escape(e.d->peer), html::escape(e.d->reason),
            e.d->counter.empty() ? "" : " [" + html::escape(e.d->counter) + "]");
        const std::string kind = lk.kind;
        if (kind == "syn_dropped" || kind == "third_ack_ignored" || kind == "ack_refused" ||
            kind == "segment_dropped")
          out += fmt::format(
              "<path d=\"M{0:.1f} {1:.1f} l10 10 M{0:.1f} {2:.1f} l10 -10\" stroke=\"{3}\" "
              "stroke-width=\"3\"/>\n",
              kServerX - 5, e.y - 5, e.y + 5, lk.color);
        else if (kind == "rst")
          out += fmt::format(
              "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n",
              kServerX - 5, e.y - 5, lk.color);
        else
          out +=
              fmt::format("<circle cx=\"{}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#fff\"/>\n",
                          kServerX, e.y, lk.color);
        for (size_t l = 0; l < e.lines.size(); ++l)
          out += fmt::format("<text x=\"{}\" y=\"{:.1f}\"{}>{}</text>\n", kServerX + 12,
                             e.y + 4 + 12.0 * static_cast<double>(l),
                             l < e.bold ? fmt::format(" fill=\"{}\" class=\"hd\"", lk.color)
                                        : std::string(" class=\"small\""),
                             html::escape(e.lines[l]));
        out += "</g>\n";
        break;
      }
      case Ev::client_note:
      case Ev::server_note: {
        const bool left = e.kind == Ev::client_note;
        const double x = left ? kClientX : kServerX;
        out += fmt::format(
            "<g class=\"note\"><circle cx=\"{}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"#1565c0\"/>\n", x,
            e.y);
        for (size_t l = 0; l < e.lines.size(); ++l)
          out += fmt::format(
              "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"#1565c0\">{}</text>\n",
              left ? x - 10 : x + 12, e.y + 4 + 12.0 * static_cast<double>(l),
              left ? "end" : "start", html::escape(e.lines[l]));
        out += "</g>\n";
        break;
      }
    }
  }
  out += "</svg>\n";
  return out;
}

}  // namespace synq::lab
