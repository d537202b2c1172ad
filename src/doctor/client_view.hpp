// What a client of this host experiences when the listener drops its SYN or
// its third ACK, or resets it, worked out from the knobs of the listener's
// namespace with the same Linux timer rules synq's tcp engine runs
// (tcp/rto.hpp: backed_off, model_timeout). A remote client uses its own
// tcp_syn_retries; the schedule shown is that of a Linux client with this
// host's values (clients on this host, in this namespace, are exactly that).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

/// Times, in seconds after the first transmission, of each retransmission,
/// and when the sender gives up.
struct RetrySchedule {
  std::vector<double> retransmit_at_s;
  double gives_up_at_s = 0;  // connect(): ETIMEDOUT; SYN-ACK: the request is removed
};

/// A Linux client's SYN retransmissions (tcp_retransmit_timer for SYN-SENT,
/// tcp_write_timeout): the initial RTO is 1 s (TCP_TIMEOUT_INIT); the first
/// `linear_timeouts` retransmissions keep it, later ones double it (at most
/// TCP_RTO_MAX 120 s); connect() fails with ETIMEDOUT at the first timer at or
/// after tcp_model_timeout(syn_retries) = (2^(syn_retries+1) − 1) s.
RetrySchedule syn_retransmissions(int syn_retries, int linear_timeouts);

/// The listener's SYN-ACK retransmissions for one request
/// (reqsk_timer_handler): timeout min(1 s << n, 120 s), `synack_retries`
/// resends, and the request goes at the timer after the last one.
RetrySchedule synack_retransmissions(int synack_retries);

/// "1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s" (at most `max_items`, then "…").
std::string format_times(const std::vector<double>& at_s, size_t max_items = 12);

/// The three experiences, in plain words with this host's numbers.
std::string syn_drop_experience(const NetnsSnapshot& host);
std::string ack_drop_experience(const NetnsSnapshot& host);
std::string reset_experience();

/// The schedules as numbers, for a finding's `numbers`.
nlohmann::json client_view_numbers(const NetnsSnapshot& host);

}  // namespace synq::doctor
