#include "doctor/client_view.hpp"

#include <fmt/format.h>

#include "synq/time.hpp"
#include "tcp/rto.hpp"

namespace synq::doctor {

namespace {

// Linux 6.x defaults, used when a knob is missing from the snapshot (a kernel
// without tcp_syn_linear_timeouts behaves as 0: plain doubling).
constexpr int kDefaultSynRetries = 6;
constexpr int kDefaultSynackRetries = 5;

int knob_or(const NetnsSnapshot& s, const char* name, int fallback) {
  const auto v = s.knob(name);
  return v ? static_cast<int>(*v) : fallback;
}

std::string seconds(double s) {
  // Whole seconds print bare; the schedules here are whole seconds anyway.
  return s == static_cast<double>(static_cast<int64_t>(s)) ? fmt::format("{}", int64_t(s))
                                                           : fmt::format("{:.1f}", s);
}

}  // namespace

RetrySchedule syn_retransmissions(int syn_retries, int linear_timeouts) {
  // The same steps as tcp::Connection::Impl::on_syn_timer / syn_timed_out
  // (Linux tcp_retransmit_timer → tcp_write_timeout →
  // retransmits_timed_out(sk, syn_retries, TCP_TIMEOUT_INIT)); measured on
  // 6.18 in docs/kernel-facts.md.
  RetrySchedule r;
  const Duration budget = tcp::model_timeout(syn_retries, tcp::kInitialRto);
  Duration now{0};
  int backoff = 0, retransmits = 0;
  // Bounded: the budget is finite and every step is at least 1 s.
  for (int guard = 0; guard < 1000; ++guard) {
    now += tcp::backed_off(tcp::kInitialRto, backoff);
    if (retransmits > 0 && now >= budget) break;
    r.retransmit_at_s.push_back(to_seconds(now));
    ++retransmits;
    if (retransmits > linear_timeouts) ++backoff;
  }
  r.gives_up_at_s = to_seconds(now);
  return r;
}

RetrySchedule synack_retransmissions(int synack_retries) {
  // reqsk_timer_handler (net/ipv4/inet_connection_sock.c): the n-th timer
  // fires min(TCP_TIMEOUT_INIT << n, TCP_RTO_MAX) after the previous one;
  // while num_timeout < max_syn_ack_retries it resends, otherwise the
  // request is dropped (no pruning assumed: that only shortens it).
  RetrySchedule r;
  Duration now{0};
  for (int n = 0; n < synack_retries; ++n) {
    now += tcp::backed_off(tcp::kInitialRto, n);
    r.retransmit_at_s.push_back(to_seconds(now));
  }
  now += tcp::backed_off(tcp::kInitialRto, synack_retries);
  r.gives_up_at_s = to_seconds(now);
  return r;
}

std::string format_times(const std::vector<double>& at_s, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < at_s.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += seconds(at_s[i]);
  }
  if (at_s.size() > max_items) out += ", …";
  return out + " s";
}

std::string syn_drop_experience(const NetnsSnapshot& host) {
  const int retries = knob_or(host, "net.ipv4.tcp_syn_retries", kDefaultSynRetries);
  const int linear = knob_or(host, "net.ipv4.tcp_syn_linear_timeouts", 0);
  const auto s = syn_retransmissions(retries, linear);
  return fmt::format(
      "A client whose SYN is dropped hears nothing and retransmits it; connect() then takes "
      "one of these steps (a Linux client with tcp_syn_retries={}, "
      "tcp_syn_linear_timeouts={}): {} after the first SYN, and fails with ETIMEDOUT at {} s "
      "if every SYN is dropped.",
      retries, linear, format_times(s.retransmit_at_s), seconds(s.gives_up_at_s));
}

std::string ack_drop_experience(const NetnsSnapshot& host) {
  const int retries = knob_or(host, "net.ipv4.tcp_synack_retries", kDefaultSynackRetries);
  const auto s = synack_retransmissions(retries);
  return fmt::format(
      "A client whose third ACK is dropped is already connected as far as it knows: connect() "
      "returned. The server keeps the request and retransmits its SYN-ACK at {} "
      "(tcp_synack_retries={}); each one draws a fresh ACK from the client, and the first that "
      "arrives when the accept queue has room completes the connection. Until then the "
      "client's first data is not answered (its own data retransmissions can complete it too). "
      "After {} s the request is gone and the client's next segment is answered with a reset.",
      format_times(s.retransmit_at_s), retries, seconds(s.gives_up_at_s));
}

std::string reset_experience() {
  return "The client's connect() had already succeeded when the RST came, so it sees "
         "ECONNRESET on its next read or write instead of a delay.";
}

nlohmann::json client_view_numbers(const NetnsSnapshot& host) {
  const int retries = knob_or(host, "net.ipv4.tcp_syn_retries", kDefaultSynRetries);
  const int linear = knob_or(host, "net.ipv4.tcp_syn_linear_timeouts", 0);
  const int synack = knob_or(host, "net.ipv4.tcp_synack_retries", kDefaultSynackRetries);
  const auto syn = syn_retransmissions(retries, linear);
  const auto sa = synack_retransmissions(synack);
  return {{"client_syn_retransmit_at_s", syn.retransmit_at_s},
          {"client_connect_timeout_s", syn.gives_up_at_s},
          {"synack_retransmit_at_s", sa.retransmit_at_s},
          {"request_expires_at_s", sa.gives_up_at_s}};
}

}  // namespace synq::doctor
